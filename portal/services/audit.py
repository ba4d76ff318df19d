"""Writing audit events in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from portal.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who acts, and from where: passed into every service."""

    account_id: int | None
    ip: str | None = None
    http_request_id: str | None = None


SYSTEM = Actor(account_id=None)


def record(
    session: Session,
    actor: Actor,
    now: datetime,
    action: str,
    obj_type: str,
    obj_id: object,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    event = AuditEvent(
        occurred_at=now,
        actor_id=actor.account_id,
        action=action,
        object_type=obj_type,
        object_id=str(obj_id),
        before=before,
        after=after,
        ip=actor.ip,
        http_request_id=actor.http_request_id,
    )
    session.add(event)
    return event
