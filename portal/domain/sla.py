"""SLA arithmetic (docs/product.md §4): due times from targets on a clock, pauses, and the explanation of
which time counted. Pure: calendars come in as ``portal.domain.calendar`` objects.

Units of a target: ``hours`` (plain hours on the 24×7 clock, P1 and P2 by default),
``working_hours`` and ``working_days`` (on the business calendar; one working day is the
calendar's standard day of working hours, so 3 working days from 17:00 ends at 17:00 on the
third working day after).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from portal.domain.calendar import AroundTheClock, BusinessCalendar, Clock

HOURS = "hours"
WORKING_HOURS = "working_hours"
WORKING_DAYS = "working_days"
UNITS = (HOURS, WORKING_HOURS, WORKING_DAYS)

# the template's defaults: (respond, unit, resolve, unit)
DEFAULT_TARGETS: dict[str, tuple[int, str, int, str]] = {
    "P1": (2, HOURS, 4, HOURS),
    "P2": (4, HOURS, 24, HOURS),
    "P3": (8, WORKING_HOURS, 3, WORKING_DAYS),
}
DEFAULT_WARN_PERCENT = 75

AROUND_THE_CLOCK = AroundTheClock()

# what an admin may set on a policy (portal.services.sla_policies): a target is a whole number
# from 1 to MAX_AMOUNT of its unit, the warning at 1–99 % of it, the interval between
# escalation levels from 1 minute to a week
MAX_AMOUNT = 1000
WARN_PERCENT_RANGE = (1, 99)
ESCALATE_MINUTES_RANGE = (1, 7 * 24 * 60)


def target_problems(
    respond_amount: int | None,
    respond_unit: str | None,
    resolve_amount: int | None,
    resolve_unit: str | None,
    warn_percent: int | None,
    escalate_after_minutes: int | None,
) -> dict[str, str]:
    """What is wrong with one priority's targets: field name → problem code (``positive``:
    not a whole number from 1 to MAX_AMOUNT; ``unit``: not a known unit; ``percent``: outside
    WARN_PERCENT_RANGE; ``minutes``: outside ESCALATE_MINUTES_RANGE). Empty when they hold."""
    problems: dict[str, str] = {}
    for field, amount in (("respond_amount", respond_amount), ("resolve_amount", resolve_amount)):
        if amount is None or not 1 <= amount <= MAX_AMOUNT:
            problems[field] = "positive"
    for field, unit in (("respond_unit", respond_unit), ("resolve_unit", resolve_unit)):
        if unit not in UNITS:
            problems[field] = "unit"
    low, high = WARN_PERCENT_RANGE
    if warn_percent is None or not low <= warn_percent <= high:
        problems["warn_percent"] = "percent"
    low, high = ESCALATE_MINUTES_RANGE
    if escalate_after_minutes is None or not low <= escalate_after_minutes <= high:
        problems["escalate_after_minutes"] = "minutes"
    return problems


@dataclass(frozen=True)
class Target:
    amount: int
    unit: str

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unknown SLA unit {self.unit!r}")
        if self.amount < 0:
            raise ValueError("an SLA target is not negative")


def clock_for(unit: str, calendar: BusinessCalendar) -> Clock:
    """Plain hours run on the 24×7 clock; working hours and days on the business calendar."""
    return AROUND_THE_CLOCK if unit == HOURS else calendar


def duration(target: Target, clock: Clock) -> timedelta:
    """The target as an amount of time on its clock."""
    if target.unit == WORKING_DAYS:
        return target.amount * clock.standard_day
    return timedelta(hours=target.amount)


def add_working_hours(calendar: BusinessCalendar, start: datetime, hours: float) -> datetime:
    return calendar.add(start, timedelta(hours=hours))


def add_working_days(calendar: BusinessCalendar, start: datetime, days: int) -> datetime:
    return calendar.add(start, days * calendar.standard_day)


def due(
    target: Target,
    calendar: BusinessCalendar,
    start: datetime,
    paused: timedelta = timedelta(),
) -> datetime:
    """When ``target`` is reached counting from ``start``, with ``paused`` (time already paused,
    measured on the target's clock) added on."""
    clock = clock_for(target.unit, calendar)
    return clock.add(start, duration(target, clock) + paused)


def paused_time(
    clock: Clock, pauses: Iterable[tuple[datetime, datetime | None]], now: datetime
) -> timedelta:
    """The clock time inside the pauses; an open pause (end None) counts up to ``now``."""
    total = timedelta()
    for start, end in pauses:
        total += clock.working_time(start, end or now)
    return total


def shift_for_pause(
    clock: Clock, due_at: datetime, paused_from: datetime, paused_to: datetime
) -> datetime:
    """The due time moves later by the clock time the pause took."""
    return clock.add(due_at, clock.working_time(paused_from, paused_to))


def warn_at(start: datetime, due_at: datetime, clock: Clock, percent: int) -> datetime:
    """The instant at which ``percent`` of the clock time between start and due has passed."""
    total = clock.working_time(start, due_at)
    return clock.add(start, total * (max(0, min(percent, 100)) / 100))


# --- the outcome of a finished request -------------------------------------------------------

MET = "met"
MISSED = "missed"
ENDED = "ended"  # the request ended before the target fell due, without meeting it


@dataclass(frozen=True)
class Outcome:
    """Whether a target was met, and by how much: ``margin`` is the time left before the due
    time (met) or the time past it (missed), counted on the target's clock, so working time for
    a target on the business calendar (``working_time``)."""

    state: str  # MET / MISSED / ENDED
    margin: timedelta
    working_time: bool


def outcome(
    clock: Clock, due_at: datetime | None, met_at: datetime | None, ended_at: datetime
) -> Outcome | None:
    """How a target did: met at ``met_at`` (None: never) against ``due_at``. A target never met
    is missed when the request ended (``ended_at``) after its due time. None without a due
    time."""
    if due_at is None:
        return None
    working = not clock.around_the_clock
    if met_at is not None:
        if met_at <= due_at:
            return Outcome(MET, clock.working_time(met_at, due_at), working)
        return Outcome(MISSED, clock.working_time(due_at, met_at), working)
    if ended_at > due_at:
        return Outcome(MISSED, clock.working_time(due_at, ended_at), working)
    return Outcome(ENDED, timedelta(), working)


# --- the explanation -------------------------------------------------------------------------

COUNTED = "counted"
PAUSED = "paused"
NON_WORKING = "non_working"


@dataclass(frozen=True)
class Interval:
    """A stretch of the request's life: counted, paused or non-working, and why.

    ``reasons`` are (kind, name) pairs of the days involved: kind is "hours" (outside working
    hours on a working day: night, lunch), "weekend", "holiday", "makeup" (a make-up working day
    worked) or "workday"."""

    start: datetime
    end: datetime
    state: str
    reasons: tuple[tuple[str, str], ...] = ()

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class Explanation:
    intervals: list[Interval]
    counted: timedelta
    paused: timedelta
    non_working: timedelta


def explain(
    clock: Clock,
    start: datetime,
    end: datetime,
    pauses: Iterable[tuple[datetime, datetime | None]] = (),
) -> Explanation:
    """Cut [start, end) into intervals that counted, were paused, or were non-working.

    Paused time is shown as paused whether or not it was working time (the customer had the
    ball); consecutive non-working pieces (evening, weekend, holiday, morning) merge into one
    interval that lists its reasons; a counted make-up day keeps its own interval."""
    windows = sorted((max(s, start), min(e or end, end)) for s, e in pauses)
    windows = [(s, e) for s, e in windows if e > s]
    raw: list[Interval] = []
    cursor = start
    for ps, pe in [*windows, (end, end)]:
        if ps > cursor:
            for seg in clock.segments(cursor, ps):
                state = COUNTED if seg.working else NON_WORKING
                raw.append(Interval(seg.start, seg.end, state, ((seg.kind, seg.name),)))
        if pe > max(ps, cursor):
            raw.append(Interval(max(ps, cursor), pe, PAUSED))
        cursor = max(cursor, pe)
    merged: list[Interval] = []
    for iv in raw:
        last = merged[-1] if merged else None
        if last and last.state == iv.state and last.end == iv.start and _joins(last, iv):
            reasons = last.reasons + tuple(r for r in iv.reasons if r not in last.reasons)
            merged[-1] = Interval(last.start, iv.end, last.state, reasons)
        else:
            merged.append(iv)
    totals = {COUNTED: timedelta(), PAUSED: timedelta(), NON_WORKING: timedelta()}
    for iv in merged:
        totals[iv.state] += iv.duration
    return Explanation(merged, totals[COUNTED], totals[PAUSED], totals[NON_WORKING])


def _joins(a: Interval, b: Interval) -> bool:
    if a.state != COUNTED:
        return True
    # counted time joins across the lunch break only within the same kind of day
    return a.reasons[-1:] == b.reasons[:1]


def family(kind: str) -> str:
    """response_warn → warn, resolution_breach → breach, measure_overdue:7 → measure_overdue."""
    base = kind.split(":", 1)[0]
    for suffix in ("_warn", "_breach", "_escalation"):
        if base.endswith(suffix):
            return suffix[1:]
    return base
