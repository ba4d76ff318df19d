"""Forms of the customer request page's actions: reply, answer a question, cancel."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage
from wtforms import MultipleFileField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.web.forms import PortalForm

TOO_LONG = _l("At most %(max)d characters.")


class ReplyForm(PortalForm):
    body = TextAreaField(
        _l("Your message"),
        validators=[
            DataRequired(message=_l("Write a message.")),
            Length(max=20000, message=TOO_LONG),
        ],
    )
    attachments = MultipleFileField(_l("Attachments"))

    def files(self) -> list[FileStorage]:
        return [
            f for f in (self.attachments.data or []) if isinstance(f, FileStorage) and f.filename
        ]


class AnswerForm(PortalForm):
    answer = TextAreaField(
        _l("Your answer"),
        validators=[
            DataRequired(message=_l("Write your answer.")),
            Length(max=20000, message=TOO_LONG),
        ],
    )


class CancelForm(PortalForm):
    reason = TextAreaField(
        _l("Why (optional)"), validators=[Optional(), Length(max=2000, message=TOO_LONG)]
    )
