"""The form of the reports area: the review meeting (服务复盘会) recorded against a monthly
report."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, TextAreaField
from wtforms.validators import InputRequired, Length

from portal.services.reports.monthly import MAX_TEXT
from portal.web.forms import TOO_LONG, PortalForm


class ReviewMeetingForm(PortalForm):
    held_on = DateField(_l("Meeting date"), validators=[InputRequired(message=_l("Give a date."))])
    attendees = TextAreaField(
        _l("Attendees"),
        validators=[
            InputRequired(message=_l("Name who attended.")),
            Length(max=MAX_TEXT, message=TOO_LONG),
        ],
    )
    decisions = TextAreaField(
        _l("Decisions"),
        validators=[
            InputRequired(message=_l("Write what was decided.")),
            Length(max=MAX_TEXT, message=TOO_LONG),
        ],
    )
