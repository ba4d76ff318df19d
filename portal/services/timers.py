"""SLA timers on RQ (docs/product.md §4): which deadlines a request has, scheduling one job per deadline
after commit, and the sweep that repairs what a lost Redis or a dead worker missed.

The database is the source of truth. A deadline is (request, kind, due_at); its job id is
deterministic, so scheduling twice replaces, never doubles. The job and the sweep re-read the
request and fire through ``portal.services.escalation.fire``, whose unique key (request_id, kind,
due_at) makes every event happen once whatever runs it how often.

Changes are picked up two ways: ``reschedule(session, sr)`` (called by the SLA clock code), and a
flush listener that notices a changed status, due time, pause, handler, completion or a new or
changed improvement measure on its own, so no caller can forget.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, event, exists, func, inspect, select
from sqlalchemy.orm import Session, object_session

from portal.domain.vocabulary import OPEN_STATUSES, Status
from portal.models import (
    EmailOutbox,
    Feedback,
    ImprovementMeasure,
    Organisation,
    ServiceRequest,
    SlaEvent,
    SlaTarget,
)
from portal.services import defaults, sla_policies

log = logging.getLogger(__name__)

# the resolution clock runs in these states (awaiting the customer pauses it; a delivery waiting
# for acceptance counts as resolved unless the acceptance fails, which sends it back to work)
RUNNING = (Status.SUBMITTED.value, Status.PENDING_ASSIGNMENT.value, Status.IN_PROGRESS.value)
OPEN = tuple(s.value for s in OPEN_STATUSES)

DEFAULT_WARN_PERCENT = 75
DEFAULT_ESCALATE_AFTER_MINUTES = defaults.DEFAULT_ESCALATE_AFTER_MINUTES
# overdue-not-started when no response target is known
DEFAULT_NOT_STARTED = timedelta(hours=8)
FEEDBACK_WINDOW_WORKING_DAYS = 3
# a delivery waits this many working days for its acceptance; the customer is reminded a working
# day before the end (nothing happens by itself at the end: the handler follows it up)
ACCEPTANCE_WINDOW_WORKING_DAYS = 3
# a measure's owner is told it is due soon at this hour (desk time) of the working day before
MEASURE_DUE_SOON_HOUR = 9
MEASURE_KINDS = ("measure_overdue:", "measure_due_soon:")

LAST_SWEEP_KEY = "portal:sla:last_sweep"

# attributes whose change moves a request's deadlines
_WATCHED = (
    "status",
    "priority",
    "response_due_at",
    "resolution_due_at",
    "response_warn_at",
    "resolution_warn_at",
    "paused_since",
    "handler_id",
    "assigned_at",
    "first_response_at",
    "work_started_at",
    "completed_at",
)


@dataclass(frozen=True)
class Deadline:
    request_id: int
    kind: str  # response_warn, resolution_breach, not_started, feedback_invite, measure_overdue:7…
    due_at: datetime  # the key of its SlaEvent (for a warning: the due time it warns about)
    fire_at: datetime  # for a warning: the instant stored on the request (see below)

    @property
    def due_epoch(self) -> int:
        return int(self.due_at.timestamp())

    @property
    def job_id(self) -> str:
        # RQ job ids allow letters, digits, "_" and "-" only
        return f"sla-{self.request_id}-{self.kind.replace(':', '_')}-{self.due_epoch}"


@dataclass(frozen=True)
class Policy:
    warn_percent: int = DEFAULT_WARN_PERCENT
    escalate_after_minutes: int = DEFAULT_ESCALATE_AFTER_MINUTES


# --- the policy ----------------------------------------------------------------------------------


@dataclass
class Policies:
    """The warning and escalation settings of every policy version (a small table: policies ×
    versions × priorities), read once for a batch of requests."""

    by_version: dict[tuple[int, str], Policy]  # (version id, priority)
    builtin_version: int | None  # the built-in policy's current version
    # for requests never stamped with a version: organisation → its policy's current version
    _current: dict[int, int | None] = field(default_factory=dict)

    def values(self):
        return self.by_version.values()

    def version_of(self, sr: ServiceRequest) -> int | None:
        if sr.sla_policy_version_id is not None:
            return sr.sla_policy_version_id
        if sr.organisation_id not in self._current:
            session = object_session(sr)
            self._current[sr.organisation_id] = (
                sla_policies.current_version_id(session, sr.organisation_id)
                if session is not None
                else self.builtin_version
            )
        return self._current[sr.organisation_id]


def load_policies(session: Session) -> Policies:
    """Every policy version's settings per priority, and the built-in policy's current
    version (two queries)."""
    return Policies(
        by_version={
            (t.version_id, t.priority): Policy(t.warn_percent, t.escalate_after_minutes)
            for t in session.scalars(select(SlaTarget))
        },
        builtin_version=sla_policies.current_version_id(session, None),
    )


def policy_of(policies: Policies, sr: ServiceRequest) -> Policy:
    """The settings ``sr`` is measured against: its version's for its priority, else the
    built-in policy's, else the template's."""
    priority = sr.priority or sr.proposed_urgency
    return (
        policies.by_version.get((policies.version_of(sr), priority))
        or policies.by_version.get((policies.builtin_version, priority))
        or Policy()
    )


# --- the deadlines of a request ----------------------------------------------------------------


def feedback_window(
    completed_at: datetime, calendar, days: int = FEEDBACK_WINDOW_WORKING_DAYS
) -> tuple[datetime, datetime]:
    """(reminder, end) of the feedback window of ``days`` working days (the organisation's
    ``feedback_window_days``; the template's 3) that opens at ``completed_at``, counted on
    ``calendar`` (the business calendar of the request's organisation). The reminder goes out a
    working day before the end (half a day before it in a one-day window)."""
    days = days if isinstance(days, int) and days > 0 else FEEDBACK_WINDOW_WORKING_DAYS
    if calendar is not None:
        day = calendar.standard_day
        try:
            end = calendar.add(completed_at, day * days)
            reminder = calendar.add(completed_at, day * (days - 1) if days > 1 else day / 2)
            return reminder, end
        except Exception:  # noqa: BLE001  (a calendar without working time: count days)
            log.warning("feedback window: calendar failed, counting calendar days")
    end = completed_at + timedelta(days=days)
    return end - (timedelta(days=1) if days > 1 else timedelta(hours=12)), end


def feedback_calendar(sr: ServiceRequest):
    """The calendar that governs the request's organisation, from the request's session; the
    built-in default in the desk's zone for a request without one."""
    from portal.services import calendars

    session = object_session(sr)
    if session is None:
        return calendars.builtin_default(calendars.desk_timezone())
    return calendars.for_organisation(session, sr.organisation_id)


def feedback_days(sr: ServiceRequest) -> int:
    """The length in working days of the request's feedback window: its organisation's
    ``feedback_window_days`` (from the identity map when the organisation is loaded), else the
    template's 3."""
    session = object_session(sr)
    if session is None or sr.organisation_id is None:
        return FEEDBACK_WINDOW_WORKING_DAYS
    org = session.get(Organisation, sr.organisation_id)
    return (org.feedback_window_days if org is not None else None) or FEEDBACK_WINDOW_WORKING_DAYS


def feedback_window_of(sr: ServiceRequest) -> tuple[datetime, datetime]:
    """(reminder, end) of a completed request's feedback window, on its organisation's
    calendar, as long as its organisation's window."""
    return feedback_window(sr.completed_at, feedback_calendar(sr), feedback_days(sr))


def acceptance_window(sr: ServiceRequest, delivered_at: datetime) -> tuple[datetime, datetime]:
    """(reminder, end) of the acceptance window of a delivery made at ``delivered_at``: 3
    working days on the calendar of the request's organisation, the reminder a day before."""
    return feedback_window(delivered_at, feedback_calendar(sr), ACCEPTANCE_WINDOW_WORKING_DAYS)


def deadlines_for(sr: ServiceRequest, policy: Policy, timezone: str) -> list[Deadline]:
    """Every deadline that ``sr`` has in its current state (fired or not)."""
    out: list[Deadline] = []

    def clock(name: str, warn: datetime | None, due: datetime) -> None:
        # the warning instant is stored on the request, computed in working time on its calendar
        # by portal.services.sla (NULL: no warning to come)
        if warn is not None and warn < due:
            out.append(Deadline(sr.id, f"{name}_warn", due, warn))
        out.append(Deadline(sr.id, f"{name}_breach", due, due))
        later = due + timedelta(minutes=policy.escalate_after_minutes)
        out.append(Deadline(sr.id, f"{name}_escalation", due, later))

    if sr.status in OPEN and sr.first_response_at is None and sr.response_due_at is not None:
        clock("response", sr.response_warn_at, sr.response_due_at)
    if sr.status in RUNNING and sr.paused_since is None and sr.resolution_due_at is not None:
        clock("resolution", sr.resolution_warn_at, sr.resolution_due_at)
    if (
        sr.status == Status.IN_PROGRESS
        and sr.handler_id is not None
        and sr.assigned_at is not None
        and sr.work_started_at is None
    ):
        at = sr.assigned_at + _not_started_span(sr)
        out.append(Deadline(sr.id, "not_started", at, at))
    if sr.status == Status.PENDING_ACCEPTANCE and sr.delivered_at is not None:
        reminder, _end = acceptance_window(sr, sr.delivered_at)
        out.append(Deadline(sr.id, "acceptance_reminder", sr.delivered_at, reminder))
    if sr.status == Status.COMPLETED and sr.completed_at is not None:
        reminder, end = feedback_window_of(sr)
        out.append(Deadline(sr.id, "feedback_invite", sr.completed_at, sr.completed_at))
        out.append(Deadline(sr.id, "feedback_reminder", sr.completed_at, reminder))
        out.append(Deadline(sr.id, "feedback_close", sr.completed_at, end))
    return out


def _not_started_span(sr: ServiceRequest) -> timedelta:
    """Assigned and no step logged within the response target (measured from assignment)."""
    if sr.response_due_at is not None:
        return max(sr.response_due_at - sr.submitted_at, timedelta(minutes=1))
    return DEFAULT_NOT_STARTED


def measure_deadline(measure: ImprovementMeasure, request_id: int, timezone: str) -> Deadline:
    """An improvement measure is overdue once its deadline day has ended on the desk's clock."""
    end = datetime.combine(measure.deadline + timedelta(days=1), time(0), ZoneInfo(timezone))
    at = end.astimezone(UTC)
    return Deadline(request_id, f"measure_overdue:{measure.id}", at, at)


def measure_due_soon(
    measure: ImprovementMeasure, request_id: int, timezone: str, calendar=None
) -> Deadline | None:
    """09:00 (desk time) of the working day before a measure's deadline day, on ``calendar``
    (the desk's; weekdays without one). None when that moment had passed as the measure was set:
    its owner was just told of it."""
    day = measure.deadline - timedelta(days=1)
    for _ in range(31):
        working = calendar.day(day).working if hasattr(calendar, "day") else day.weekday() < 5
        if working:
            break
        day -= timedelta(days=1)
    at = datetime.combine(day, time(MEASURE_DUE_SOON_HOUR), ZoneInfo(timezone)).astimezone(UTC)
    created = measure.created_at
    if created is not None and at <= (created if created.tzinfo else created.replace(tzinfo=UTC)):
        return None
    return Deadline(request_id, f"measure_due_soon:{measure.id}", at, at)


def measure_deadlines(
    measure: ImprovementMeasure, request_id: int, timezone: str, calendar=None
) -> list[Deadline]:
    """An open measure's timed notices: due soon (when still ahead as it was set) and overdue."""
    soon = measure_due_soon(measure, request_id, timezone, calendar)
    return ([soon] if soon else []) + [measure_deadline(measure, request_id, timezone)]


def desk_calendar(session: Session):
    """The desk's own business calendar (the default one), for staff's timed notices."""
    from portal.services import calendars

    return calendars.for_organisation(session, None)


def find(session: Session, request_id: int, kind: str, due_epoch: int, timezone: str):
    """The request and the deadline a job was scheduled for, if it still holds; else (sr, None)."""
    sr = session.get(ServiceRequest, request_id)
    if sr is None:
        return None, None
    if kind.startswith(MEASURE_KINDS):
        measure = session.get(ImprovementMeasure, int(kind.split(":", 1)[1]))
        if measure is None or measure.status == "done":
            return sr, None
        for dl in measure_deadlines(measure, request_id, timezone, desk_calendar(session)):
            if dl.kind == kind and dl.due_epoch == due_epoch:
                return sr, dl
        return sr, None
    policy = policy_of(load_policies(session), sr)
    for dl in deadlines_for(sr, policy, timezone):
        if dl.kind == kind and dl.due_epoch == due_epoch:
            return sr, dl
    return sr, None


# --- scheduling after commit -------------------------------------------------------------------


def reschedule(session: Session, sr: ServiceRequest) -> None:
    """Mark ``sr`` for (re)scheduling of its deadline jobs after commit."""
    session.info.setdefault("portal_sla_changed", set()).add(sr.id)


@event.listens_for(Session, "before_flush")
def _notice_changes(session: Session, _ctx, _instances) -> None:
    touched = session.info.setdefault("portal_sla_touched", [])
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, ServiceRequest):
            if obj in session.new:
                touched.append(obj)
                continue
            state = inspect(obj)
            if any(state.attrs[name].history.has_changes() for name in _WATCHED):
                touched.append(obj)
        elif isinstance(obj, ImprovementMeasure):
            touched.append(obj)


@event.listens_for(Session, "before_commit")
def _collect(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: its changes are collected when the transaction commits
    if session.dirty or session.new:
        session.flush()  # commit flushes after this event: flush first to notice the changes
    touched = session.info.pop("portal_sla_touched", None) or []
    ids: set[int] = set(session.info.pop("portal_sla_changed", None) or ())
    measures: list[ImprovementMeasure] = []
    for obj in touched:
        if isinstance(obj, ServiceRequest) and obj.id is not None:
            ids.add(obj.id)
        elif isinstance(obj, ImprovementMeasure) and obj.id is not None:
            measures.append(obj)
    if not ids and not measures:
        return
    if session.info.get("portal_sla_no_schedule"):
        return
    try:
        from flask import current_app

        timezone = current_app.config["PORTAL_TIMEZONE"]
        if not current_app.config.get("REDIS_URL"):
            return  # e.g. seeding before the embedded Redis runs: the first sweep schedules
    except RuntimeError:  # no app: nothing to enqueue with (the sweep will catch up)
        return
    pending = session.info.setdefault("portal_sla_jobs", [])
    pending.extend(_unfired(session, ids, measures, timezone))


def _unfired(
    session: Session, ids: set[int], measures: list[ImprovementMeasure], timezone: str
) -> list[Deadline]:
    deadlines: list[Deadline] = []
    if ids:
        policies = load_policies(session)
        for sr in session.scalars(select(ServiceRequest).where(ServiceRequest.id.in_(ids))):
            deadlines.extend(deadlines_for(sr, policy_of(policies, sr), timezone))
    if measures:
        open_measures = [m for m in measures if m.status != "done"]
        by_feedback = dict(
            session.execute(
                select(Feedback.id, Feedback.request_id).where(
                    Feedback.id.in_({m.feedback_id for m in open_measures})
                )
            ).all()
        )
        calendar = desk_calendar(session) if open_measures else None
        for m in open_measures:
            if m.feedback_id in by_feedback:
                deadlines.extend(
                    measure_deadlines(m, by_feedback[m.feedback_id], timezone, calendar)
                )
    return drop_fired(session, deadlines)


def drop_fired(session: Session, deadlines: list[Deadline]) -> list[Deadline]:
    """``deadlines`` less those whose event is already recorded."""
    if not deadlines:
        return []
    fired = {
        (rid, kind, int(due.timestamp()))
        for rid, kind, due in session.execute(
            select(SlaEvent.request_id, SlaEvent.kind, SlaEvent.due_at).where(
                SlaEvent.request_id.in_({d.request_id for d in deadlines})
            )
        )
    }
    return [d for d in deadlines if (d.request_id, d.kind, d.due_epoch) not in fired]


@event.listens_for(Session, "after_commit")
def _schedule(session: Session) -> None:
    if session.in_nested_transaction():
        return
    pending = session.info.pop("portal_sla_jobs", None)
    if not pending:
        return
    from portal.queue import queue

    try:
        schedule(queue(), pending)
    except Exception:  # noqa: BLE001  (Redis down: the sweep repairs it; the commit stands)
        log.exception("could not schedule %d SLA timers; the sweep will", len(pending))


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint rolled back: the rest of the transaction may still commit
    for key in ("portal_sla_jobs", "portal_sla_touched", "portal_sla_changed"):
        session.info.pop(key, None)


def schedule(q, deadlines: list[Deadline], now: datetime | None = None) -> int:
    """One job per deadline at its fire time, under its deterministic id (scheduling the same
    deadline again replaces it)."""
    now = now or datetime.now(UTC)
    with q.connection.pipeline() as pipe:  # one round trip for the scheduled ones
        for d in deadlines:
            args = (d.request_id, d.kind, d.due_epoch)
            options: dict[str, Any] = {"job_id": d.job_id, "result_ttl": 600, "failure_ttl": 86400}
            if d.fire_at <= now:
                q.enqueue("portal.jobs_sla.run_deadline", *args, **options)
            else:
                q.enqueue_at(
                    d.fire_at, "portal.jobs_sla.run_deadline", *args, pipeline=pipe, **options
                )
        pipe.execute()
    return len(deadlines)


# --- the sweep ---------------------------------------------------------------------------------


def _not_fired(kind: str, due_col):
    return ~exists().where(
        and_(
            SlaEvent.request_id == ServiceRequest.id,
            SlaEvent.kind == kind,
            SlaEvent.due_at == due_col,
        )
    )


def sweep_candidates(session: Session, now: datetime, ahead: timedelta, lookback: timedelta):
    """Ids of the requests with a deadline that fires before ``now + ahead`` and is not recorded
    yet. Every query is an index range over due times (or a small state), never all requests."""
    SR = ServiceRequest
    policies = load_policies(session)
    min_esc = timedelta(
        minutes=min(
            [p.escalate_after_minutes for p in policies.values()] + [DEFAULT_ESCALATE_AFTER_MINUTES]
        )
    )
    until = now + ahead
    since = now - lookback
    ids: set[int] = set()
    clocks = (
        (
            "response",
            SR.response_due_at,
            SR.response_warn_at,
            and_(SR.first_response_at.is_(None), SR.status.in_(OPEN)),
        ),
        (
            "resolution",
            SR.resolution_due_at,
            SR.resolution_warn_at,
            and_(SR.status.in_(RUNNING), SR.paused_since.is_(None)),
        ),
    )
    for name, due, warn, state in clocks:
        # warnings: the stored warning instant has come (an index range), the due time not yet
        ids.update(
            session.scalars(
                select(SR.id).where(
                    warn >= since,
                    warn <= until,
                    due > now,
                    state,
                    _not_fired(f"{name}_warn", due),
                )
            )
        )
        # breach (level 1) and the escalation one level up (level 2)
        ids.update(
            session.scalars(
                select(SR.id).where(
                    state, due >= since, due <= until, _not_fired(f"{name}_breach", due)
                )
            )
        )
        ids.update(
            session.scalars(
                select(SR.id).where(
                    state,
                    due >= since - min_esc,
                    due <= until - min_esc,
                    _not_fired(f"{name}_escalation", due),
                )
            )
        )
    # assigned, no step logged yet
    ids.update(
        session.scalars(
            select(SR.id).where(
                SR.status == Status.IN_PROGRESS,
                SR.work_started_at.is_(None),
                SR.handler_id.is_not(None),
                SR.assigned_at >= since - timedelta(days=30),
                SR.assigned_at <= until,
                ~exists().where(and_(SlaEvent.request_id == SR.id, SlaEvent.kind == "not_started")),
            )
        )
    )
    # delivered, waiting for the customer's acceptance (a small set)
    ids.update(
        session.scalars(
            select(SR.id).where(
                SR.status == Status.PENDING_ACCEPTANCE,
                SR.delivered_at >= since - timedelta(days=30),
                SR.delivered_at <= until,
                _not_fired("acceptance_reminder", SR.delivered_at),
            )
        )
    )
    # completed, waiting for feedback (a small set: they close within the window)
    ids.update(
        session.scalars(
            select(SR.id).where(
                SR.status == Status.COMPLETED,
                SR.completed_at >= since,
                SR.completed_at <= until,
                ~exists().where(Feedback.request_id == SR.id),
            )
        )
    )
    return ids, policies


def overdue_measures(session: Session, today_end: datetime):
    """Open improvement measures whose deadline day has ended, with their request id."""
    day = today_end.date()
    return session.execute(
        select(ImprovementMeasure, Feedback.request_id)
        .join(Feedback, Feedback.id == ImprovementMeasure.feedback_id)
        .where(
            ImprovementMeasure.status.in_(("open", "in_progress")),
            ImprovementMeasure.deadline < day,
        )
    ).all()


def measures_due_soon(session: Session, today_end: datetime, days: int = 31):
    """Open improvement measures whose deadline is within ``days`` (their due-soon notice may
    come before the next sweep), with their request id."""
    day = today_end.date()
    return session.execute(
        select(ImprovementMeasure, Feedback.request_id)
        .join(Feedback, Feedback.id == ImprovementMeasure.feedback_id)
        .where(
            ImprovementMeasure.status.in_(("open", "in_progress")),
            ImprovementMeasure.deadline >= day,
            ImprovementMeasure.deadline <= day + timedelta(days=days),
        )
    ).all()


def pending_mail_ids(session: Session, now: datetime, limit: int = 500) -> list[int]:
    return list(
        session.scalars(
            select(EmailOutbox.id)
            .where(EmailOutbox.status == "pending", EmailOutbox.next_attempt_at <= now)
            .order_by(EmailOutbox.next_attempt_at)
            .limit(limit)
        )
    )


def last_sweep(conn) -> str | None:
    """When the sweep last finished (ISO, UTC), from Redis; None if never (or Redis lost it)."""
    value = conn.get(LAST_SWEEP_KEY)
    return value.decode() if isinstance(value, bytes) else value


def open_counts(session: Session) -> list[tuple[str, str, int]]:
    """The open requests by status and priority, one grouped query (for the metrics: the
    sweep runs it at most once a minute, portal/metrics.py)."""
    from portal.domain.vocabulary import OPEN_STATUSES

    rows = session.execute(
        select(ServiceRequest.status, ServiceRequest.priority, func.count())
        .where(ServiceRequest.status.in_([str(s) for s in OPEN_STATUSES]))
        .group_by(ServiceRequest.status, ServiceRequest.priority)
    ).all()
    return [(str(status), priority or "", int(n)) for status, priority, n in rows]
