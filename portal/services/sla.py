"""The SLA clock of a request, moved by lifecycle transitions (DESIGN §4).

- Due times: response and resolution from the SlaPolicy for the priority (the organisation's own,
  else the desk's default, created with the schema; the template's values if it was deleted),
  on the organisation's calendar (else the default calendar). Computed at submission from the
  proposed urgency; recomputed from submission when the priority is confirmed or changed.
- Pauses: the resolution clock stops while the desk waits for the customer — for an answer
  (awaiting_customer) and for the acceptance of a delivery (pending_acceptance). The answer and a
  failed acceptance resume it, and the resolution due time moves later by the paused time
  counted on the clock's calendar. A passed acceptance ends the pause: resolution was met at
  delivery.
- The first response the customer can see stops the response clock.

- Warnings: the instants at which ``warn_percent`` of each target is used, on the target's clock
  (``warn_at``), are stored on the request (``response_warn_at``, ``resolution_warn_at``) wherever
  the due times are set, recomputed or shifted, and whenever the clock's state changes (NULL while
  there is no warning to come: responded, paused, delivered, closed). A flush listener keeps them
  right for code that sets due times directly (the demo, a bulk change).

Whenever due times, the pause state or the status change, the timers are told
(``portal.services.timers.reschedule``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import event, inspect, or_, select
from sqlalchemy.orm import Session, object_session

from portal.domain import sla as rules
from portal.domain.calendar import BusinessCalendar
from portal.domain.vocabulary import OPEN_STATUSES
from portal.models import ServiceRequest, SlaPause, SlaPolicy, utcnow
from portal.services import audit, calendars, defaults, timers

log = logging.getLogger(__name__)

# actions that are a human response the customer can see
RESPONDING_ACTIONS = {"reply_public", "ask_customer", "confirm_assignment", "deliver"}
# actions that stop the resolution clock, and the reason recorded on the pause
PAUSING_ACTIONS = {"ask_customer": "awaiting_customer", "deliver": "pending_acceptance"}
RESUMING_ACTIONS = {"answer_customer", "accept_fail"}
# the clock stops for good (resolution was met when the delivery was made)
STOPPING_ACTIONS = {"accept_pass"}
# the priority was confirmed or changed: due times are recomputed from submission
RECOMPUTING_ACTIONS = {"classify", "reclassify"}
_OPEN = {s.value for s in OPEN_STATUSES}


def after_transition(
    session: Session, sr: ServiceRequest, action: str, previous_status: str, now: datetime
) -> None:
    changed = sr.status != previous_status
    if action in RESPONDING_ACTIONS and sr.first_response_at is None:
        sr.first_response_at = now
        changed = True
    if action in PAUSING_ACTIONS and sr.paused_since is None:
        pause(session, sr, PAUSING_ACTIONS[action], now)
        changed = True
    elif action in RESUMING_ACTIONS and sr.paused_since is not None:
        resume(session, sr, now)
        changed = True
    elif action in STOPPING_ACTIONS and sr.paused_since is not None:
        _end_pause(session, sr, now)
        changed = True
    if action in RECOMPUTING_ACTIONS:
        recompute(session, sr, now)
        changed = True
    if changed:
        refresh_warn_times(session, sr)
        timers.reschedule(session, sr)


# --- due times -------------------------------------------------------------------------------


def _default_policy(priority: str) -> SlaPolicy:
    """The template's policy of ``priority`` in memory (never added to the session)."""
    return SlaPolicy(**defaults.policy_values(priority))


def policy_for(session: Session, sr: ServiceRequest) -> SlaPolicy:
    """The policy for the request's priority (the proposed urgency until it is confirmed): the
    organisation's own, else the desk's default."""
    return policy_for_priority(session, sr.organisation_id, sr.priority or sr.proposed_urgency)


def policy_for_priority(session: Session, organisation_id: int | None, priority: str) -> SlaPolicy:
    """The organisation's policy for ``priority``, else the desk's default. The defaults are
    created with the schema (``portal.services.defaults``); if they were deleted, the
    template's values are used without writing them."""
    rows = session.scalars(
        select(SlaPolicy)
        .where(
            SlaPolicy.priority == priority,
            or_(
                SlaPolicy.organisation_id == organisation_id,
                SlaPolicy.organisation_id.is_(None),
            ),
        )
        .order_by(SlaPolicy.id)
    ).all()
    own = [p for p in rows if p.organisation_id is not None]
    if own:
        return own[0]
    if rows:
        return rows[0]
    _warn_missing_policy(priority)
    return _default_policy(priority)


@lru_cache(maxsize=8)
def _warn_missing_policy(priority: str) -> None:
    log.warning(
        "no default SLA policy for %s in the database: using the template's; "
        "`portal db upgrade` creates it",
        priority,
    )


def calendar_for(session: Session, sr: ServiceRequest) -> BusinessCalendar:
    return calendars.for_organisation(session, sr.organisation_id)


@dataclass(frozen=True)
class Clocks:
    """What a request's SLA runs on: its policy and the clocks of its two targets."""

    policy: SlaPolicy
    calendar: BusinessCalendar
    respond: rules.Target
    resolve: rules.Target

    @property
    def response_clock(self):
        return rules.clock_for(self.respond.unit, self.calendar)

    @property
    def resolution_clock(self):
        return rules.clock_for(self.resolve.unit, self.calendar)


def clocks_for(session: Session, sr: ServiceRequest) -> Clocks:
    policy = policy_for(session, sr)
    return Clocks(
        policy,
        calendar_for(session, sr),
        rules.Target(policy.respond_amount, policy.respond_unit),
        rules.Target(policy.resolve_amount, policy.resolve_unit),
    )


def on_submitted(session: Session, sr: ServiceRequest, now: datetime) -> None:
    """Both clocks start at submission (from the proposed urgency until classification)."""
    c = clocks_for(session, sr)
    sr.response_due_at = rules.due(c.respond, c.calendar, sr.submitted_at)
    sr.resolution_due_at = rules.due(c.resolve, c.calendar, sr.submitted_at)
    refresh_warn_times(session, sr, c)
    timers.reschedule(session, sr)


def pauses_of(session: Session, sr: ServiceRequest) -> list[SlaPause]:
    return list(
        session.scalars(
            select(SlaPause).where(SlaPause.request_id == sr.id).order_by(SlaPause.started_at)
        )
    )


def recompute(session: Session, sr: ServiceRequest, now: datetime) -> None:
    """Due times again from submission, for the priority as it is now; time already paused (and
    resumed) is added on. A pause still open is added when it ends."""
    c = clocks_for(session, sr)
    before = _dues(sr)
    closed = [(p.started_at, p.ended_at) for p in pauses_of(session, sr) if p.ended_at]
    paused = rules.paused_time(c.resolution_clock, closed, now)
    sr.response_due_at = rules.due(c.respond, c.calendar, sr.submitted_at)
    sr.resolution_due_at = rules.due(c.resolve, c.calendar, sr.submitted_at, paused)
    refresh_warn_times(session, sr, c)
    if _dues(sr) != before:
        audit.record(
            session,
            audit.SYSTEM,
            now,
            "request.sla_recomputed",
            "service_request",
            sr.number,
            before=before,
            after={**_dues(sr), "priority": sr.priority or sr.proposed_urgency},
        )
    timers.reschedule(session, sr)


@event.listens_for(Session, "before_flush")
def _recompute_on_priority_change(session: Session, flush_context, instances) -> None:
    """A priority set or changed by any code path (classification, a bulk re-prioritisation)
    recomputes the due times from submission, unless the same change set the due times itself."""
    for obj in list(session.dirty):
        if not isinstance(obj, ServiceRequest) or obj.id is None:
            continue
        state = inspect(obj)
        priority = state.attrs.priority.history
        if not priority.has_changes() or list(priority.added) == list(priority.deleted):
            continue
        if (
            state.attrs.resolution_due_at.history.has_changes()
            or state.attrs.response_due_at.history.has_changes()
        ):
            continue
        recompute(session, obj, obj.updated_at or utcnow())


def _dues(sr: ServiceRequest) -> dict:
    def iso(value):
        return value.isoformat() if value else None

    return {
        "response_due_at": iso(sr.response_due_at),
        "resolution_due_at": iso(sr.resolution_due_at),
    }


# --- pauses ----------------------------------------------------------------------------------


def pause(session: Session, sr: ServiceRequest, reason: str, now: datetime) -> None:
    sr.paused_since = now
    sr.resolution_warn_at = None  # no warning while the clock stands still
    session.add(SlaPause(request_id=sr.id, reason=reason, started_at=now))


def _end_pause(session: Session, sr: ServiceRequest, now: datetime) -> datetime:
    open_pause = session.scalar(
        select(SlaPause)
        .where(SlaPause.request_id == sr.id, SlaPause.ended_at.is_(None))
        .order_by(SlaPause.started_at.desc())
    )
    if open_pause is not None:
        open_pause.ended_at = now
    started = sr.paused_since
    sr.paused_seconds += max(0, int((now - started).total_seconds()))
    sr.paused_since = None
    return started


def resume(session: Session, sr: ServiceRequest, now: datetime) -> None:
    """End the pause; the resolution due time moves later by the paused time on its clock."""
    started = _end_pause(session, sr, now)
    if sr.resolution_due_at is None:
        return
    c = clocks_for(session, sr)
    before = _dues(sr)
    sr.resolution_due_at = rules.shift_for_pause(
        c.resolution_clock, sr.resolution_due_at, started, now
    )
    refresh_warn_times(session, sr, c)  # the warning moves with the due time
    audit.record(
        session,
        audit.SYSTEM,
        now,
        "request.sla_resumed",
        "service_request",
        sr.number,
        before=before,
        after={**_dues(sr), "paused_from": started.isoformat()},
    )


# --- helpers for the timers ------------------------------------------------------------------


@dataclass(frozen=True)
class WarnTimes:
    response: datetime | None
    resolution: datetime | None


def warn_at(sr: ServiceRequest, policy: SlaPolicy, calendar: BusinessCalendar | None = None):
    """When the warnings are due: ``policy.warn_percent`` of each target consumed (on the
    target's clock, paused time not counted). None for a clock that is met, paused or stopped."""
    if sr.status not in _OPEN:
        return WarnTimes(None, None)
    if calendar is None:
        calendar = calendar_for(object_session(sr), sr)
    percent = policy.warn_percent
    response = resolution = None
    if sr.response_due_at is not None and sr.first_response_at is None:
        target = rules.Target(policy.respond_amount, policy.respond_unit)
        response = _warn(target, calendar, sr.submitted_at, sr.response_due_at, percent)
    if (
        sr.resolution_due_at is not None
        and sr.paused_since is None
        and sr.status in timers.RUNNING  # a delivery waiting for acceptance counts as met
    ):
        target = rules.Target(policy.resolve_amount, policy.resolve_unit)
        resolution = _warn(target, calendar, sr.submitted_at, sr.resolution_due_at, percent)
    return WarnTimes(response, resolution)


def _warn(target, calendar, start, due_at, percent) -> datetime:
    clock = rules.clock_for(target.unit, calendar)
    spent_before_warn = clock.working_time(start, due_at) - rules.duration(target, clock) * (
        (100 - max(0, min(percent, 100))) / 100
    )
    return clock.add(start, max(spent_before_warn, timedelta(0)))


def refresh_warn_times(session: Session, sr: ServiceRequest, clocks: Clocks | None = None) -> None:
    """Store the request's warning instants (``warn_at``); NULL for a clock without a warning to
    come, including one whose warning would not come before its due time (warn 100 %)."""
    if clocks is None:
        policy, calendar = policy_for(session, sr), calendar_for(session, sr)
    else:
        policy, calendar = clocks.policy, clocks.calendar
    warn = warn_at(sr, policy, calendar)

    def before_due(at: datetime | None, due_at: datetime | None) -> datetime | None:
        return at if at is not None and due_at is not None and at < due_at else None

    sr.response_warn_at = before_due(warn.response, sr.response_due_at)
    sr.resolution_warn_at = before_due(warn.resolution, sr.resolution_due_at)
    # what they were computed from, so that the flush listener need not compute them again
    session.info.setdefault("portal_warn_inputs", {})[id(sr)] = _warn_inputs(sr)


def _warn_inputs(sr: ServiceRequest) -> tuple:
    return tuple(getattr(sr, name) for name in _WARN_INPUTS)


# what the warning instants depend on
_WARN_INPUTS = (
    "status",
    "priority",
    "proposed_urgency",
    "organisation_id",
    "submitted_at",
    "response_due_at",
    "resolution_due_at",
    "paused_since",
    "first_response_at",
)


@event.listens_for(Session, "before_flush")
def _warn_times_follow_the_clock(session: Session, flush_context, instances) -> None:
    """Code that moves a clock without this module (the demo setting due times, a test, a bulk
    change) still gets the warning instants right: a change of anything they depend on
    recomputes them, unless they were computed from exactly the current values. Registered
    after the priority listener above, so a recomputation there is seen here."""
    fresh = session.info.pop("portal_warn_inputs", None) or {}
    for obj in list(session.dirty):
        if not isinstance(obj, ServiceRequest) or obj.id is None:
            continue
        if fresh.get(id(obj)) == _warn_inputs(obj):
            continue
        state = inspect(obj)
        if not any(state.attrs[name].history.has_changes() for name in _WARN_INPUTS):
            continue
        refresh_warn_times(session, obj)
    session.info.pop("portal_warn_inputs", None)


@event.listens_for(Session, "after_rollback")
def _forget_warn_inputs(session: Session) -> None:
    session.info.pop("portal_warn_inputs", None)
