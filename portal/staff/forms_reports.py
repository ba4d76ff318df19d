"""The form of the reports area: the review meeting (服务复盘会) recorded against a monthly
report."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.services.reports.monthly import MAX_TEXT
from portal.web.delivery_forms import optional_int
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
    # a decision that becomes an improvement measure (optional: all three, or none)
    measure = TextAreaField(
        _l("Improvement measure from a decision"),
        validators=[Optional(), Length(max=MAX_TEXT, message=TOO_LONG)],
    )
    measure_owner = SelectField(_l("Owner"), coerce=optional_int, validate_choice=False)
    measure_deadline = DateField(_l("Deadline"), validators=[Optional()])
