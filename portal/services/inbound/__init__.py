"""Inbound e-mail (docs/product.md §9): ``receive`` takes one raw mail from a mailbox exactly
once, whoever polls; what the mail becomes (a message, a request, a triage entry, nothing) is
decided after that."""

from __future__ import annotations

import hashlib
from datetime import datetime
from email import message_from_bytes, policy

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import InboundMail


def message_key(raw: bytes) -> tuple[str, str | None]:
    """(SHA-256 of the Message-ID, the Message-ID), or of the raw bytes when it has none."""
    try:
        headers = message_from_bytes(
            raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0] + b"\n\n", policy=policy.compat32
        )
        mid = (headers.get("Message-ID") or "").strip() or None
    except Exception:  # noqa: BLE001 - a header block we cannot read has no Message-ID
        mid = None
    if mid:
        return hashlib.sha256(mid.encode("utf-8", "replace")).hexdigest(), mid[:2000]
    return hashlib.sha256(raw).hexdigest(), None


def receive(session: Session, raw: bytes, mailbox: str, now: datetime) -> tuple[InboundMail, bool]:
    """Record ``raw`` as taken from ``mailbox`` (in the caller's transaction): (the row, True)
    the first time, (the existing row, False) when this mail was taken already, by this worker
    or another one."""
    key, mid = message_key(raw)
    existing = session.scalar(
        select(InboundMail).where(InboundMail.mailbox == mailbox, InboundMail.message_key == key)
    )
    if existing is not None:
        return existing, False
    row = InboundMail(
        mailbox=mailbox, message_key=key, message_id=mid, size=len(raw), raw=raw, received_at=now
    )
    savepoint = session.begin_nested()
    try:
        session.add(row)
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        taken = session.scalar(
            select(InboundMail).where(
                InboundMail.mailbox == mailbox, InboundMail.message_key == key
            )
        )
        return taken, False
    savepoint.commit()
    return row, True


def process(session: Session, row: InboundMail, now: datetime) -> str:
    """Decide what a received mail becomes (in the caller's transaction) and return its status.
    Every way in (IMAP, ``portal mail receive``) calls ``receive`` and then this. Until the
    processing lands (issue 13), a received mail stays ``received``."""
    return row.status
