"""Business calendars (docs/product.md §4): time zone, working hours per weekday, holidays and make-up
working days (调休). Pure: the service layer loads a calendar's overrides and passes them in.

Where a day's status comes from, first match wins:

1. an admin's override for that date (holiday / workday) — this includes an imported official
   notice (see ``portal.domain.holiday_notice.parse_notice``);
2. China (country ``CN``): the ``chinesecalendar`` package, which follows the State Council's
   yearly notices (2004–2026 at the time of writing) including the make-up working days;
3. otherwise the ``holidays`` package for the calendar's country. For China in a year the State
   Council has not published yet (``chinesecalendar`` raises NotImplementedError), this is the
   documented FALLBACK: weekends plus the statutory public holidays that ``holidays`` computes
   (with its own "observed" guesses), and no make-up working days. Admins are warned (see
   ``portal.services.calendars.missing_schedule_years``) and can import the notice once it is out;
4. the weekly working hours (a weekday without hours is a weekend).

A make-up working day on a day that normally has no hours (a Saturday) is worked with the hours of
the calendar's standard working day (the first weekday that has hours, Monday by default).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

HOLIDAY = "holiday"
WORKDAY = "workday"

# kinds of days
WORKING = "workday"  # an ordinary working day
MAKEUP = "makeup"  # a make-up working day (调休上班) on a day that is normally off
WEEKEND = "weekend"  # a day without working hours in the weekly pattern
OFF = "holiday"  # a public holiday or an override day off

# where the day's status came from
SOURCE_OVERRIDE = "override"
SOURCE_OFFICIAL = "official"  # chinesecalendar: the State Council's published schedule
SOURCE_FALLBACK = "fallback"  # China, year not published: holidays' guess, no make-up days
SOURCE_LIBRARY = "library"  # holidays package for another country
SOURCE_HOURS = "hours"  # the weekly working hours alone

DEFAULT_WORKING_HOURS: dict[str, list[list[str]]] = {
    str(d): [["09:00", "12:00"], ["13:00", "18:00"]] for d in range(5)
}
DEFAULT_TIMEZONE = "Asia/Shanghai"

# how far the arithmetic looks for working time before it gives up (a calendar without hours)
MAX_DAYS = 3 * 366

Period = tuple[time, time]


class CalendarError(ValueError):
    """A calendar that cannot be used (no working hours at all, a bad period)."""


@dataclass(frozen=True)
class Override:
    kind: str  # holiday / workday
    note: str = ""


@dataclass(frozen=True)
class Day:
    day: date
    kind: str  # workday / makeup / weekend / holiday
    periods: tuple[Period, ...]
    name: str = ""
    source: str = SOURCE_HOURS

    @property
    def working(self) -> bool:
        return bool(self.periods)


@dataclass(frozen=True)
class Segment:
    """A piece of time between two instants, all of one sort."""

    start: datetime
    end: datetime
    working: bool
    kind: str  # the day's kind; for non-working time on a working day: "hours"
    name: str = ""

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


def parse_hhmm(value: str) -> time:
    hh, mm = value.strip().split(":")
    h, m = int(hh), int(mm)
    if h == 24 and m == 0:
        return time.max
    return time(h, m)


def parse_working_hours(raw: Mapping[str, object] | None) -> tuple[tuple[Period, ...], ...]:
    """{"0": [["09:00","12:00"], …], …} (Monday = "0") → seven tuples of periods."""
    raw = DEFAULT_WORKING_HOURS if raw is None else raw
    week: list[tuple[Period, ...]] = []
    for weekday in range(7):
        periods = []
        for start, end in raw.get(str(weekday), []) or []:
            s, e = parse_hhmm(start), parse_hhmm(end)
            if not s < e:
                raise CalendarError(f"period {start}–{end} ends before it starts")
            periods.append((s, e))
        periods.sort()
        for (_, e1), (s2, _) in zip(periods, periods[1:], strict=False):
            if s2 < e1:
                raise CalendarError("working periods overlap")
        week.append(tuple(periods))
    return tuple(week)


_PERIOD_TEXT = re.compile(r"^(\d{1,2}:\d{2})\s*[-–~至]\s*(\d{1,2}:\d{2})$")


def parse_day_text(text: str) -> list[list[str]]:
    """ "09:00-12:00 13:00-18:00" (commas or spaces between periods; empty: a day off) → the
    stored form [["09:00","12:00"], ["13:00","18:00"]]. Raises CalendarError."""
    out = []
    for part in re.split(r"[,,;;\s]+(?=\d)", text.strip()) if text.strip() else []:
        m = _PERIOD_TEXT.match(re.sub(r"[,,;;]+$", "", part.strip()))
        if not m:
            raise CalendarError(f"{part.strip()!r} is not a period like 09:00-12:00")
        try:
            start, end = parse_hhmm(m.group(1)), parse_hhmm(m.group(2))
        except ValueError as exc:
            raise CalendarError(f"{part.strip()!r} is not a time of day") from exc
        out.append([start.strftime("%H:%M"), "24:00" if end == time.max else end.strftime("%H:%M")])
    return out


def day_text(periods) -> str:
    return " ".join(f"{s}-{e}" for s, e in periods or [])


# --- the libraries ---------------------------------------------------------------------------


@lru_cache(maxsize=64)
def official_cn_year_known(year: int) -> bool:
    """Whether chinesecalendar knows the State Council's schedule for ``year``."""
    import chinese_calendar

    try:
        chinese_calendar.is_holiday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def _official_cn(day: date) -> tuple[bool, str] | None:
    if not official_cn_year_known(day.year):
        return None
    import chinese_calendar

    is_holiday, name = chinese_calendar.get_holiday_detail(day)
    return bool(is_holiday), (name or "")


@lru_cache(maxsize=256)
def library_holidays(country: str, year: int) -> Mapping[date, str]:
    """Public holidays of ``country`` in ``year`` from the ``holidays`` package ({} if unknown)."""
    import holidays

    try:
        found = holidays.country_holidays(country, years=year)
    except NotImplementedError:
        return {}
    return dict(found.items())


def has_official_schedule(country: str, year: int, notice_years: Collection[int] = ()) -> bool:
    """Whether a calendar of ``country`` counts ``year`` on an official schedule: for China, when
    chinesecalendar knows the year or the State Council's notice for it was imported
    (``notice_years``, the years of the overrides an import wrote). Overrides an admin added by
    hand do not make a schedule: without the notice the rest of the year is still the fallback.
    Other countries' holidays come from the holidays library, which has no yearly notice to
    miss. The request page and the admins' calendar page both ask this."""
    if (country or "").upper() != "CN":
        return True
    return official_cn_year_known(year) or year in notice_years


def official_years(country: str) -> range | None:
    """The years chinesecalendar covers (China only)."""
    if country != "CN":
        return None
    first = 2004
    last = first
    while official_cn_year_known(last + 1):
        last += 1
    return range(first, last + 1)


# --- the calendar ----------------------------------------------------------------------------


class BusinessCalendar:
    """Working time on a calendar. ``add`` and ``working_time`` take and return aware datetimes
    (any zone in, UTC out)."""

    around_the_clock = False

    def __init__(
        self,
        timezone: str = DEFAULT_TIMEZONE,
        working_hours: Mapping[str, object] | None = None,
        country: str = "CN",
        overrides: Mapping[date, Override] | None = None,
        name: str = "",
        notice_years: Collection[int] = (),
    ) -> None:
        self.name = name
        # the years whose official notice was imported as overrides (see has_official_schedule)
        self.notice_years = frozenset(notice_years)
        self.timezone = timezone
        self.tz = ZoneInfo(timezone)
        self.country = (country or "").upper()
        self.weekly = parse_working_hours(working_hours)
        self.overrides = dict(overrides or {})
        standard = next((p for p in self.weekly if p), None)
        if standard is None and not any(o.kind == WORKDAY for o in self.overrides.values()):
            raise CalendarError("the calendar has no working hours")
        self.standard_periods: tuple[Period, ...] = standard or (
            (time(9), time(12)),
            (time(13), time(18)),
        )
        self._days: dict[date, Day] = {}

    # days

    @property
    def standard_day(self) -> timedelta:
        """The working time of one standard working day: "N working days" is N of these."""
        return sum((_length(p) for p in self.standard_periods), timedelta())

    def day(self, d: date) -> Day:
        found = self._days.get(d)
        if found is None:
            found = self._days[d] = self._resolve(d)
        return found

    def _resolve(self, d: date) -> Day:
        weekly = self.weekly[d.weekday()]
        override = self.overrides.get(d)
        if override is not None:
            if override.kind == HOLIDAY:
                return Day(d, OFF, (), override.note, SOURCE_OVERRIDE)
            if weekly:
                return Day(d, WORKING, weekly, override.note, SOURCE_OVERRIDE)
            return Day(d, MAKEUP, self.standard_periods, override.note, SOURCE_OVERRIDE)
        if self.country == "CN":
            official = _official_cn(d)
            if official is not None:
                is_holiday, name = official
                if is_holiday and (name or d.weekday() < 5):
                    return Day(d, OFF, (), name, SOURCE_OFFICIAL)
                if not is_holiday and d.weekday() >= 5:
                    periods = weekly or self.standard_periods
                    return Day(d, MAKEUP if not weekly else WORKING, periods, name, SOURCE_OFFICIAL)
                return self._weekly_day(d, weekly, SOURCE_OFFICIAL)
        source = SOURCE_FALLBACK if self.country == "CN" else SOURCE_LIBRARY
        if self.country:
            name = library_holidays(self.country, d.year).get(d)
            if name is not None:
                return Day(d, OFF, (), name, source)
        return self._weekly_day(d, weekly, source if self.country else SOURCE_HOURS)

    @staticmethod
    def _weekly_day(d: date, weekly: tuple[Period, ...], source: str) -> Day:
        return Day(d, WORKING if weekly else WEEKEND, weekly, "", source)

    def has_official_schedule(self, year: int) -> bool:
        return has_official_schedule(self.country, year, self.notice_years)

    def uses_fallback(self, d: date) -> bool:
        return self.day(d).source == SOURCE_FALLBACK

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()

    def periods(self, d: date) -> list[tuple[datetime, datetime]]:
        """The working periods of local date ``d`` as UTC instants."""
        out = []
        for s, e in self.day(d).periods:
            start = datetime.combine(d, s, tzinfo=self.tz).astimezone(UTC)
            if e == time.max:
                end = datetime.combine(d + timedelta(days=1), time(0), tzinfo=self.tz)
            else:
                end = datetime.combine(d, e, tzinfo=self.tz)
            out.append((start, end.astimezone(UTC)))
        return out

    def _periods_from(self, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working periods that end after ``instant``, in order (clipped to start at it)."""
        d = self.local_date(instant) - timedelta(days=1)  # a period may end after midnight UTC
        for _ in range(MAX_DAYS):
            for start, end in self.periods(d):
                if end > instant:
                    yield max(start, instant), end
            d += timedelta(days=1)
        raise CalendarError("no working time within three years")

    # arithmetic

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The instant when ``amount`` of working time has passed after ``start``. Ends at a
        period's end rather than at the next period's start when it falls on the boundary."""
        start = _utc(start)
        if amount <= timedelta(0):
            return start
        remaining = amount
        for s, e in self._periods_from(start):
            available = e - s
            if available >= remaining:
                return s + remaining
            remaining -= available
        raise CalendarError("unreachable")  # pragma: no cover

    def working_time(self, a: datetime, b: datetime) -> timedelta:
        """Working time between two instants (zero if b <= a)."""
        a, b = _utc(a), _utc(b)
        total = timedelta()
        if b <= a:
            return total
        for s, e in self._periods_from(a):
            if s >= b:
                break
            total += min(e, b) - s
        return total

    def is_working(self, instant: datetime) -> bool:
        instant = _utc(instant)
        d = self.local_date(instant)
        return any(s <= instant < e for s, e in self.periods(d))

    def next_working_start(self, instant: datetime) -> datetime:
        """``instant`` itself when it is working time, else the start of the next period."""
        return next(self._periods_from(_utc(instant)))[0]

    def segments(self, a: datetime, b: datetime) -> list[Segment]:
        """Cut [a, b) into working and non-working pieces, each with the kind of its day."""
        a, b = _utc(a), _utc(b)
        out: list[Segment] = []
        if b <= a:
            return out
        d = self.local_date(a)
        cursor = a
        while cursor < b:
            info = self.day(d)
            day_end = datetime.combine(d + timedelta(days=1), time(0), tzinfo=self.tz)
            day_end = min(day_end.astimezone(UTC), b)
            off_kind = "hours" if info.working else info.kind
            for s, e in self.periods(d):
                if e <= cursor or s >= day_end:
                    continue
                if s > cursor:
                    out.append(Segment(cursor, s, False, off_kind, info.name))
                    cursor = s
                end = min(e, day_end)
                out.append(Segment(cursor, end, True, info.kind, info.name))
                cursor = end
            if cursor < day_end:
                out.append(Segment(cursor, day_end, False, off_kind, info.name))
                cursor = day_end
            d += timedelta(days=1)
        return out


class AroundTheClock:
    """The 24×7 clock of P1 and P2: every hour counts."""

    around_the_clock = True
    standard_day = timedelta(hours=24)

    def add(self, start: datetime, amount: timedelta) -> datetime:
        return _utc(start) + max(amount, timedelta(0))

    def working_time(self, a: datetime, b: datetime) -> timedelta:
        return max(_utc(b) - _utc(a), timedelta(0))

    def is_working(self, instant: datetime) -> bool:
        return True

    def next_working_start(self, instant: datetime) -> datetime:
        return _utc(instant)

    def segments(self, a: datetime, b: datetime) -> list[Segment]:
        a, b = _utc(a), _utc(b)
        return [Segment(a, b, True, WORKING)] if b > a else []


Clock = BusinessCalendar | AroundTheClock


def _length(period: Period) -> timedelta:
    s, e = period
    end = timedelta(days=1) if e == time.max else timedelta(hours=e.hour, minutes=e.minute)
    return end - timedelta(hours=s.hour, minutes=s.minute)


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime given to a calendar")
    return instant.astimezone(UTC)
