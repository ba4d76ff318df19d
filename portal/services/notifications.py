"""In-portal notifications, each at most once per dedupe key, and each also by e-mail as its
recipient chose (portal/services/notice_mail.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Notification
from portal.services import notice_mail


def notify(
    session: Session,
    recipient_id: int,
    kind: str,
    request_id: int | None,
    params: dict,
    dedupe_key: str | None = None,
    *,
    mail: bool = True,
    mails: list[int] | None = None,
) -> int:
    """Add a notification; returns 1 when added, 0 when its dedupe key was already there.

    With it, one mail is queued in the same transaction (sent by a job after commit) unless
    the recipient has no e-mail, is inactive, or chose the digest or no mail for the kind's
    category; ``mail=False`` for a caller that sends a mail of its own. With ``mails``, the
    mail's outbox id is appended there and no job is enqueued: the caller sends it after its
    own commit."""
    if dedupe_key is not None and session.scalar(
        select(Notification.id).where(Notification.dedupe_key == dedupe_key)
    ):
        return 0
    notification = Notification(
        recipient_id=recipient_id,
        kind=kind,
        request_id=request_id,
        params=params,
        dedupe_key=dedupe_key,
    )
    session.add(notification)
    session.flush()
    if mail:
        row = notice_mail.queue(session, notification, enqueue=mails is None)
        if row is not None and mails is not None:
            mails.append(row.id)
    return 1
