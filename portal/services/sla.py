"""The SLA clock of a request, moved by lifecycle transitions (DESIGN §4).

Here: pause and resume accounting (awaiting the customer stops the resolution clock; the answer
resumes it) and the first response the customer can see. Due-time arithmetic on business
calendars and the timers build on these fields.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import ServiceRequest, SlaPause

# actions that are a human response the customer can see
RESPONDING_ACTIONS = {"reply_public", "ask_customer", "confirm_assignment", "deliver"}
PAUSING_ACTIONS = {"ask_customer": "awaiting_customer"}
RESUMING_ACTIONS = {"answer_customer"}


def after_transition(
    session: Session, sr: ServiceRequest, action: str, previous_status: str, now: datetime
) -> None:
    if action in RESPONDING_ACTIONS and sr.first_response_at is None:
        sr.first_response_at = now
    if action in PAUSING_ACTIONS and sr.paused_since is None:
        pause(session, sr, PAUSING_ACTIONS[action], now)
    elif action in RESUMING_ACTIONS and sr.paused_since is not None:
        resume(session, sr, now)


def pause(session: Session, sr: ServiceRequest, reason: str, now: datetime) -> None:
    sr.paused_since = now
    session.add(SlaPause(request_id=sr.id, reason=reason, started_at=now))


def resume(session: Session, sr: ServiceRequest, now: datetime) -> None:
    open_pause = session.scalar(
        select(SlaPause)
        .where(SlaPause.request_id == sr.id, SlaPause.ended_at.is_(None))
        .order_by(SlaPause.started_at.desc())
    )
    if open_pause is not None:
        open_pause.ended_at = now
    sr.paused_seconds += max(0, int((now - sr.paused_since).total_seconds()))
    sr.paused_since = None
