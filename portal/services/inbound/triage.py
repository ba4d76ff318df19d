"""A person's decision on a mail that waits in triage (an unknown sender, a failed
authentication, a reply the request did not accept): make it a request for a contact, or
discard it. Both audited; the raw mail is emptied once handled. Services flush; the caller
commits."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.models import Account, Attachment, InboundMail
from portal.services import audit, contacts
from portal.services.audit import Actor

from . import handle, parse

WAITING = frozenset({"triage", "unreadable"})


class TriageError(ValueError):
    """The mail cannot be handled so (already handled, no such contact); ``message`` is lazy."""

    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


def _waiting(row: InboundMail) -> None:
    if row.status not in WAITING:
        raise TriageError(_l("This mail has been handled already."))


def triage_to_request(
    session: Session,
    row: InboundMail,
    contact_id: int | None,
    actor: Actor,
    now: datetime,
    new_contact: contacts.ContactDetails | None = None,
) -> InboundMail:
    """Make the waiting mail a request of the chosen active contact, or of ``new_contact``
    created through the contacts service (invited like any new contact). Raises TriageError,
    or contacts.ContactError for the new contact's details."""
    _waiting(row)
    if row.status != "triage":
        raise TriageError(_l("A mail that could not be read cannot become a request."))
    if new_contact is not None:
        contact = contacts.create(session, actor, now, new_contact)
    else:
        contact = session.get(Account, contact_id) if contact_id else None
    if contact is None or contact.kind != "customer" or not contact.active:
        raise TriageError(_l("Choose an active contact."))
    mail = parse.parse(row.raw or b"", int(current_app.config["INBOUND_MAX_BYTES"]))
    conf = handle.settings()
    written: list[Attachment] = []
    savepoint = session.begin_nested()
    try:
        outcome = handle.request_for(session, contact, mail, now, conf, written)
        if outcome.status != "request":
            raise TriageError(outcome.reason or _l("The request could not be registered."))
        session.flush()
    except BaseException:
        savepoint.rollback()
        handle.discard_files(written, conf)
        raise
    savepoint.commit()
    before = {"status": row.status}
    row.status = "request"
    row.request_id = outcome.request_id
    row.detail = {**(row.detail or {}), **outcome.detail, "triaged_to": contact.id}
    row.raw = None
    row.processed_at = now
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "inbound_mail.triaged",
        "inbound_mail",
        row.id,
        before=before,
        after={"status": row.status, "request_id": row.request_id},
    )
    return row


def discard(session: Session, row: InboundMail, actor: Actor, now: datetime) -> InboundMail:
    """Drop a waiting mail: nothing is created, the raw mail is emptied."""
    _waiting(row)
    before = {"status": row.status}
    row.status = "discarded"
    row.raw = None
    row.processed_at = now
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "inbound_mail.discarded",
        "inbound_mail",
        row.id,
        before=before,
        after={"status": row.status},
    )
    return row
