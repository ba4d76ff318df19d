"""E-mail and group-bot messages through an outbox table (docs/architecture.md): written in the
caller's transaction, sent by a job with retries and exponential backoff. A row's ``channel``
picks the transmitter (SMTP, or the bot's webhook: portal/services/group_bot_send.py); claiming,
backoff and failing are the same for both, here.

Sending claims a row first (a compare-and-set on ``next_attempt_at`` that also pushes it one
lease ahead), so two workers never send the same attempt; a worker that dies while sending leaves
the row to be retried after the lease. SMTP has no exactly-once: a crash between the server's
"250 OK" and our commit sends that mail again, with the same Message-ID so that clients can
tell. Without MAIL_SERVER, mail is written to the log with the recipient masked.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.domain.mail_ids import message_id, sender_domain
from portal.domain.masking import mask_email
from portal.models import EmailOutbox
from portal.queue import enqueue_after_commit
from portal.services import group_bot_send

log = logging.getLogger(__name__)

# how long a claimed attempt may take before another worker may try again
LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class MailSettings:
    server: str | None
    port: int = 25
    sender: str = "servicedesk@localhost"
    max_attempts: int = 8
    retry_base: float = 30.0
    retry_max: float = 3600.0
    bot_timeout: float = 10.0

    @classmethod
    def from_config(cls, config) -> MailSettings:
        return cls(
            server=config.get("MAIL_SERVER") or None,
            port=int(config.get("MAIL_PORT") or 25),
            sender=config.get("MAIL_FROM") or "servicedesk@localhost",
            max_attempts=int(config.get("MAIL_MAX_ATTEMPTS", 8)),
            retry_base=float(config.get("MAIL_RETRY_BASE_SECONDS", 30)),
            retry_max=float(config.get("MAIL_RETRY_MAX_SECONDS", 3600)),
            bot_timeout=float(config.get("GROUP_BOT_TIMEOUT_SECONDS", 10)),
        )


def backoff(settings: MailSettings, attempts: int) -> timedelta:
    """Wait before the next attempt after ``attempts`` failed ones: base, 2×base, 4×base, …"""
    return timedelta(seconds=min(settings.retry_max, settings.retry_base * 2 ** (attempts - 1)))


def job_id(outbox_id: int, attempt: int) -> str:
    return f"mail-{outbox_id}-{attempt}"


def add(
    session: Session,
    *,
    to_address: str,
    subject: str,
    body_text: str,
    body_html: str | None = None,
    dedupe_key: str | None = None,
    meta: dict | None = None,
    enqueue: bool = True,
    channel: str = "email",
    bot_id: int | None = None,
) -> EmailOutbox | None:
    """Queue a mail (or, with ``channel="bot"``, a message to the group bot ``bot_id``) in the
    caller's transaction; sent by a job after commit (``enqueue``), or by the caller after its
    commit, or else by the sweep. None when a row with this dedupe key exists already."""
    if dedupe_key is not None and session.scalar(
        select(EmailOutbox.id).where(EmailOutbox.dedupe_key == dedupe_key)
    ):
        return None
    mail = EmailOutbox(
        to_address=to_address,
        subject=subject[:300],
        body_text=body_text,
        body_html=body_html,
        dedupe_key=dedupe_key,
        meta=meta,
        channel=channel,
        bot_id=bot_id,
    )
    session.add(mail)
    session.flush()
    if enqueue:
        enqueue_after_commit(
            session, "portal.jobs_sla.send_mail", mail.id, job_id=job_id(mail.id, 0), result_ttl=600
        )
    return mail


def claim(session: Session, outbox_id: int, now: datetime) -> EmailOutbox | None:
    """Take this attempt (commits): None when the mail is sent, failed, or not due yet, or when
    another worker took it first."""
    row = session.get(EmailOutbox, outbox_id)
    if row is None or row.status != "pending" or row.next_attempt_at > now:
        session.rollback()
        return None
    taken = session.execute(
        update(EmailOutbox)
        .where(
            EmailOutbox.id == outbox_id,
            EmailOutbox.status == "pending",
            EmailOutbox.next_attempt_at == row.next_attempt_at,
        )
        .values(next_attempt_at=now + LEASE, attempts=EmailOutbox.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if taken != 1:
        return None
    session.refresh(row)
    return row


def build(row: EmailOutbox, settings: MailSettings) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.sender
    msg["To"] = row.to_address
    msg["Subject"] = row.subject
    msg["Date"] = formatdate(localtime=False)
    number = (row.meta or {}).get("number")
    msg["Message-ID"] = message_id(row.id, number, sender_domain(settings.sender))
    # a machine's mail (RFC 3834): auto-responders and Outlook's out-of-office stay quiet
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(row.body_text)
    if row.body_html:
        msg.add_alternative(row.body_html, subtype="html")
    return msg


def transmit(row: EmailOutbox, settings: MailSettings) -> None:
    """Hand the mail to SMTP, or to the log when no server is configured."""
    if not settings.server:
        # never a raw address in the log: the recipient masked, the body has no contact data
        log.info(
            "mail (no MAIL_SERVER) to %s: %s\n%s",
            mask_email(row.to_address),
            row.subject,
            row.body_text,
        )
        return
    with smtplib.SMTP(settings.server, settings.port, timeout=10) as smtp:
        smtp.send_message(build(row, settings))


def recipient(row: EmailOutbox) -> str:
    """Who a row goes to, fit for the log: the masked address, or the bot's id."""
    if row.channel == "bot":
        return f"group bot {row.bot_id}"
    return mask_email(row.to_address)


def deliver(session: Session, row: EmailOutbox, now: datetime, settings: MailSettings) -> None:
    """Hand a claimed row to its channel's transmitter."""
    if row.channel == "bot":
        group_bot_send.transmit(session, row, now, settings.bot_timeout)
    else:
        transmit(row, settings)


def send(
    session: Session, outbox_id: int, now: datetime, settings: MailSettings
) -> tuple[str, datetime | None]:
    """One attempt. Returns (outcome, when to retry): sent / retry / failed / skipped."""
    row = claim(session, outbox_id, now)
    if row is None:
        return "skipped", None
    try:
        deliver(session, row, now, settings)
    except (OSError, smtplib.SMTPException, group_bot_send.BotDeliveryError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
        permanent = getattr(exc, "permanent", False)
        if permanent or row.attempts >= settings.max_attempts:
            values = {"status": "failed", "last_error": error}
            outcome, retry_at = "failed", None
        else:
            retry_at = now + backoff(settings, row.attempts)
            values = {"next_attempt_at": retry_at, "last_error": error}
            outcome = "retry"
        session.execute(
            update(EmailOutbox)
            .where(EmailOutbox.id == outbox_id, EmailOutbox.status == "pending")
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        log.warning(
            "%s %s to %s: attempt %s failed (%s)",
            "bot message" if row.channel == "bot" else "mail",
            outbox_id,
            recipient(row),
            row.attempts,
            error,
        )
        return outcome, retry_at
    session.execute(
        update(EmailOutbox)
        .where(EmailOutbox.id == outbox_id)
        .values(status="sent", sent_at=now, last_error=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return "sent", None
