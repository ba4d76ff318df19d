"""In-portal notifications, each at most once per dedupe key."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Notification


def notify(
    session: Session,
    recipient_id: int,
    kind: str,
    request_id: int | None,
    params: dict,
    dedupe_key: str | None = None,
) -> int:
    """Add a notification; returns 1 when added, 0 when its dedupe key was already there."""
    if dedupe_key is not None and session.scalar(
        select(Notification.id).where(Notification.dedupe_key == dedupe_key)
    ):
        return 0
    session.add(
        Notification(
            recipient_id=recipient_id,
            kind=kind,
            request_id=request_id,
            params=params,
            dedupe_key=dedupe_key,
        )
    )
    session.flush()
    return 1
