"""What the SLA panels of the request pages and the new-request page show, in a fixed number of
queries whatever the request's history:

- ``sla_panel`` (staff request page): the policy and version the request is measured against
  and its targets, the clock it runs on, and the explainable
  timeline of the intervals that counted, were paused or were non-working, with the totals;
- ``due_times`` (customer request page): response and resolution due, and whether the clock
  is paused waiting for the customer;
- ``desk_notice`` (customer new-request page): the desk is outside working hours, or a holiday
  is coming ("next working day: …").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from portal.domain import sla as rules
from portal.models import ServiceRequest, SlaTarget
from portal.services import calendars, sla_policies
from portal.services import sla as sla_service

# the panel shows the latest intervals; the totals cover the whole life of the request
MAX_INTERVALS = 40
# a holiday this close ahead is announced on the new-request page
HOLIDAY_NOTICE_DAYS = 3


# --- the staff request page ------------------------------------------------------------------


@dataclass(frozen=True)
class SlaPanel:
    policy: SlaTarget  # the targets of the request's priority in that version
    measured: sla_policies.VersionInfo  # the policy and version the request is measured against
    calendar_name: str
    around_the_clock: bool
    explanation: rules.Explanation
    intervals: list[rules.Interval]  # the latest MAX_INTERVALS
    earlier: int  # how many earlier intervals are only in the totals
    until: datetime
    fallback_years: list[int]  # years in the span that run on the fallback calendar
    outcomes: sla_service.Outcomes | None  # a finished request: met or missed, by how much


def _stop_time(sr: ServiceRequest, now: datetime) -> datetime:
    for value in (sr.completed_at, sr.cancelled_at, sr.closed_at):
        if value is not None:
            return min(value, now)
    return now


def sla_panel(session: Session, sr: ServiceRequest, now: datetime) -> SlaPanel:
    """How the request's resolution clock ran from submission until now (or its end)."""
    clocks = sla_service.clocks_for(session, sr)
    clock = clocks.resolution_clock
    until = max(_stop_time(sr, now), sr.submitted_at)
    pauses = [(p.started_at, p.ended_at) for p in sla_service.pauses_of(session, sr)]
    explanation = rules.explain(clock, sr.submitted_at, until, pauses)
    intervals = explanation.intervals[-MAX_INTERVALS:]
    fallback_years: list[int] = []
    if not clock.around_the_clock:
        calendar = clocks.calendar
        end = max(until, sr.resolution_due_at or until)
        years = range(calendar.local_date(sr.submitted_at).year, calendar.local_date(end).year + 1)
        fallback_years = [y for y in years if not calendar.has_official_schedule(y)]
    return SlaPanel(
        policy=clocks.policy,
        measured=sla_policies.version_info(session, sla_service.version_of(session, sr)),
        calendar_name=clocks.calendar.name,
        around_the_clock=clock.around_the_clock,
        explanation=explanation,
        intervals=intervals,
        earlier=len(explanation.intervals) - len(intervals),
        until=until,
        fallback_years=fallback_years,
        outcomes=sla_service.outcomes(session, sr, clocks),
    )


# --- the customer request page ---------------------------------------------------------------


@dataclass(frozen=True)
class DueTimes:
    response_due: datetime | None
    responded_at: datetime | None
    resolution_due: datetime | None
    paused_since: datetime | None
    pause_reason: str  # awaiting_customer / pending_acceptance / ""
    stopped: bool
    provisional: bool  # the priority is not confirmed yet: due times may still change
    response_overdue: bool
    resolution_overdue: bool
    outcomes: sla_service.Outcomes | None = None  # finished: each target met or missed


def due_times(session: Session, sr: ServiceRequest, now: datetime) -> DueTimes:
    """The request's due times as the customer reads them; no query while it is open."""
    stopped = sr.status in sla_service.FINISHED
    running = not stopped and sr.paused_since is None
    return DueTimes(
        response_due=sr.response_due_at,
        responded_at=sr.first_response_at,
        resolution_due=sr.resolution_due_at,
        paused_since=None if stopped else sr.paused_since,
        pause_reason=sr.status if sr.paused_since and not stopped else "",
        stopped=stopped,
        provisional=sr.priority is None and not stopped,
        response_overdue=bool(
            not stopped
            and sr.first_response_at is None
            and sr.response_due_at
            and sr.response_due_at < now
        ),
        resolution_overdue=bool(running and sr.resolution_due_at and sr.resolution_due_at < now),
        outcomes=sla_service.outcomes(session, sr) if stopped else None,
    )


# --- the customer new-request page -----------------------------------------------------------


@dataclass(frozen=True)
class DeskNotice:
    kind: str  # closed / holiday
    next_start: datetime  # when the desk works again
    holiday_name: str = ""
    holiday_first: date | None = None
    holiday_last: date | None = None
    around_the_clock: bool = False  # urgent requests (P1) run on the 24×7 clock


def desk_notice_for(calendar, now: datetime) -> DeskNotice | None:
    """Closed now, or a holiday within the next few days: what the customer should know."""
    today = calendar.local_date(now)
    for offset in range(HOLIDAY_NOTICE_DAYS + 1):
        day = calendar.day(today + timedelta(days=offset))
        if day.kind == "holiday":
            first = last = day.day
            while not calendar.day(first - timedelta(days=1)).working and first > today:
                first -= timedelta(days=1)
            while not calendar.day(last + timedelta(days=1)).working:
                last += timedelta(days=1)
            return DeskNotice(
                "holiday",
                calendar.next_working_start(max(now, _start_of(calendar, last))),
                day.name,
                first,
                last,
            )
    if not calendar.is_working(now):
        return DeskNotice("closed", calendar.next_working_start(now))
    return None


def _start_of(calendar, d: date) -> datetime:
    return datetime.combine(d + timedelta(days=1), datetime.min.time(), tzinfo=calendar.tz)


def desk_notice(session: Session, organisation_id: int | None, now: datetime) -> DeskNotice | None:
    """The notice for a customer of this organisation now, on its calendar; whether urgent
    requests run around the clock comes from its P1 policy."""
    notice = desk_notice_for(calendars.for_organisation(session, organisation_id), now)
    if notice is None:
        return None
    p1 = sla_service.policy_for_priority(session, organisation_id, "P1")
    return replace(notice, around_the_clock=p1.respond_unit == rules.HOURS)
