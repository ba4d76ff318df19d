"""The State Council's yearly holiday notice (国务院办公厅关于…部分节假日安排的通知, docs/product.md §4) read
into day entries: which dates are days off and which are make-up working days (调休上班). Pure:
the service layer (``portal.services.calendars.import_notice``) turns the entries into a
calendar's overrides; the arithmetic on those days is in ``portal.domain.calendar``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from portal.domain.calendar import HOLIDAY, WORKDAY


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
