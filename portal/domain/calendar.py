"""Business calendars (DESIGN §4): time zone, working hours per weekday, holidays and make-up
working days (调休). Pure: the service layer loads a calendar's overrides and passes them in.

Where a day's status comes from, first match wins:

1. an admin's override for that date (holiday / workday) — this includes an imported official
   notice (see ``parse_notice``);
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
from dataclasses import dataclass, field
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


# --- the official yearly notice --------------------------------------------------------------


@dataclass(frozen=True)
class NoticeEntry:
    day: date
    kind: str  # holiday / workday
    note: str = ""


@dataclass(frozen=True)
class NoticeProblem:
    """Something in the pasted text: ``code`` and ``params`` let the web layer say it in the
    reader's language; str() is the English."""

    line: int
    code: str  # no-year / not-a-date / kind / range / no-month / weekday / total / …
    params: tuple[tuple[str, object], ...] = ()

    ENGLISH = {
        "no-year": "the year is not given",
        "not-a-date": "{text} is not a date",
        "kind": "say holiday or workday",
        "range": "the range is not a range of days",
        "no-month": "a day without a month",
        "weekday": "{day} is not a {weekday} in {year}",
        "total": "{festival} is {days} days, the notice says {total}",
        "other-year": "{day} is not in {year}",
        "empty": "no dates found",
    }

    @property
    def values(self) -> dict:
        return dict(self.params)

    def __str__(self) -> str:
        text = self.ENGLISH.get(self.code, self.code).format(**self.values)
        return f"line {self.line}: {text}" if self.line else text


def _problem(line: int, code: str, **params) -> NoticeProblem:
    return NoticeProblem(line, code, tuple(params.items()))


@dataclass
class ParsedNotice:
    entries: list[NoticeEntry] = field(default_factory=list)
    errors: list[NoticeProblem] = field(default_factory=list)  # lines that could not be read
    warnings: list[NoticeProblem] = field(default_factory=list)  # read, but did not add up

    @property
    def years(self) -> set[int]:
        return {e.day.year for e in self.entries}


_SIMPLE = re.compile(
    r"^(?P<start>\d{4}-\d{1,2}-\d{1,2})(?:\s*(?:\.\.|~|–|—|至)\s*(?P<end>\d{4}-\d{1,2}-\d{1,2}))?"
    r"\s+(?P<kind>\S+)\s*(?P<note>.*)$"
)
_KINDS = {
    "holiday": HOLIDAY,
    "off": HOLIDAY,
    "放假": HOLIDAY,
    "休": HOLIDAY,
    "假": HOLIDAY,
    "workday": WORKDAY,
    "work": WORKDAY,
    "上班": WORKDAY,
    "班": WORKDAY,
}
_HEADING = re.compile(
    r"(?:^|[\s。;;])(?:[一二三四五六七八九十]+|\d+)?[、.．]?\s*"
    r"(?P<name>(?:元旦|[\u4e00-\u9fff]{1,5}节)(?:[、和](?:元旦|[\u4e00-\u9fff]{1,5}节))*)\s*[::]"
)
_DATE = re.compile(
    r"(?:(?P<y>\d{4})\s*年\s*)?(?:(?P<m>\d{1,2})\s*月\s*)?(?P<d>\d{1,2})\s*日"
    r"(?:\s*[((](?P<paren>[^))]*)[))])?"
)
_TOTAL = re.compile(r"共\s*(\d+)\s*天")
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAY_IN_PAREN = re.compile(r"(?:周|星期|礼拜)([一二三四五六日天])")
_NOTICE_YEAR = re.compile(r"(\d{4})\s*年")


def parse_notice(text: str, year: int | None = None) -> ParsedNotice:
    """Read the official yearly notice, or simple lines ``YYYY-MM-DD holiday|workday note``.

    The notice's sentences are recognised in their usual forms: "十月1日至7日放假调休,共7天。"
    (a range of days off; the month carries over to the end day, a year-end range rolls over),
    "1月1日放假" (one day off), "9月28日(星期日)、10月11日(星期六)上班。" (make-up working days).
    Weekdays given in brackets are checked against the date, and "共N天" against the range.
    ``year`` defaults to the first "YYYY年" in the text (the notice's title).
    """
    result = ParsedNotice()
    if year is None:
        found = _NOTICE_YEAR.search(text)
        year = int(found.group(1)) if found else None
    festival = ""
    for lineno, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip().replace("\u3000", " ")
        if not line or line.startswith("#"):
            continue
        simple = _SIMPLE.match(line)
        if simple:
            _simple_line(simple, lineno, result)
            continue
        if "日" not in line or not ("放假" in line or "上班" in line or "休" in line):
            heading = _HEADING.search(line)
            if heading:
                festival = heading.group("name")
            continue  # the notice's title, preamble and closing words
        if year is None:
            result.errors.append(_problem(lineno, "no-year"))
            continue
        for sentence in re.split(r"[。;;]", line):
            heading = _HEADING.search(sentence)
            if heading:
                festival = heading.group("name")
                sentence = sentence[heading.end() :]
            _notice_sentence(sentence, year, festival, lineno, result)
    # a later line wins for the same day
    unique: dict[date, NoticeEntry] = {}
    for entry in result.entries:
        unique[entry.day] = entry
    result.entries = sorted(unique.values(), key=lambda e: e.day)
    return result


def _simple_line(match: re.Match, lineno: int, result: ParsedNotice) -> None:
    kind = _KINDS.get(match.group("kind").lower())
    try:
        start = date.fromisoformat(_iso(match.group("start")))
        end = date.fromisoformat(_iso(match.group("end"))) if match.group("end") else start
    except ValueError:
        result.errors.append(_problem(lineno, "not-a-date", text=match.group(0).split()[0]))
        return
    if kind is None:
        result.errors.append(_problem(lineno, "kind"))
        return
    if end < start or (end - start).days > 31:
        result.errors.append(_problem(lineno, "range"))
        return
    note = match.group("note").strip()[:200]
    d = start
    while d <= end:
        result.entries.append(NoticeEntry(d, kind, note))
        d += timedelta(days=1)


def _iso(value: str) -> str:
    y, m, d = value.split("-")
    return f"{int(y):04d}-{int(m):02d}-{int(d):02d}"


def _notice_sentence(
    sentence: str, year: int, festival: str, lineno: int, result: ParsedNotice
) -> None:
    pending: list[date] = []
    range_marks: list[bool] = []  # for each pending date: whether "至" preceded it
    total_days: int | None = None
    month: int | None = None
    current_year = year
    for clause in re.split(r"[,,]", sentence):
        total = _TOTAL.search(clause)
        if total:
            total_days = int(total.group(1))
        last_end = 0
        for m in _DATE.finditer(clause):
            between = clause[last_end : m.start()]
            last_end = m.end()
            if m.group("y"):
                current_year = int(m.group("y"))
            if m.group("m"):
                new_month = int(m.group("m"))
                if month is not None and new_month < month and not m.group("y"):
                    current_year += 1  # 12月31日至1月2日
                month = new_month
            if month is None:
                result.errors.append(_problem(lineno, "no-month"))
                return
            try:
                d = date(current_year, month, int(m.group("d")))
            except ValueError:
                result.errors.append(_problem(lineno, "not-a-date", text=m.group(0)))
                return
            paren = m.group("paren") or ""
            wd = _WEEKDAY_IN_PAREN.search(paren)
            if wd and _WEEKDAYS[wd.group(1)] != d.weekday():
                result.warnings.append(
                    _problem(
                        lineno, "weekday", day=d.isoformat(), weekday=paren.strip(), year=d.year
                    )
                )
            pending.append(d)
            range_marks.append("至" in between or "-" in between.strip() or "~" in between)
        if "放假" in clause or ("休" in clause and "上班" not in clause and pending):
            days = _expand(pending, range_marks)
            if not days:
                continue
            for d in days:
                result.entries.append(NoticeEntry(d, HOLIDAY, festival))
            if total_days is None:
                total = _TOTAL.search(sentence)
                total_days = int(total.group(1)) if total else None
            if total_days is not None and total_days != len(days) and any(range_marks):
                result.warnings.append(
                    _problem(lineno, "total", festival=festival, days=len(days), total=total_days)
                )
            pending, range_marks = [], []
        elif "上班" in clause:
            for d in pending:
                result.entries.append(NoticeEntry(d, WORKDAY, festival))
            pending, range_marks = [], []


def _expand(days: list[date], range_marks: list[bool]) -> list[date]:
    out: list[date] = []
    for i, d in enumerate(days):
        if range_marks[i] and out:
            start = out[-1] + timedelta(days=1)
            while start <= d:
                out.append(start)
                start += timedelta(days=1)
        else:
            out.append(d)
    return out
