"""Forms of the customer request page's actions: reply, answer a question, cancel."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import MultipleFileField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.web.forms import TOO_LONG, PortalForm, WithFiles, message_body


class ReplyForm(WithFiles, PortalForm):
    body = message_body(_l("Your message"))
    attachments = MultipleFileField(_l("Attachments"))


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
