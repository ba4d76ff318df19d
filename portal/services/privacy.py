"""Privacy use cases (docs/product.md §5): who is on a request, audited reveals, contact search without
an oracle, redacted copies of text files."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from portal.domain import pii
from portal.models import Account, Collaborator, ContactReveal, ServiceRequest
from portal.presentation import presenters
from portal.services import audit

REVEAL_MINUTES = 30
REASON_MIN_LENGTH = 10
REVEAL_ROLES = ("supervisor",)


class RevealRefused(Exception):
    """A reveal that may not happen; ``code`` says why (not-supervisor, on-request, reason)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- who is on the request ----------------------------------------------------------------------


def on_request_clause(staff_id: int) -> ColumnElement[bool]:
    """SQL condition on ServiceRequest: the staff member is the handler or an active
    collaborator."""
    return or_(
        ServiceRequest.handler_id == staff_id,
        exists().where(
            Collaborator.request_id == ServiceRequest.id,
            Collaborator.account_id == staff_id,
            Collaborator.removed_at.is_(None),
        ),
    )


def active_reveal_until(
    session: Session, request_id: int, account_id: int, now: datetime
) -> datetime | None:
    return session.scalar(
        select(func.max(ContactReveal.expires_at)).where(
            ContactReveal.request_id == request_id,
            ContactReveal.account_id == account_id,
            ContactReveal.expires_at > now,
        )
    )


def staff_access(
    session: Session, sr, staff_id: int, now: datetime, on_request: bool | None = None
) -> presenters.Access:
    """What a staff member is to ``sr``: one query (two when ``on_request`` is not known)."""
    if on_request is None:
        on_request = (
            session.scalar(
                select(ServiceRequest.id).where(
                    ServiceRequest.id == sr.id, on_request_clause(staff_id)
                )
            )
            is not None
        )
    if on_request:
        return presenters.INSIDER
    return presenters.staff_access(False, active_reveal_until(session, sr.id, staff_id, now))


def access_for(session: Session, sr, viewer, now: datetime) -> presenters.Access:
    """The viewer's access to ``sr`` on either side."""
    if viewer.kind == "customer":
        return presenters.customer_access(sr, viewer)
    return staff_access(session, sr, viewer.id, now)


def staff_is_insider(session: Session, request_id: int, staff_id: int) -> bool:
    return (
        session.scalar(
            select(ServiceRequest.id).where(
                ServiceRequest.id == request_id, on_request_clause(staff_id)
            )
        )
        is not None
    )


# --- audited reveal -----------------------------------------------------------------------------


def reveal(
    session: Session,
    actor: audit.Actor,
    sr: ServiceRequest,
    account: Account,
    reason: str,
    now: datetime,
    minutes: int = REVEAL_MINUTES,
) -> ContactReveal:
    """Let a supervisor see this request's contact in full for ``minutes``, for a reason."""
    if account.kind != "staff" or not account.has_role(*REVEAL_ROLES):
        raise RevealRefused("not-supervisor")
    reason = " ".join((reason or "").split())
    if len(reason) < REASON_MIN_LENGTH:
        raise RevealRefused("reason")
    item = ContactReveal(
        request_id=sr.id,
        account_id=account.id,
        reason=reason[:1000],
        revealed_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    session.add(item)
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "contact.revealed",
        "service_request",
        sr.number,
        after={
            "reveal_id": item.id,
            "reason": pii.redact(item.reason),
            "expires_at": item.expires_at.isoformat(),
        },
    )
    return item


@dataclass(frozen=True)
class RevealRow:
    reveal: ContactReveal
    number: str
    supervisor: str
    active: bool


def reveals_page(
    session: Session, now: datetime, before_id: int | None = None, page_size: int = 50
) -> list[RevealRow]:
    """The newest reveals for admins, keyset by id; one query."""
    stmt = (
        select(ContactReveal, ServiceRequest.number, Account.name)
        .join(ServiceRequest, ServiceRequest.id == ContactReveal.request_id)
        .join(Account, Account.id == ContactReveal.account_id)
        .order_by(ContactReveal.id.desc())
        .limit(page_size)
    )
    if before_id:
        stmt = stmt.where(ContactReveal.id < before_id)
    return [
        RevealRow(r, number, name, r.expires_at > now) for r, number, name in session.execute(stmt)
    ]


# --- search by contact without an oracle ---------------------------------------------------------

_PHONE_LIKE = re.compile(r"^\+?[\d\s()-]+$")


def contact_search_clause(text: str, viewer_id: int) -> ColumnElement[bool] | None:
    """For a queue search that looks like a phone number (7+ digits) or an e-mail address: the
    requests whose contact matches AND whose contact this viewer may see in full (handler or
    collaborator). A match on a request the viewer may not see in full is simply not there,
    so the search confirms nothing. None when the text is neither."""
    text = (text or "").strip()
    if "@" in text:
        value = text.lower()
        match = func.lower(ServiceRequest.contact_email).contains(value, autoescape=True)
    elif _PHONE_LIKE.match(text) and sum(ch.isdigit() for ch in text) >= 7:
        digits = "".join(ch for ch in text if ch.isdigit())
        match = or_(
            ServiceRequest.contact_phone.contains(digits, autoescape=True),
            ServiceRequest.contact_phone.contains(text, autoescape=True),
        )
    else:
        return None
    return and_(match, on_request_clause(viewer_id))


# --- text files ---------------------------------------------------------------------------------

TEXT_TYPE = "text/plain"


def redacted_lines(path: Path, chunk_lines: int = 2000) -> Iterator[bytes]:
    """A text file's content with PII redacted, line by line (PII never spans lines)."""
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        buffer: list[str] = []
        for line in fh:
            buffer.append(pii.redact(line))
            if len(buffer) >= chunk_lines:
                yield "".join(buffer).encode("utf-8")
                buffer = []
        if buffer:
            yield "".join(buffer).encode("utf-8")
