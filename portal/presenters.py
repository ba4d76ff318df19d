"""The only place where raw contact data becomes text: masked or full, decided for the viewer.

Templates, fragments, exports, e-mails and JSON receive these objects, never the raw columns.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.domain.masking import mask_email, mask_name, mask_phone


@dataclass(frozen=True)
class ContactView:
    name: str
    phone: str
    email: str
    full: bool


def contact_view(name: str | None, phone: str | None, email: str | None, full: bool) -> ContactView:
    if full:
        return ContactView(name or "", phone or "", email or "", True)
    return ContactView(mask_name(name), mask_phone(phone), mask_email(email), False)


def person_name(name: str | None, full: bool) -> str:
    """A staff or customer person's name as shown to this viewer (handler names: 张*)."""
    return (name or "") if full else mask_name(name)


def request_contact(sr, viewer, staff_on_request: bool) -> ContactView:
    """The contact of a service request as this viewer may see it.

    Full for: the contact themself and their organisation's admins (customer side), and staff
    who are the handler or a collaborator on the request (``staff_on_request``).
    """
    if viewer.kind == "customer":
        full = viewer.id == sr.contact_id or (
            viewer.is_org_admin and viewer.organisation_id == sr.organisation_id
        )
    else:
        full = staff_on_request
    return contact_view(sr.contact_name, sr.contact_phone, sr.contact_email, full)
