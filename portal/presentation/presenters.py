"""The only place where raw contact data and free text become output: masked or full, decided
for the viewer (docs/product.md §5).

Pages, fragments, lists, printable forms, exports, notifications, e-mails and JSON receive these
objects, never the raw columns:

- ``Access`` — what one viewer is to one request (insider? sees the contact in full?). Services
  compute it (portal.services.privacy); the rules are here.
- ``request_contact`` / ``contact_view`` — the contact card, masked (李*, ****5678,
  l***@example.com) unless the viewer may see it in full.
- ``free_text`` — descriptions, messages, steps: PII redacted for people outside the request.
- ``request_for`` — a read-only stand-in for a ServiceRequest whose contact fields and free
  text are already what this viewer may see; every other attribute is the request's own.
- ``redacted`` — the same for any row with free-text fields (a step, a classification…).
- ``handling_record_for`` — the handling record (IR): its free text redacted for outsiders and
  the customer's confirmation (their name, as they signed) masked unless the viewer may see
  the contact in full.
- ``signer_name`` — the name a delivery's signature was typed with: a customer's is contact
  data, a staff member's is masked on the customer side.
- ``delivery_for`` / ``feedback_for`` — a delivery (SD) or a feedback (FB) with its free text
  redacted for people outside the request.
- ``safe_data`` — JSON-like data (notification parameters, e-mail context, audit before/after,
  exports) with PII redacted for outsiders.

Every raw contact value that passes through here is remembered for the current request's log
filter (portal.logging), so a value that slips into a log message is masked there too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from portal.domain import pii
from portal.domain.delivery import CUSTOMER
from portal.domain.masking import mask_email, mask_name, mask_phone


@dataclass(frozen=True)
class Access:
    """What the viewer is to one request.

    ``insider``: the customer themself or their organisation admin; staff who are the handler
    or an active collaborator — they see free text and text files as written.
    ``full_contact``: sees the contact's name, phone and e-mail in full (insiders, and a
    supervisor during an audited reveal, until ``revealed_until``).
    """

    insider: bool
    full_contact: bool
    revealed_until: datetime | None = None

    @property
    def revealed(self) -> bool:
        return self.revealed_until is not None and not self.insider


OUTSIDER = Access(insider=False, full_contact=False)
INSIDER = Access(insider=True, full_contact=True)


def staff_access(on_request: bool, revealed_until: datetime | None = None) -> Access:
    if on_request:
        return INSIDER
    return Access(False, revealed_until is not None, revealed_until)


def customer_access(sr, viewer) -> Access:
    """The contact themself and their organisation's admins are insiders; colleagues who may
    view the organisation's requests see masks and redacted text."""
    inside = viewer.kind == "customer" and (
        viewer.id == sr.contact_id
        or (viewer.is_org_admin and viewer.organisation_id == sr.organisation_id)
    )
    return INSIDER if inside else OUTSIDER


@dataclass(frozen=True)
class ContactView:
    name: str
    phone: str
    email: str
    full: bool


def _remember(*values: str | None) -> None:
    from portal.logging import remember_sensitive

    remember_sensitive(*values)


def contact_view(name: str | None, phone: str | None, email: str | None, full: bool) -> ContactView:
    _remember(name, phone, email)
    if full:
        return ContactView(name or "", phone or "", email or "", True)
    return ContactView(mask_name(name), mask_phone(phone), mask_email(email), False)


def person_name(name: str | None, full: bool) -> str:
    """A staff or customer person's name as shown to this viewer (handler names: 张*)."""
    return (name or "") if full else mask_name(name)


def request_contact(sr, viewer, staff_on_request: bool, revealed: bool = False) -> ContactView:
    """The contact of a service request as this viewer may see it.

    Full for: the contact themself and their organisation's admins (customer side), and staff
    who are the handler or a collaborator on the request (``staff_on_request``) or who hold an
    active audited reveal (``revealed``).
    """
    if viewer.kind == "customer":
        full = customer_access(sr, viewer).full_contact
    else:
        full = staff_on_request or revealed
    return contact_view(sr.contact_name, sr.contact_phone, sr.contact_email, full)


def contact_for(sr, access: Access) -> ContactView:
    return contact_view(sr.contact_name, sr.contact_phone, sr.contact_email, access.full_contact)


def free_text(text: str | None, insider: bool) -> str:
    """Free text as this viewer may read it: the original for insiders, PII redacted else."""
    if text is None:
        return ""
    return text if insider else pii.redact(text)


def safe_data(data, insider: bool):
    """JSON-like data (dicts, lists, strings) with PII redacted for outsiders."""
    return data if insider else pii.redact_data(data)


CONTACT_FIELDS = ("contact_name", "contact_phone", "contact_email")
REQUEST_TEXT_FIELDS = ("title", "description")


class Redacted:
    """A read-only stand-in for a row: ``fields`` give the viewer's version of free text."""

    __slots__ = ("_obj", "_fields", "_insider")

    def __init__(self, obj, fields: tuple[str, ...], insider: bool) -> None:
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_fields", fields)
        object.__setattr__(self, "_insider", insider)

    def __getattr__(self, name: str):
        value = getattr(self._obj, name)
        if name in self._fields and isinstance(value, str):
            return free_text(value, self._insider)
        return value

    def __setattr__(self, name, value):
        raise AttributeError("presenters are read-only")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {type(self._obj).__name__}>"


def redacted(obj, fields: tuple[str, ...], insider: bool):
    """``obj`` itself for insiders; a read-only redacting stand-in for everyone else."""
    if obj is None or insider:
        return obj
    return Redacted(obj, fields, insider)


class RequestPresenter(Redacted):
    """A service request as one viewer may see it: the contact masked unless they may see it in
    full, title and description redacted for outsiders."""

    __slots__ = ("access", "contact")

    def __init__(self, sr, access: Access) -> None:
        super().__init__(sr, REQUEST_TEXT_FIELDS, access.insider)
        object.__setattr__(self, "access", access)
        object.__setattr__(self, "contact", contact_for(sr, access))

    def __getattr__(self, name: str):
        if name == "contact_name":
            return self.contact.name
        if name == "contact_phone":
            return self.contact.phone
        if name == "contact_email":
            return self.contact.email
        return super().__getattr__(name)


def request_for(sr, access: Access) -> RequestPresenter:
    return RequestPresenter(sr, access)


HANDLING_TEXT_FIELDS = ("problems", "workaround", "final_result")


class HandlingRecordPresenter(Redacted):
    """A handling record as one viewer may see it: problems, workaround and final result
    redacted for outsiders; the customer confirmation's name (the contact's signature, 客户确认)
    is contact data, masked (李*) unless the viewer sees the contact in full."""

    __slots__ = ("confirmed_name",)

    def __init__(self, record, access: Access) -> None:
        super().__init__(record, HANDLING_TEXT_FIELDS, access.insider)
        _remember(record.customer_confirmed_name)
        object.__setattr__(
            self,
            "confirmed_name",
            person_name(record.customer_confirmed_name, access.full_contact),
        )

    def __getattr__(self, name: str):
        if name == "customer_confirmed_name":
            return self.confirmed_name
        return super().__getattr__(name)


def handling_record_for(record, access: Access) -> HandlingRecordPresenter | None:
    return None if record is None else HandlingRecordPresenter(record, access)


def signer_name(signature, *, contact_full: bool, staff_full: bool) -> str:
    """The name a delivery's signature was typed with, as this viewer may see it: the
    customer's is contact data (in full only with ``contact_full``); a staff member's is in
    full with ``staff_full`` (staff pages), masked (张*) on the customer side, as everywhere
    there."""
    full = contact_full if signature.party == CUSTOMER else staff_full
    return person_name(signature.typed_name, full)


DELIVERY_TEXT_FIELDS = ("service_item", "demo_note", "unmet_items", "rectification")


def delivery_for(view, insider: bool):
    """A delivery's view (portal.services.delivery.DeliveryView) as this viewer may read it:
    its free text, deliverables and criteria redacted for outsiders (its integrity was
    computed on the original)."""
    if insider:
        return view
    return replace(
        view,
        delivery=redacted(view.delivery, DELIVERY_TEXT_FIELDS, False),
        items=[redacted(i, ("text",), False) for i in view.items],
        criteria=[redacted(c, ("text",), False) for c in view.criteria],
    )


def feedback_for(view, insider: bool):
    """A feedback's view (portal.services.feedback.FeedbackView) as this viewer may read it:
    its suggestions and measures redacted for outsiders."""
    if view is None or insider:
        return view
    return replace(
        view,
        feedback=redacted(view.feedback, ("suggestions",), False),
        measures=[(redacted(m, ("measure",), False), owner) for m, owner in view.measures],
    )
