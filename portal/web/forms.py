"""Forms shared by both sides."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from wtforms import (
    DateTimeLocalField,
    EmailField,
    MultipleFileField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from portal.domain.vocabulary import Priority, RequestType
from portal.models import utcnow
from portal.presentation.formatting import format_size
from portal.presentation.labels import PRIORITY_LABELS, TYPE_LABELS
from portal.services import catalogue, contacts
from portal.services.attachments import MAX_FILES, stream_size
from portal.services.requests import Intake
from portal.web.input_guard import removed_fields

CONTROL_CHARACTERS_REMOVED = _l(
    "Invisible control characters were taken out of this. Check it and send it again."
)
TOO_LONG = _l("At most %(max)d characters.")


# --- a contact's name, e-mail and phone: the same fields wherever a contact is created --------


def contact_name_field() -> StringField:
    return StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Give the contact's name.")),
            Length(max=contacts.NAME_MAX, message=TOO_LONG),
        ],
    )


def contact_email_field() -> EmailField:
    return EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(message=_l("Enter an e-mail address.")),
            Length(max=contacts.EMAIL_MAX, message=TOO_LONG),
            Email(message=_l("Enter a valid e-mail address.")),
        ],
    )


def contact_phone_field() -> StringField:
    return StringField(
        _l("Phone"),
        validators=[
            Optional(),
            Length(max=contacts.PHONE_MAX, message=TOO_LONG),
            Regexp(
                contacts.PHONE_PATTERN,
                message=_l("Enter a phone number with digits only (spaces, dashes, + allowed)."),
            ),
        ],
    )


class PortalForm(FlaskForm):
    """The base of every form in the portal. A field that arrived with control characters
    (taken out at the edge, portal/web/input_guard.py) is refused with its own error; what was
    typed around them is kept in the field."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        removed = removed_fields()
        for field in self:
            if field.name in removed:
                field.errors = [CONTROL_CHARACTERS_REMOVED, *field.errors]
                valid = False
        return valid


class WithFiles:
    """A form with an ``attachments`` file field (several files)."""

    def files(self) -> list[FileStorage]:
        """The files actually chosen (a form without files still sends one empty part)."""
        return [
            f for f in (self.attachments.data or []) if isinstance(f, FileStorage) and f.filename
        ]


def category_select(label=None) -> SelectField:
    """A request's or a skill's category, chosen from the managed list (options grouped by
    request type; the choices are set per request with ``set_category_choices``). Whether the
    category is one of the chosen type, the service checks (``catalogue.check_category``)."""
    return SelectField(
        label or _l("Category"),
        choices=[],
        validate_choice=False,
        validators=[Optional(), Length(max=100, message=TOO_LONG)],
    )


def set_category_choices(field: SelectField, session, locale: str, keep=None, blank=None) -> None:
    """The active categories as options grouped by type, in the reader's language, after an
    empty one (``blank``); ``keep`` (type, code) offers an entry's own old category too."""
    groups = catalogue.category_options(session, locale, keep)
    field.choices = [SelectChoice("", blank or _l("— not chosen —"))] + [
        SelectChoice(value, name, optgroup=label)
        for label, options in groups.items()
        for value, name in options
    ]


def message_body(label) -> TextAreaField:
    """The text of a message or reply on a request (both sides)."""
    return TextAreaField(
        label,
        validators=[
            DataRequired(message=_l("Write a message.")),
            Length(max=20000, message=TOO_LONG),
        ],
    )


class LoginForm(PortalForm):
    identifier = StringField(_l("E-mail or mobile"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class IntakeForm(WithFiles, PortalForm):
    """服务请求登记表: the fields the customer fills in on the portal and the desk registers on
    their behalf (the staff Register screen adds the contact and the channel)."""

    type = RadioField(
        _l("Type"),
        choices=[SelectChoice(t.value, TYPE_LABELS[t]) for t in RequestType],
        validators=[InputRequired(message=_l("Choose the type of request."))],
    )
    urgency = RadioField(
        _l("Urgency"),
        choices=[SelectChoice(p.value, PRIORITY_LABELS[p]) for p in Priority],
        default=Priority.P3.value,
        validators=[InputRequired(message=_l("Choose how urgent it is."))],
    )
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(message=_l("Give the request a short title.")),
            Length(max=200, message=TOO_LONG),
        ],
    )
    description = TextAreaField(
        _l("Description"),
        validators=[
            DataRequired(message=_l("Describe what happened or what you need.")),
            Length(max=20000, message=TOO_LONG),
        ],
    )
    expected_completion = DateTimeLocalField(
        _l("Expected completion"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        validators=[Optional()],
    )
    contact_name = StringField(
        _l("Contact name"),
        validators=[
            DataRequired(message=_l("Who should we contact about this request?")),
            Length(max=100, message=TOO_LONG),
        ],
    )
    contact_phone = StringField(
        _l("Phone"),
        validators=[
            Optional(),
            Regexp(
                r"^\+?[0-9][0-9 ()\-]{4,30}$",
                message=_l("Enter a phone number with digits only (spaces, dashes, + allowed)."),
            ),
        ],
    )
    contact_email = EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(message=_l("Enter an e-mail address.")),
            Email(message=_l("Enter a valid e-mail address.")),
            Length(max=254, message=TOO_LONG),
        ],
    )
    category = category_select(_l("Category"))
    attachments = MultipleFileField(_l("Attachments"))

    def validate_expected_completion(self, field) -> None:
        if field.data is None:
            return
        zone = ZoneInfo(current_app.config["PORTAL_TIMEZONE"])
        local = field.data.replace(tzinfo=zone)
        if local <= utcnow():
            raise ValidationError(_l("The expected completion time cannot be in the past."))
        field.aware = local.astimezone(UTC)

    def validate_attachments(self, field) -> None:
        files = self.files()
        if len(files) > MAX_FILES:
            raise ValidationError(_l("At most %(n)d files per request.", n=MAX_FILES))
        limit = current_app.config["UPLOAD_MAX_BYTES"]
        too_big = [f.filename for f in files if stream_size(f.stream) > limit]
        if too_big:
            raise ValidationError(
                _l(
                    "%(names)s is larger than the limit of %(limit)s per file.",
                    names=", ".join(too_big),
                    limit=format_size(limit),
                )
            )

    def expected_completion_utc(self) -> datetime | None:
        return getattr(self.expected_completion, "aware", None)

    def intake(self) -> Intake:
        """The form's values as the intake service takes them (empty contact fields: None)."""
        return Intake(
            type=RequestType(self.type.data),
            proposed_urgency=Priority(self.urgency.data),
            title=self.title.data,
            description=self.description.data,
            expected_completion_at=self.expected_completion_utc(),
            contact_name=(self.contact_name.data or "").strip() or None,
            contact_phone=(self.contact_phone.data or "").strip() or None,
            contact_email=(self.contact_email.data or "").strip() or None,
            category=(self.category.data or "").strip() or None,
        )
