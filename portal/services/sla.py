"""The SLA clock of a request, moved by lifecycle transitions (docs/product.md §4).

- Due times: response and resolution from the targets for the priority in the SLA policy
  version the request was stamped with at submission (the current version of its
  organisation's policy, else of the built-in one, created with the schema; the template's
  values if it was deleted: ``portal.services.sla_policies``), on the organisation's calendar
  (else the default calendar). A later change of the policy applies to requests submitted
  afterwards. Computed at submission from the
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
  right for code that sets due times directly (a test, a bulk change).

- A change of a calendar (the yearly notice imported, an override added or removed, the working
  hours, zone or country changed) moves the due and warning instants of the open requests on it
  whose targets are still to be met (``follow_calendar``), in the calendar change's transaction:
  each moved request gets an audit entry, shown on its SLA panel (``calendar_moves``).

Whenever due times, the pause state or the status change, the timers are told
(``portal.services.timers.reschedule``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, event, inspect, or_, select
from sqlalchemy.orm import Session, object_session

from portal.domain import sla as rules
from portal.domain.calendar import BusinessCalendar
from portal.domain.vocabulary import OPEN_STATUSES, Status
from portal.models import (
    AuditEvent,
    Calendar,
    Organisation,
    ServiceRequest,
    SlaPause,
    SlaTarget,
    utcnow,
)
from portal.services import audit, calendars, sla_policies, timers

log = logging.getLogger(__name__)

# actions that are a human response the customer can see
RESPONDING_ACTIONS = {"reply_public", "ask_customer", "confirm_assignment", "deliver"}
# actions that stop the resolution clock, and the reason recorded on the pause
PAUSING_ACTIONS = {"ask_customer": "awaiting_customer", "deliver": "pending_acceptance"}
RESUMING_ACTIONS = {"answer_customer", "accept_fail"}
# the clock stops for good (resolution was met when the delivery was made)
STOPPING_ACTIONS = {"accept_pass"}
# the priority was confirmed or changed: due times are recomputed from submission
RECOMPUTING_ACTIONS = {"classify", "reclassify", "plan_classify"}
_OPEN = {s.value for s in OPEN_STATUSES}


def after_transition(
    session: Session, sr: ServiceRequest, action: str, previous_status: str, now: datetime
) -> None:
    changed = sr.status != previous_status
    if action in RESPONDING_ACTIONS and sr.first_response_at is None:
        sr.first_response_at = now
        record_times(session, sr)
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
    if action in STOPPING_ACTIONS:
        record_times(session, sr, resolved_at=sr.delivered_at or now)
    if action in RECOMPUTING_ACTIONS:
        recompute(session, sr, now)
        changed = True
    if changed:
        refresh_warn_times(session, sr)
        timers.reschedule(session, sr)


# --- due times -------------------------------------------------------------------------------


def version_of(session: Session, sr: ServiceRequest) -> int | None:
    """The policy version ``sr`` is measured against: the one it was stamped with at
    submission; for a request never stamped (written around the services), the current version
    of its organisation's policy."""
    if sr.sla_policy_version_id is not None:
        return sr.sla_policy_version_id
    return sla_policies.current_version_id(session, sr.organisation_id)


def policy_for(session: Session, sr: ServiceRequest) -> SlaTarget:
    """The targets for the request's priority (the proposed urgency until it is confirmed) in
    the policy version it was submitted under: a reclassification uses the same version."""
    return sla_policies.target(session, version_of(session, sr), sr.priority or sr.proposed_urgency)


def policy_for_priority(session: Session, organisation_id: int | None, priority: str) -> SlaTarget:
    """The targets of ``priority`` in the current version of the organisation's policy (the
    built-in one when it names none). The built-in policy is created with the schema
    (``portal.services.defaults``); if it was deleted, the template's values are used without
    writing them."""
    return sla_policies.target(
        session, sla_policies.current_version_id(session, organisation_id), priority
    )


def calendar_for(session: Session, sr: ServiceRequest) -> BusinessCalendar:
    return calendars.for_organisation(session, sr.organisation_id)


@dataclass(frozen=True)
class Clocks:
    """What a request's SLA runs on: its policy and the clocks of its two targets."""

    policy: SlaTarget
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
    """The request is stamped with the current version of its organisation's policy (it is
    measured against those targets for good); both clocks start at submission (from the
    proposed urgency until classification)."""
    if sr.sla_policy_version_id is None:
        sr.sla_policy_version_id = sla_policies.current_version_id(session, sr.organisation_id)
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
    if sr.response_seconds is not None or sr.resolution_seconds is not None:
        resolved = sr.delivered_at if sr.resolution_seconds is not None else None
        record_times(session, sr, c, resolved_at=resolved)
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


# --- the time each target took (for the reports) -----------------------------------------


def record_times(
    session: Session,
    sr: ServiceRequest,
    clocks: Clocks | None = None,
    resolved_at: datetime | None = None,
) -> None:
    """Store how long each target took on its clock (``response_seconds``, and with
    ``resolved_at`` — the accepted delivery — ``resolution_seconds``): working time where the
    target runs on the business calendar, elapsed time on the 24×7 clock, the time paused for
    the customer left out. The reports aggregate these columns in SQL
    (``portal.services.reports``)."""
    c = clocks or clocks_for(session, sr)
    if sr.first_response_at is not None:
        taken = c.response_clock.working_time(sr.submitted_at, sr.first_response_at)
        sr.response_seconds = max(0, int(taken.total_seconds()))
    if resolved_at is not None:
        clock = c.resolution_clock
        pauses = [
            (p.started_at, min(p.ended_at or resolved_at, resolved_at))
            for p in pauses_of(session, sr)
            if p.started_at < resolved_at
        ]
        taken = clock.working_time(sr.submitted_at, resolved_at) - rules.paused_time(
            clock, pauses, resolved_at
        )
        sr.resolution_seconds = max(0, int(taken.total_seconds()))


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


# --- the outcome of a finished request ------------------------------------------------------

FINISHED = {"completed", "closed", "cancelled"}


@dataclass(frozen=True)
class Outcomes:
    """How a finished request did against its two targets (None: the target had no due time)."""

    response: rules.Outcome | None
    resolution: rules.Outcome | None


def outcomes(session: Session, sr: ServiceRequest, clocks: Clocks | None = None) -> Outcomes | None:
    """Whether a finished request (completed, closed or cancelled) met its targets, and by how
    much on each target's clock; None while it is open (its clock is still running). The
    response was met by the first response; the resolution by the delivery the customer
    accepted (``delivered_at``, the latest delivery); a cancelled request was never resolved."""
    if sr.status not in FINISHED:
        return None
    c = clocks or clocks_for(session, sr)
    ended = sr.cancelled_at or sr.completed_at or sr.closed_at or sr.updated_at
    resolved = None if sr.status == "cancelled" else (sr.delivered_at or sr.completed_at)
    return Outcomes(
        response=rules.outcome(c.response_clock, sr.response_due_at, sr.first_response_at, ended),
        resolution=rules.outcome(c.resolution_clock, sr.resolution_due_at, resolved, ended),
    )


# --- helpers for the timers ------------------------------------------------------------------


@dataclass(frozen=True)
class WarnTimes:
    response: datetime | None
    resolution: datetime | None


def warn_at(sr: ServiceRequest, policy: SlaTarget, calendar: BusinessCalendar | None = None):
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
    "sla_policy_version_id",
    "submitted_at",
    "response_due_at",
    "resolution_due_at",
    "paused_since",
    "first_response_at",
)


@event.listens_for(Session, "before_flush")
def _warn_times_follow_the_clock(session: Session, flush_context, instances) -> None:
    """Code that moves a clock without this module (a test setting due times, a bulk
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


# --- due times follow the calendar -----------------------------------------------------------

CALENDAR_MOVED = "request.sla_calendar_moved"
# the open requests are moved this many at a time (one query for them, one for their pauses)
CALENDAR_BATCH = 200
# the resolution clock still has its target ahead in these states (paused for the customer
# included); a delivery waiting for acceptance counts as met at delivery and is not moved
_RESOLUTION_TO_MEET = (*timers.RUNNING, Status.AWAITING_CUSTOMER.value)


def _response_to_meet(sr: ServiceRequest, now: datetime) -> bool:
    """The response target is still ahead: not met, and not breached already (a breach that
    happened stays where it happened)."""
    return (
        sr.status in _OPEN
        and sr.first_response_at is None
        and sr.response_due_at is not None
        and sr.response_due_at > now
    )


def _resolution_to_meet(sr: ServiceRequest, now: datetime) -> bool:
    """The same for resolution; a paused clock had not breached if its due time came after the
    pause began."""
    return (
        sr.status in _RESOLUTION_TO_MEET
        and sr.resolution_due_at is not None
        and sr.resolution_due_at > (sr.paused_since or now)
    )


def follow_calendar(
    session: Session,
    actor: audit.Actor,
    now: datetime,
    calendar_id: int,
    days: tuple[date, date] | None,
    reason: dict,
) -> int:
    """After calendar ``calendar_id`` changed on the local dates ``days`` (first, last; None: the
    whole calendar — its hours, zone or country), recompute from submission the due and warning
    instants of the open requests on it whose targets are still to be met, as ``recompute``
    does; a met or breached target keeps its instants. Only the requests that can be touched are
    read — on this calendar (their organisation's, or the default one), open, submitted before
    the last changed date ends, a target due after the first changed date begins — in batches
    of ``CALENDAR_BATCH``. Each moved request gets an audit entry (``reason`` says what changed)
    and its timers are rescheduled after the commit. Returns how many moved."""
    row = session.get(Calendar, calendar_id)
    if row is None:
        return 0
    calendar = calendars.load(session, row)
    SR = ServiceRequest
    on_calendar = Organisation.calendar_id == calendar_id
    if calendars.default_calendar(session).id == calendar_id:
        on_calendar = or_(on_calendar, Organisation.calendar_id.is_(None))
    since = now
    where = [
        SR.status.in_(_OPEN),
        SR.organisation_id.in_(select(Organisation.id).where(on_calendar)),
    ]
    if days is not None:
        first, last = days
        begins = datetime.combine(first, time(0), calendar.tz).astimezone(UTC)
        ends = datetime.combine(last + timedelta(days=1), time(0), calendar.tz).astimezone(UTC)
        since = max(now, begins)
        where.append(SR.submitted_at < ends)
    else:
        begins = None
    resolution_due_after = [SR.resolution_due_at > begins] if begins is not None else []
    where.append(
        or_(
            and_(SR.first_response_at.is_(None), SR.response_due_at > since),
            and_(
                SR.status.in_(_RESOLUTION_TO_MEET),
                *resolution_due_after,
                or_(
                    and_(SR.paused_since.is_(None), SR.resolution_due_at > now),
                    and_(SR.paused_since.is_not(None), SR.resolution_due_at > SR.paused_since),
                ),
            ),
        )
    )
    moved = 0
    after_id = 0
    while True:
        batch = list(
            session.scalars(
                select(SR).where(*where, SR.id > after_id).order_by(SR.id).limit(CALENDAR_BATCH)
            )
        )
        if not batch:
            break
        after_id = batch[-1].id
        closed: dict[int, list[tuple[datetime, datetime]]] = {}
        for pause in session.scalars(
            select(SlaPause)
            .where(SlaPause.request_id.in_([sr.id for sr in batch]), SlaPause.ended_at.is_not(None))
            .order_by(SlaPause.started_at)
        ):
            closed.setdefault(pause.request_id, []).append((pause.started_at, pause.ended_at))
        # the targets of the versions the batch is measured against, in one query
        targets = sla_policies.targets_for_versions(
            session, {sr.sla_policy_version_id for sr in batch if sr.sla_policy_version_id}
        )
        for sr in batch:
            priority = sr.priority or sr.proposed_urgency
            policy = targets.get((sr.sla_policy_version_id, priority)) or policy_for(session, sr)
            clocks = Clocks(
                policy,
                calendar,
                rules.Target(policy.respond_amount, policy.respond_unit),
                rules.Target(policy.resolve_amount, policy.resolve_unit),
            )
            if _follow(session, actor, now, sr, clocks, closed.get(sr.id, []), row, reason):
                moved += 1
        session.flush()
    return moved


def _follow(session, actor, now, sr, clocks: Clocks, closed, row: Calendar, reason: dict) -> bool:
    """Move ``sr``'s due times on the changed calendar; False when none moved."""
    new: dict[str, datetime] = {}
    if _response_to_meet(sr, now):
        new["response_due_at"] = rules.due(clocks.respond, clocks.calendar, sr.submitted_at)
    if _resolution_to_meet(sr, now):
        paused = rules.paused_time(clocks.resolution_clock, closed, now)
        new["resolution_due_at"] = rules.due(
            clocks.resolve, clocks.calendar, sr.submitted_at, paused
        )
    changed = {k: v for k, v in new.items() if v != getattr(sr, k)}
    if not changed:
        return False
    before = _dues(sr)
    for name, value in changed.items():
        setattr(sr, name, value)
    after = _dues(sr)
    refresh_warn_times(session, sr, clocks)
    audit.record(
        session,
        actor,
        now,
        CALENDAR_MOVED,
        "service_request",
        sr.number,
        before={k: before[k] for k in changed},
        after={
            **{k: after[k] for k in changed},
            "calendar_id": row.id,
            "calendar": row.name,
            **reason,
        },
    )
    timers.reschedule(session, sr)
    return True


@dataclass(frozen=True)
class CalendarMove:
    """A request's due times moved by a calendar change, for its SLA panel."""

    at: datetime
    calendar: str
    reason: dict
    response: tuple[datetime, datetime] | None  # (before, after)
    resolution: tuple[datetime, datetime] | None


def calendar_moves(session: Session, sr: ServiceRequest, limit: int = 20) -> list[CalendarMove]:
    """The latest ``limit`` calendar moves of ``sr``, oldest first (from its audit entries)."""
    rows = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.object_type == "service_request",
            AuditEvent.object_id == sr.number,
            AuditEvent.action == CALENDAR_MOVED,
        )
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    ).all()

    def pair(entry: AuditEvent, key: str) -> tuple[datetime, datetime] | None:
        old, new = (entry.before or {}).get(key), (entry.after or {}).get(key)
        if not old or not new:
            return None
        return datetime.fromisoformat(old), datetime.fromisoformat(new)

    return [
        CalendarMove(
            at=entry.occurred_at,
            calendar=(entry.after or {}).get("calendar", ""),
            reason={
                k: v
                for k, v in (entry.after or {}).items()
                if k not in ("calendar", "calendar_id", "response_due_at", "resolution_due_at")
            },
            response=pair(entry, "response_due_at"),
            resolution=pair(entry, "resolution_due_at"),
        )
        for entry in reversed(rows)
    ]
