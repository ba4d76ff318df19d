"""Periodic service plans (定期技术服务, docs/product.md §10): the recurrence, the shift off
non-working days, the lead time and the preview. Pure: the caller passes the business calendar
of the plan's organisation (portal/domain/calendar.py) and the day to count from.

The recurrence is an RFC 5545 RRULE (python-dateutil's ``rrule``), built from plain choices
(``RuleChoice``) or typed as an "advanced" rule. The rule's own date of an occurrence is its key
(``occurs_on``); the calendar may move it to another due day (``due_on``) and the request opens
``lead_days`` working days before that (``open_on``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateutil import rrule

# plain choices of the form
MONTHLY_DAY = "monthly_day"  # every N months on day D (D = -1: the last day)
MONTHLY_WEEKDAY = "monthly_weekday"  # every N months on the K-th weekday W (K = -1: the last)
QUARTERLY_DAY = "quarterly_day"  # on day D of each quarter's first month
QUARTERLY_WEEKDAY = "quarterly_weekday"  # on the K-th weekday W of each quarter
WEEKLY = "weekly"  # every N weeks on weekday W
ADVANCED = "advanced"  # a typed RRULE
KINDS = (MONTHLY_DAY, MONTHLY_WEEKDAY, QUARTERLY_DAY, QUARTERLY_WEEKDAY, WEEKLY, ADVANCED)

# how an occurrence on a non-working day moves
SHIFT_NEXT = "next"
SHIFT_PREVIOUS = "previous"
SHIFT_NONE = "none"
SHIFTS = (SHIFT_NEXT, SHIFT_PREVIOUS, SHIFT_NONE)

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
ORDINALS = (1, 2, 3, 4, -1)
MAX_INTERVAL = 12
MAX_LEAD_DAYS = 60
MAX_RULE_LENGTH = 300
MAX_CHECKLIST_ITEMS = 50
MAX_CHECKLIST_ITEM_LENGTH = 500
PREVIEW_COUNT = 12
# how far a shift looks for a working day, and how far a rule is searched for an occurrence
MAX_SHIFT_DAYS = 60
HORIZON_YEARS = 5

_QUARTER_MONTHS = "1,4,7,10"
_ALLOWED_FREQ = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
_ALLOWED_PARTS = {
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "BYDAY",
    "BYMONTHDAY",
    "BYMONTH",
    "BYSETPOS",
    "BYWEEKNO",
    "BYYEARDAY",
    "WKST",
}


class PlanError(ValueError):
    """Input a plan cannot have; ``field`` is the form field, ``code`` what is wrong (worded by
    portal.presentation.plans)."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


@dataclass(frozen=True)
class RuleChoice:
    """The recurrence as the form asks for it."""

    kind: str = MONTHLY_DAY
    interval: int = 1
    day: int = 1  # day of the month (-1: the last)
    ordinal: int = 1  # 1st … 4th, -1: the last
    weekday: str = "MO"
    advanced: str = ""

    def to_rrule(self) -> str:
        """The RRULE text (without DTSTART); PlanError for values the form cannot have."""
        if self.kind not in KINDS:
            raise PlanError("kind", "unknown")
        if self.kind == ADVANCED:
            return check_rrule_text(self.advanced)
        if not 1 <= self.interval <= MAX_INTERVAL:
            raise PlanError("interval", "range")
        if self.kind in (MONTHLY_DAY, QUARTERLY_DAY) and not (
            1 <= self.day <= 28 or self.day == -1
        ):
            raise PlanError("day", "range")
        if self.kind in (MONTHLY_WEEKDAY, QUARTERLY_WEEKDAY, WEEKLY) and (
            self.weekday not in WEEKDAYS
        ):
            raise PlanError("weekday", "unknown")
        if self.kind in (MONTHLY_WEEKDAY, QUARTERLY_WEEKDAY) and self.ordinal not in ORDINALS:
            raise PlanError("ordinal", "unknown")
        nth = f"{self.ordinal:+d}{self.weekday}"
        if self.kind == MONTHLY_DAY:
            return f"FREQ=MONTHLY;INTERVAL={self.interval};BYMONTHDAY={self.day}"
        if self.kind == MONTHLY_WEEKDAY:
            return f"FREQ=MONTHLY;INTERVAL={self.interval};BYDAY={nth}"
        if self.kind == QUARTERLY_DAY:
            return f"FREQ=YEARLY;BYMONTH={_QUARTER_MONTHS};BYMONTHDAY={self.day}"
        if self.kind == QUARTERLY_WEEKDAY:
            return f"FREQ=YEARLY;BYMONTH={_QUARTER_MONTHS};BYDAY={nth}"
        return f"FREQ=WEEKLY;INTERVAL={self.interval};BYDAY={self.weekday}"


_PLAIN = (
    (MONTHLY_DAY, re.compile(r"^FREQ=MONTHLY;INTERVAL=(?P<i>\d+);BYMONTHDAY=(?P<d>-?\d+)$")),
    (
        MONTHLY_WEEKDAY,
        re.compile(r"^FREQ=MONTHLY;INTERVAL=(?P<i>\d+);BYDAY=(?P<o>[+-]\d)(?P<w>[A-Z]{2})$"),
    ),
    (QUARTERLY_DAY, re.compile(r"^FREQ=YEARLY;BYMONTH=1,4,7,10;BYMONTHDAY=(?P<d>-?\d+)$")),
    (
        QUARTERLY_WEEKDAY,
        re.compile(r"^FREQ=YEARLY;BYMONTH=1,4,7,10;BYDAY=(?P<o>[+-]\d)(?P<w>[A-Z]{2})$"),
    ),
    (WEEKLY, re.compile(r"^FREQ=WEEKLY;INTERVAL=(?P<i>\d+);BYDAY=(?P<w>[A-Z]{2})$")),
)


def choice_of(rule: str) -> RuleChoice:
    """The plain choices a stored rule was built from (for the edit form); an "advanced" choice
    holding the text when it is not one of them."""
    for kind, pattern in _PLAIN:
        m = pattern.match(rule)
        if not m:
            continue
        values = m.groupdict()
        choice = RuleChoice(
            kind=kind,
            interval=int(values.get("i") or 1),
            day=int(values.get("d") or 1),
            ordinal=int(values.get("o") or 1),
            weekday=values.get("w") or "MO",
        )
        try:
            if choice.to_rrule() == rule:
                return choice
        except PlanError:
            pass
    return RuleChoice(kind=ADVANCED, advanced=rule)


def check_rrule_text(text: str) -> str:
    """A typed RRULE, normalised (upper case, no "RRULE:" prefix, no spaces); PlanError
    ("advanced", …) when it is not one this product runs: one RRULE line, a daily or longer
    frequency, no DTSTART (the plan's start is the rule's start)."""
    text = re.sub(r"\s+", "", text or "").upper().removeprefix("RRULE:")
    if not text:
        raise PlanError("advanced", "missing")
    if len(text) > MAX_RULE_LENGTH:
        raise PlanError("advanced", "too-long")
    parts = {}
    for part in text.split(";"):
        name, sep, value = part.partition("=")
        if not sep or not value or name not in _ALLOWED_PARTS or name in parts:
            raise PlanError("advanced", "invalid")
        parts[name] = value
    if parts.get("FREQ") not in _ALLOWED_FREQ:
        raise PlanError("advanced", "frequency")
    try:
        first = rrule.rrulestr(text, dtstart=datetime(2000, 1, 1)).after(
            datetime(2000, 1, 1), inc=True
        )
    except (ValueError, TypeError, KeyError, IndexError):
        raise PlanError("advanced", "invalid") from None
    if first is None:  # BYMONTHDAY=40, BYMONTH=2;BYMONTHDAY=30: a rule that never happens
        raise PlanError("advanced", "never")
    return text


def rule_dates(rule: str, start: date, end: date | None, after: date, limit: int) -> list[date]:
    """Up to ``limit`` of the rule's own dates on or after ``after`` (and ``start``), up to
    ``end`` and at most HORIZON_YEARS ahead of ``after``."""
    horizon = min(end or date.max, _add_years(max(after, start), HORIZON_YEARS))
    rule_set = rrule.rrulestr(rule, dtstart=datetime.combine(start, datetime.min.time()))
    out: list[date] = []
    for instant in rule_set.xafter(
        datetime.combine(max(after, start), datetime.min.time()), inc=True
    ):
        day = instant.date()
        if day > horizon:
            break
        out.append(day)
        if len(out) >= limit:
            break
    return out


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# --- the calendar ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Occurrence:
    """One occurrence: the rule's date, the due day after the shift, the day its request opens,
    and why the due day moved (the holiday's name from the calendar, or the day's kind)."""

    occurs_on: date
    due_on: date
    open_on: date
    reason: str = ""  # the calendar's name of the day off ("National Day"), else ""
    reason_kind: str = ""  # holiday / weekend, when the rule's date is not a working day
    makeup: bool = False  # due on a make-up working day (调休上班)
    fallback: bool = False  # a day involved is counted on the fallback calendar (year unpublished)

    @property
    def moved(self) -> bool:
        return self.due_on != self.occurs_on


def shift(calendar, day: date, how: str) -> date:
    """``day`` itself when it is a working day (a make-up day included) or ``how`` is none;
    else the next or the previous working day."""
    if how == SHIFT_NONE or calendar.day(day).working:
        return day
    step = timedelta(days=1 if how == SHIFT_NEXT else -1)
    found = day
    for _ in range(MAX_SHIFT_DAYS):
        found += step
        if calendar.day(found).working:
            return found
    return day  # a calendar without working days near it: leave it where the rule put it


def working_days_before(calendar, day: date, count: int) -> date:
    """The working day ``count`` working days before ``day`` (``day`` itself for 0)."""
    found = day
    remaining = count
    for _ in range(MAX_SHIFT_DAYS * 4):
        if remaining <= 0:
            return found
        found -= timedelta(days=1)
        if calendar.day(found).working:
            remaining -= 1
    return found


def occurrence(calendar, occurs_on: date, how: str, lead_days: int) -> Occurrence:
    info = calendar.day(occurs_on)
    due_on = shift(calendar, occurs_on, how)
    open_on = working_days_before(calendar, due_on, lead_days)
    due = calendar.day(due_on)
    return Occurrence(
        occurs_on=occurs_on,
        due_on=due_on,
        open_on=open_on,
        reason="" if info.working else info.name,
        reason_kind="" if info.working else info.kind,
        makeup=due.kind == "makeup",
        fallback=any(calendar.uses_fallback(d) for d in {occurs_on, due_on, open_on}),
    )


@dataclass(frozen=True)
class Schedule:
    """What a plan's dates hang on."""

    rule: str
    start: date
    end: date | None
    shift: str
    lead_days: int


def occurrences(
    calendar, schedule: Schedule, after: date, limit: int = PREVIEW_COUNT
) -> list[Occurrence]:
    """The next ``limit`` occurrences whose rule date is on or after ``after``."""
    return [
        occurrence(calendar, d, schedule.shift, schedule.lead_days)
        for d in rule_dates(schedule.rule, schedule.start, schedule.end, after, limit)
    ]


def occurrences_to_open(
    calendar, schedule: Schedule, due_from: date, open_until: date
) -> list[Occurrence]:
    """The occurrences due on or after ``due_from`` whose request opens by ``open_until`` (the
    opener's read). A rule date may be due after itself (a shift forward) and open well before
    (the lead time, a shift back), so the search starts and ends a little wider."""
    margin = timedelta(days=schedule.lead_days * 3 + MAX_SHIFT_DAYS)
    out = []
    day = due_from - margin
    while True:
        batch = occurrences(calendar, schedule, day, 50)
        for occ in batch:
            if occ.occurs_on > open_until + margin:
                return out
            if occ.due_on >= due_from and occ.open_on <= open_until:
                out.append(occ)
        if len(batch) < 50:
            return out
        day = batch[-1].occurs_on + timedelta(days=1)


def check_schedule(calendar, schedule: Schedule, today: date) -> list[Occurrence]:
    """The preview, or PlanError for a schedule that cannot work: an end before the start, a
    lead time out of range or as long as the interval (a request would open before the
    previous one is due), no occurrence from today on."""
    if schedule.shift not in SHIFTS:
        raise PlanError("shift", "unknown")
    if schedule.end is not None and schedule.end < schedule.start:
        raise PlanError("end", "before-start")
    if not 0 <= schedule.lead_days <= MAX_LEAD_DAYS:
        raise PlanError("lead_days", "range")
    preview = occurrences(calendar, schedule, today)
    if not preview:
        raise PlanError("rule", "no-future")
    for earlier, later in zip(preview, preview[1:], strict=False):
        if later.open_on <= earlier.due_on:
            raise PlanError("lead_days", "longer-than-interval")
    return preview


def checklist_items(text: str) -> list[str]:
    """The checklist template, one item a line (a leading "-", "*" or "1." is dropped);
    PlanError for an empty list, an empty item among others (a line with only a bullet),
    too many or too long items."""
    items = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        item = re.sub(r"^\s*(?:[-*•·]|\d+[.)、])\s*", "", line).strip()
        if not item:
            raise PlanError("checklist", "empty-item")
        if len(item) > MAX_CHECKLIST_ITEM_LENGTH:
            raise PlanError("checklist", "item-too-long")
        items.append(item)
    if not items:
        raise PlanError("checklist", "missing")
    if len(items) > MAX_CHECKLIST_ITEMS:
        raise PlanError("checklist", "too-many")
    return items
