"""Forms of the staff request page's delivery area: deliver, countersign, record a feedback
given by phone (or another channel), add an improvement measure; and the measures list's
status change."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    HiddenField,
    MultipleFileField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.domain import feedback as feedback_rules
from portal.presentation.labels import CHANNEL_LABELS, MEASURE_STATUS_LABELS
from portal.web.delivery_forms import FeedbackForm, optional_int, typed_name_field
from portal.web.forms import TOO_LONG, PortalForm

# a measure's owner and deadline are reported under these keys (portal.services.feedback)
MEASURE_PROBLEM_FIELDS = {"measure_owner": "owner", "measure_deadline": "deadline"}


def owner_choices(owners: list[tuple[int, str]]) -> list[SelectChoice]:
    """The owner select of a measure: nobody chosen yet, then the staff who may own it."""
    return [SelectChoice("", _l("Choose…")), *(SelectChoice(str(i), name) for i, name in owners)]


class DeliverForm(PortalForm):
    service_item = StringField(
        _l("Service item"),
        validators=[
            DataRequired(message=_l("Name the service item.")),
            Length(max=200, message=TOO_LONG),
        ],
    )
    items = TextAreaField(
        _l("Deliverables"),
        description=_l("One per line, e.g. “Fault cause analysis report”."),
        validators=[DataRequired(message=_l("List at least one deliverable, one per line."))],
    )
    criteria = TextAreaField(
        _l("Acceptance criteria"),
        description=_l("One per line; the customer checks each one."),
        validators=[
            DataRequired(message=_l("List at least one acceptance criterion, one per line."))
        ],
    )
    demo_note = TextAreaField(
        _l("Demo note (optional)"),
        validators=[Optional(), Length(max=5000, message=TOO_LONG)],
    )
    files = MultipleFileField(_l("Files"))

    def uploads(self) -> list:
        return [f for f in (self.files.data or []) if getattr(f, "filename", "")]


class SignForm(PortalForm):
    typed_name = typed_name_field(_l("Your name, typed"))
    signature = HiddenField()


class RecordFeedbackForm(FeedbackForm):
    """The feedback form as an agent records it from a call: how it was given, the scores and
    suggestions, and optionally one improvement measure."""

    problem_fields = {**FeedbackForm.problem_fields, **MEASURE_PROBLEM_FIELDS}

    channel = SelectField(
        _l("How the rating was given"),
        choices=[SelectChoice(c, CHANNEL_LABELS[c]) for c in feedback_rules.RECORDED_CHANNELS],
        default="phone",
    )
    measure = TextAreaField(_l("Improvement measure (optional)"), validators=[Optional()])
    owner = SelectField(_l("Owner"), coerce=optional_int, validate_choice=False)
    deadline = DateField(_l("Deadline"), validators=[Optional()])

    def measure_draft(self) -> dict | None:
        """The measure as portal.services.feedback.give takes it; None when nothing of it was
        filled in."""
        if not ((self.measure.data or "").strip() or self.owner.data or self.deadline.data):
            return None
        return {
            "measure": self.measure.data,
            "owner_id": self.owner.data,
            "deadline": self.deadline.data,
        }


class MeasureForm(PortalForm):
    problem_fields = MEASURE_PROBLEM_FIELDS

    measure = TextAreaField(
        _l("Improvement measure"),
        validators=[DataRequired(message=_l("Describe the measure."))],
    )
    owner = SelectField(_l("Owner"), coerce=optional_int, validate_choice=False)
    deadline = DateField(_l("Deadline"), validators=[InputRequired(message=_l("Give a deadline."))])


class MeasureStatusForm(PortalForm):
    measure_id = HiddenField(validators=[DataRequired()])
    next = HiddenField()  # the list to come back to (a plain POST), a same-site path
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice(k, v) for k, v in MEASURE_STATUS_LABELS.items()],
    )
