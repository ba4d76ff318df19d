"""Inbound e-mail (docs/product.md §9): ``receive`` takes one raw mail from a mailbox exactly
once, whoever polls; ``process`` decides what it becomes (a message, a request, a triage entry,
nothing): reading in ``parse``, the decision in ``handle``, a person's triage in ``triage``."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from email import message_from_bytes, policy

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from portal.domain import pii
from portal.models import Attachment, InboundMail

from . import handle, parse, triage  # noqa: F401 - triage: the staff side calls it

log = logging.getLogger(__name__)


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
    """Decide what a received mail becomes (in the caller's transaction, inside a savepoint)
    and return its status. Every way in (IMAP, ``portal mail receive``) calls ``receive`` and
    then this. Never raises: an unexpected failure leaves the mail ``unreadable`` with the
    exception's class and a redacted short message, its raw bytes kept for a person. Needs an
    app context (the settings: INBOUND_*, MAIL_FROM, the upload folder and limit)."""
    # another worker may be at the same row (a retried poll): the row lock decides
    session.refresh(row, with_for_update=True)
    if row.status != "received":
        return row.status
    written: list[Attachment] = []
    mail: parse.ParsedMail | None = None
    conf: handle.InboundSettings | None = None
    savepoint = session.begin_nested()
    try:
        conf = handle.settings()
        try:
            mail = parse.parse(row.raw or b"", int(current_app.config["INBOUND_MAX_BYTES"]))
        except parse.Unusable as verdict:
            outcome = handle.Outcome(verdict.status, verdict.reason)
        else:
            outcome = handle.decide(session, mail, now, conf, written)
            if mail.html and outcome.status in ("message", "request", "triage"):
                # the Message has text only: the sanitised HTML stays beside it for a person
                outcome.detail["html"] = mail.html
        session.flush()
        savepoint.commit()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - a mail never stops the poller (pyo3 panics too)
        savepoint.rollback()
        if conf is not None:
            handle.discard_files(written, conf)
        # the class only in the log: the message may hold contact data
        log.warning("inbound mail %s unreadable: %s", row.id, type(exc).__name__)
        outcome = handle.Outcome("unreadable", failure_reason(exc))
    _finish(row, outcome, mail, now)
    session.flush()
    return row.status


def failure_reason(exc: BaseException) -> str:
    """The exception's class and the first line of its message, contact data redacted; for a
    database error the driver's class only (its message carries the statement's values)."""
    if isinstance(exc, StatementError):
        cause = exc.orig if exc.orig is not None else exc
        return f"{type(exc).__name__}: {type(cause).__name__}"
    first = (str(exc).strip().splitlines() or [""])[0][:120]
    return f"{type(exc).__name__}: {pii.redact(first)}"[:200]


# statuses that wait for a person: the raw mail stays until they handle it
KEEP_RAW = frozenset({"triage", "unreadable"})


def _finish(
    row: InboundMail, outcome: handle.Outcome, mail: parse.ParsedMail | None, now: datetime
) -> None:
    if mail is not None:
        row.sender = mail.sender
        row.subject = mail.subject or None
    row.status = outcome.status
    row.reason = (outcome.reason or None) and outcome.reason[:300]
    row.request_id = outcome.request_id
    row.detail = outcome.detail or None
    row.processed_at = now
    if outcome.status not in KEEP_RAW:
        row.raw = None
