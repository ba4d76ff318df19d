"""The forms of the mail triage page (portal/staff/mail_views.py): make the mail a request for
a chosen contact, for a new contact of a chosen organisation, or discard it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField
from wtforms.validators import InputRequired

from portal.domain.ids import parse_id
from portal.services import contacts as contact_service
from portal.web.forms import (
    PortalForm,
    contact_email_field,
    contact_name_field,
    contact_phone_field,
)


class MailToContactForm(PortalForm):
    """A request for an existing contact, chosen from the search's results."""

    contact = IntegerField(
        _l("Customer contact"),
        validators=[
            InputRequired(message=_l("Find the customer and choose the contact it is for."))
        ],
    )


def _organisation(value):
    return parse_id(value)


class MailNewContactForm(PortalForm):
    """A request for a new contact (invited like any new contact), in a chosen organisation."""

    organisation = SelectField(
        _l("Organisation"),
        coerce=_organisation,
        validators=[InputRequired(message=_l("Choose the organisation."))],
        validate_choice=True,
    )
    name = contact_name_field()
    email = contact_email_field()
    phone = contact_phone_field()

    def set_organisations(self, choices) -> None:
        self.organisation.choices = [("", _l("Choose…"))] + [
            (c.id, f"{c.name} ({c.code})") for c in choices
        ]

    def details(self) -> contact_service.ContactDetails:
        return contact_service.ContactDetails(
            name=self.name.data or "",
            email=self.email.data or "",
            phone=self.phone.data or None,
            organisation_id=self.organisation.data,
        )


class DiscardMailForm(PortalForm):
    """A button: the CSRF token alone."""
