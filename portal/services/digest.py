"""The daily digest (docs/product.md §9): once a desk day, for each person who chose the digest
for a category, one mail listing their unread notifications of those categories since their
last digest, grouped by request.

Exactly once, even with two workers and retries: the digest of (person, desk day) is a
``DigestWatermark`` row, unique on both, inserted in a savepoint before the mail is queued in
the same transaction; whoever inserts second gets the conflict and sends nothing. The mail's
outbox dedupe key ``digest:<account>:<day>`` says the same a second time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.domain.notice_kinds import category_of
from portal.models import (
    Account,
    DigestWatermark,
    EmailOutbox,
    Notification,
    NotificationPreference,
)
from portal.presentation.notices import describe
from portal.services import notice_mail, outbox, preferences
from portal.services.mail import render_mail

# at most this many notifications in one digest (the rest wait for the portal's list)
MAX_ITEMS = 200


def desk_day(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def digest_key(account_id: int, day: date) -> str:
    return f"digest:{account_id}:{day.isoformat()}"


def anyone_wants(session: Session) -> bool:
    """Whether anyone chose the digest for anything (else no digest job is needed)."""
    return (
        session.scalar(
            select(NotificationPreference.id)
            .where(NotificationPreference.mode == "digest")
            .limit(1)
        )
        is not None
    )


def candidates(session: Session) -> list[int]:
    """The active people with an address who chose the digest for some category."""
    return list(
        session.scalars(
            select(Account.id)
            .join(NotificationPreference, NotificationPreference.account_id == Account.id)
            .where(
                NotificationPreference.mode == "digest",
                Account.active.is_(True),
                Account.email.is_not(None),
            )
            .distinct()
            .order_by(Account.id)
        )
    )


def pending(session: Session, account_id: int) -> list[Notification]:
    """The unread notifications a digest would list now: in the categories set to digest,
    after the last digest's."""
    wanted = {c for c, m in preferences.modes_for(session, account_id).items() if m == "digest"}
    if not wanted:
        return []
    after = session.scalar(
        select(func.max(DigestWatermark.last_notification_id)).where(
            DigestWatermark.account_id == account_id
        )
    )
    rows = session.scalars(
        select(Notification)
        .where(
            Notification.recipient_id == account_id,
            Notification.read_at.is_(None),
            Notification.id > (after or 0),
        )
        .order_by(Notification.id)
    )
    return [n for n in rows if category_of(n.kind) in wanted][:MAX_ITEMS]


def _groups(session: Session, account: Account, notes: list[Notification]) -> list[dict]:
    groups: dict[str, dict] = {}
    for note in notes:
        entry = notice_mail.item(session, account, note)
        number = entry["number"] or ""
        group = groups.setdefault(number, {"number": number, "title": entry["title"], "items": []})
        group["items"].append(entry)
    return list(groups.values())


def send_digest(session: Session, account_id: int, day: date) -> EmailOutbox | None:
    """Queue this person's digest of ``day`` in the caller's transaction (sent after its
    commit); None when there is nothing to tell or the day's digest exists already."""
    account = session.get(Account, account_id)
    if not notice_mail.mailable(account):
        return None
    notes = pending(session, account.id)
    if not notes:
        return None
    savepoint = session.begin_nested()
    try:
        session.add(
            DigestWatermark(account_id=account.id, day=day, last_notification_id=notes[-1].id)
        )
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        return None
    savepoint.commit()
    groups = _groups(session, account, notes)
    mail = render_mail(
        "digest",
        account.locale,
        describe=describe,
        groups=groups,
        count=len(notes),
        numbers=[g["number"] for g in groups if g["number"]],
        day=day,
        settings_link=notice_mail.settings_link(account),
    )
    return outbox.add(
        session,
        to_address=account.email,
        subject=mail.subject,
        body_text=mail.text,
        body_html=mail.html,
        dedupe_key=digest_key(account.id, day),
        meta={"kind": "digest", "account_id": account.id, "day": day.isoformat()},
    )
