"""Forms of the staff side."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import Email, InputRequired, Length, Optional

from portal.domain.vocabulary import Channel, Priority, RequestType, Status
from portal.presentation.labels import CHANNEL_LABELS, PRIORITY_LABELS, STATUS_LABELS, TYPE_LABELS
from portal.services import queue as queue_service
from portal.staff.forms_workflow import ClassifyForm
from portal.web.forms import IntakeForm, PortalForm


def _optional_int(value) -> int | None:
    if value in (None, "", "None"):
        return None
    number = int(value)
    if number <= 0:
        raise ValueError("not an id")
    return number


class QueueFilterForm(PortalForm):
    """The queue's filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    view = HiddenField(default=queue_service.DEFAULT_VIEW)
    q = StringField(_l("Number or title"), validators=[Optional(), Length(max=200)])
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice("", _l("Any status"))]
        + [SelectChoice(s.value, STATUS_LABELS[s]) for s in Status],
        default="",
    )
    priority = SelectField(
        _l("Priority"),
        choices=[SelectChoice("", _l("Any priority"))]
        + [SelectChoice(p.value, PRIORITY_LABELS[p]) for p in Priority]
        + [SelectChoice(queue_service.NO_PRIORITY, _l("Not yet classified"))],
        default="",
    )
    type = SelectField(
        _l("Type"),
        choices=[SelectChoice("", _l("Any type"))]
        + [SelectChoice(t.value, TYPE_LABELS[t]) for t in RequestType],
        default="",
    )
    channel = SelectField(
        _l("Channel"),
        choices=[SelectChoice("", _l("Any channel"))]
        + [SelectChoice(c.value, CHANNEL_LABELS[c]) for c in Channel],
        default="",
    )
    # an organisation by (part of) its code or name: a list of thousands is no choice
    org = StringField(_l("Organisation"), validators=[Optional(), Length(max=200)])
    # choices are the active staff, loaded only for the full page
    assignee = SelectField(_l("Handler"), coerce=_optional_int, validate_choice=False)
    mine = BooleanField(_l("Mine"))
    unassigned = BooleanField(_l("Unassigned"))

    def set_choices(self, staff) -> None:
        self.assignee.choices = [SelectChoice("", _l("Anyone"))] + [
            SelectChoice(str(i), name) for i, name in staff
        ]

    def clean(self, name: str):
        """A field's value, or None when it is empty or not valid (a bad link is not an error
        page: the queue shows without that filter)."""
        fld = self[name]
        if fld.errors:
            return None
        return fld.data or None

    def to_filters(self) -> queue_service.QueueFilters:
        self.validate()
        view = (
            self.view.data if self.view.data in queue_service.VIEWS else queue_service.DEFAULT_VIEW
        )
        return queue_service.QueueFilters(
            view=view,
            status=self.clean("status"),
            priority=self.clean("priority"),
            type=self.clean("type"),
            organisation=(self.clean("org") or "").strip() or None,
            handler_id=self.clean("assignee"),
            channel=self.clean("channel"),
            mine=bool(self.clean("mine")),
            unassigned=bool(self.clean("unassigned")),
            text=self.clean("q"),
        )


# the ways a request reaches the desk that an agent registers (the portal registers itself)
REGISTER_CHANNELS = (Channel.PHONE, Channel.EMAIL, Channel.ON_SITE)


class RegisterForm(IntakeForm):
    """服务请求登记表 as the desk registers it on a customer's behalf: the customer's fields, the
    contact the request is for and the channel it came in by."""

    contact = IntegerField(
        _l("Customer contact"),
        validators=[
            InputRequired(message=_l("Find the customer and choose the contact it is for."))
        ],
    )
    channel = RadioField(
        _l("Channel"),
        choices=[SelectChoice(c.value, CHANNEL_LABELS[c]) for c in REGISTER_CHANNELS],
        default=Channel.PHONE.value,
        validators=[InputRequired(message=_l("Choose how the request came in."))],
    )
    # left empty, the request takes the contact's name and e-mail on record
    contact_name = StringField(
        _l("Contact name"),
        validators=[Optional(), Length(max=100, message=_l("At most %(max)d characters."))],
    )
    contact_email = EmailField(
        _l("E-mail"),
        validators=[
            Optional(),
            Email(message=_l("Enter a valid e-mail address.")),
            Length(max=254, message=_l("At most %(max)d characters.")),
        ],
    )
    classify_now = BooleanField(_l("Classify it now"))


class RegisterClassifyForm(ClassifyForm):
    """The supervisor's initial classification on the Register screen: the type and the expected
    completion are the request's own fields there, and so is the category."""

    action = None
    type = None
    category = None
    expected_completion = None
