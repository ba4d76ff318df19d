"""Forms of the staff request page's workflow panels (classify, assign, confirm, collaborators,
steps, handling record, asking the customer, the composer)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

from portal.domain.vocabulary import Priority, RequestType
from portal.presentation.labels import IMPACT_LABELS, LEVEL_LABELS, PRIORITY_LABELS, TYPE_LABELS
from portal.web.forms import TOO_LONG, PortalForm, WithFiles, category_select, message_body

LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["PORTAL_TIMEZONE"])


def to_utc(local: datetime | None) -> datetime | None:
    """A datetime-local value (the desk's time zone) as an aware UTC datetime."""
    if local is None:
        return None
    return local.replace(tzinfo=_zone()).astimezone(UTC)


def to_local(value: datetime | None) -> datetime | None:
    """An aware UTC datetime as the naive desk-local value a datetime-local input shows."""
    if value is None:
        return None
    return value.astimezone(_zone()).replace(tzinfo=None, second=0, microsecond=0)


def _levels():
    return [SelectChoice(k, v) for k, v in LEVEL_LABELS.items()]


class ClassifyForm(PortalForm):
    action = HiddenField(validators=[AnyOf(["classify", "reclassify"])])
    type = SelectField(
        _l("Type"), choices=[SelectChoice(t.value, TYPE_LABELS[t]) for t in RequestType]
    )
    category = category_select(_l("Category"))
    impact_scope = RadioField(
        _l("Impact scope"),
        choices=[SelectChoice(k, v) for k, v in IMPACT_LABELS.items()],
        validators=[InputRequired(message=_l("Choose the impact scope."))],
    )
    urgency = SelectField(_l("Urgency"), choices=_levels())
    business_importance = SelectField(_l("Business importance"), choices=_levels())
    priority = SelectField(
        _l("Priority"),
        choices=[SelectChoice("", _l("As suggested"))]
        + [SelectChoice(p.value, PRIORITY_LABELS[p]) for p in Priority],
        default="",
    )
    confirmed_details = TextAreaField(
        _l("Confirmed with the customer"),
        validators=[
            DataRequired(message=_l("Record what was confirmed with the customer.")),
            Length(max=5000, message=TOO_LONG),
        ],
    )
    expected_completion = DateTimeLocalField(
        _l("Expected completion"), format=LOCAL_FORMATS, validators=[Optional()]
    )


class AssignForm(PortalForm):
    action = HiddenField(validators=[AnyOf(["assign", "reassign"])])
    handler_id = IntegerField(
        _l("Handler"), validators=[InputRequired(message=_l("Choose a handler."))]
    )
    reason = TextAreaField(
        _l("Reason (optional)"), validators=[Optional(), Length(max=2000, message=TOO_LONG)]
    )
    briefing = TextAreaField(
        _l("Briefing for the handler (optional)"),
        validators=[Optional(), Length(max=5000, message=TOO_LONG)],
    )


class ConfirmForm(PortalForm):
    can_start_at = DateTimeLocalField(
        _l("I can start at"),
        format=LOCAL_FORMATS,
        validators=[InputRequired(message=_l("Say when you can start."))],
    )


class CollaboratorForm(PortalForm):
    person_id = SelectField(
        _l("Collaborator"),
        coerce=int,
        validators=[InputRequired(message=_l("Choose a collaborator."))],
    )
    department_id = SelectField(_l("Department"), coerce=lambda v: int(v) if v else None)
    interface_person = StringField(
        _l("Interface person"),
        validators=[
            DataRequired(message=_l("Name the interface person.")),
            Length(max=100, message=TOO_LONG),
        ],
    )
    scope = TextAreaField(
        _l("What they collaborate on"),
        validators=[
            DataRequired(message=_l("Say what they collaborate on.")),
            Length(max=2000, message=TOO_LONG),
        ],
    )


class StepForm(WithFiles, PortalForm):
    occurred_at = DateTimeLocalField(
        _l("Time"),
        format=LOCAL_FORMATS,
        validators=[InputRequired(message=_l("Give the time of the step."))],
    )
    operation = TextAreaField(
        _l("Operation and result"),
        validators=[
            DataRequired(message=_l("Describe the operation.")),
            Length(max=5000, message=TOO_LONG),
        ],
    )
    hours = DecimalField(
        _l("Hours"),
        places=2,
        validators=[
            InputRequired(message=_l("Give the hours this step took.")),
            NumberRange(min=0, max=24, message=_l("Hours per step are between 0 and 24.")),
        ],
    )
    visible_to_customer = BooleanField(_l("The customer sees this step"), default=True)
    attachments = MultipleFileField(_l("Files"))


class RecordForm(PortalForm):
    problems = TextAreaField(
        _l("Problems met"), validators=[Optional(), Length(max=5000, message=TOO_LONG)]
    )
    workaround = TextAreaField(
        _l("Temporary workaround"), validators=[Optional(), Length(max=5000, message=TOO_LONG)]
    )
    final_result = TextAreaField(
        _l("Final result"), validators=[Optional(), Length(max=5000, message=TOO_LONG)]
    )


class AskForm(PortalForm):
    what = TextAreaField(
        _l("What the customer should provide"),
        validators=[
            DataRequired(message=_l("Say what the customer should provide.")),
            Length(max=5000, message=TOO_LONG),
        ],
    )
    needed_by = DateTimeLocalField(_l("Needed by"), format=LOCAL_FORMATS, validators=[Optional()])


class MessageForm(WithFiles, PortalForm):
    kind = RadioField(
        _l("Kind"),
        choices=[
            SelectChoice("reply", _l("Public reply (the customer sees it)")),
            SelectChoice("note", _l("Internal note (staff only)")),
        ],
        default="reply",
        validators=[InputRequired()],
    )
    body = message_body(_l("Message"))
    attachments = MultipleFileField(_l("Attachments"))
