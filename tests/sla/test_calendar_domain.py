"""Business calendars (portal/domain/calendar.py): where each day's status comes from, and the
import of the State Council's yearly notice."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from portal.domain import calendar as cal
from portal.domain.calendar import BusinessCalendar, Override
from portal.domain.holiday_notice import NoticeEntry, parse_notice

SH = ZoneInfo("Asia/Shanghai")
NOTICE_2026 = (Path(__file__).parent / "notice_2026.txt").read_text(encoding="utf-8")


def test_china_2026_follows_the_state_council_with_make_up_days():
    china = BusinessCalendar()
    national_day = china.day(date(2026, 10, 1))
    assert (national_day.kind, national_day.source, national_day.working) == (
        "holiday",
        "official",
        False,
    )
    assert national_day.name == "National Day"
    # make-up working days: Sun 20 Sep, Sat 10 Oct (National Day); Sat 14 and 28 Feb (Spring)
    for d in (date(2026, 9, 20), date(2026, 10, 10), date(2026, 2, 14), date(2026, 2, 28)):
        day = china.day(d)
        assert d.weekday() >= 5 and day.kind == "makeup" and day.working, d
        assert [(s.hour, e.hour) for s, e in day.periods] == [(9, 12), (13, 18)]
    assert china.day(date(2026, 10, 11)).kind == "weekend"
    assert china.day(date(2026, 10, 8)).kind == "workday"
    assert china.day(date(2026, 2, 23)).kind == "holiday"  # Monday, last day of Spring Festival


def test_an_override_wins_over_the_library():
    china = BusinessCalendar(
        overrides={
            date(2026, 10, 9): Override("holiday", "company day off"),
            date(2026, 10, 11): Override("workday", "release weekend"),
            date(2026, 10, 10): Override("holiday", ""),  # not worked after all
        }
    )
    assert china.day(date(2026, 10, 9)).kind == "holiday"
    assert china.day(date(2026, 10, 9)).name == "company day off"
    assert china.day(date(2026, 10, 11)).kind == "makeup"
    assert china.day(date(2026, 10, 10)).kind == "holiday"
    assert china.day(date(2026, 10, 11)).source == "override"


def test_2027_has_no_official_schedule_and_uses_the_documented_fallback():
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_holiday(date(2027, 3, 1))
    assert not cal.official_cn_year_known(2027)
    china = BusinessCalendar()
    new_year = china.day(date(2027, 1, 1))
    assert new_year.kind == "holiday" and new_year.source == "fallback"
    assert china.day(date(2027, 10, 1)).kind == "holiday"
    assert china.day(date(2027, 2, 8)).kind == "holiday"  # Spring Festival (lunar, by `holidays`)
    # no make-up days are guessed: every Saturday and Sunday of 2027 is off
    d = date(2027, 1, 1)
    while d.year == 2027:
        if d.weekday() >= 5:
            assert not china.day(d).working, d
        d += timedelta(days=1)
    assert china.day(date(2027, 3, 3)).kind == "workday"


def test_other_countries_come_from_the_holidays_package():
    germany = BusinessCalendar(timezone="Europe/Berlin", country="DE")
    assert germany.day(date(2026, 12, 25)).kind == "holiday"
    assert germany.day(date(2026, 12, 25)).source == "library"
    assert germany.day(date(2026, 12, 23)).kind == "workday"
    # 09:00 Berlin across the change to summer time (29 March 2026) is still 09:00 local
    start = datetime(2026, 3, 27, 17, tzinfo=ZoneInfo("Europe/Berlin"))
    end = germany.add(start, timedelta(hours=2))
    assert end.astimezone(ZoneInfo("Europe/Berlin")) == datetime(
        2026, 3, 30, 10, tzinfo=ZoneInfo("Europe/Berlin")
    )


def test_working_hours_per_weekday_are_honoured():
    saturday_mornings = {
        **cal.DEFAULT_WORKING_HOURS,
        "5": [["09:00", "12:00"]],
    }
    desk = BusinessCalendar(working_hours=saturday_mornings, country="")
    # Fri 17:00 + 4 working hours: 1 h on Friday, 3 h on Saturday morning → Sat 12:00
    start = datetime(2026, 11, 27, 17, tzinfo=SH)
    assert desk.add(start, timedelta(hours=4)) == datetime(2026, 11, 28, 12, tzinfo=SH)
    assert desk.day(date(2026, 11, 29)).kind == "weekend"


@pytest.mark.parametrize(
    "hours",
    [
        {"0": [["12:00", "09:00"]]},
        {"0": [["09:00", "12:00"], ["11:00", "13:00"]]},
        {},
    ],
)
def test_a_calendar_that_cannot_work_is_refused(hours):
    with pytest.raises(cal.CalendarError):
        BusinessCalendar(working_hours=hours)


def test_next_working_start_and_is_working():
    china = BusinessCalendar()
    assert china.is_working(datetime(2026, 9, 30, 10, tzinfo=SH))
    assert not china.is_working(datetime(2026, 9, 30, 12, 30, tzinfo=SH))
    assert china.next_working_start(datetime(2026, 9, 30, 18, 5, tzinfo=SH)) == datetime(
        2026, 10, 8, 9, tzinfo=SH
    )


# --- the notice ------------------------------------------------------------------------------


def test_the_2026_notice_text_gives_exactly_what_chinese_calendar_knows():
    parsed = parse_notice(NOTICE_2026)
    assert parsed.errors == [] and parsed.warnings == []
    assert parsed.years == {2026}
    holidays = {e.day for e in parsed.entries if e.kind == "holiday"}
    workdays = {e.day for e in parsed.entries if e.kind == "workday"}
    assert workdays == {
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    }
    assert len(holidays) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    # every day agrees with the library, and the library's named days are all there
    for e in parsed.entries:
        assert chinese_calendar.is_holiday(e.day) == (e.kind == "holiday"), e
    d = date(2026, 1, 1)
    while d.year == 2026:
        is_holiday, name = chinese_calendar.get_holiday_detail(d)
        if (is_holiday and name) or (not is_holiday and d.weekday() >= 5):
            assert d in holidays | workdays, d
        d += timedelta(days=1)
    notes = {e.day: e.note for e in parsed.entries}
    assert notes[date(2026, 10, 10)] == "国庆节" and notes[date(2026, 2, 15)] == "春节"


def test_the_notice_sentence_forms():
    text = "七、国庆节:10月1日至7日放假调休,共7天。9月28日(星期日)、10月11日(星期六)上班。"
    parsed = parse_notice(text, 2025)
    assert parsed.errors == [] and parsed.warnings == []
    assert [(e.day, e.kind) for e in parsed.entries] == [
        (date(2025, 9, 28), "workday"),
        *[(date(2025, 10, d), "holiday") for d in range(1, 8)],
        (date(2025, 10, 11), "workday"),
    ]
    # a single day off; a range across the year's end with years written out
    parsed = parse_notice(
        "一、元旦:2022年12月31日至2023年1月2日放假调休,共3天。\n二、劳动节:5月1日放假,与周末连休。",
        2023,
    )
    assert [e.day for e in parsed.entries] == [
        date(2022, 12, 31),
        date(2023, 1, 1),
        date(2023, 1, 2),
        date(2023, 5, 1),
    ]
    assert {e.note for e in parsed.entries} == {"元旦", "劳动节"}


def test_the_notice_is_checked_against_itself():
    parsed = parse_notice("国庆节:10月1日(周三)至7日放假调休,共8天。", 2026)
    # 1 Oct 2026 is a Thursday, and 1–7 is seven days
    assert len(parsed.warnings) == 2
    weekday, total = map(str, parsed.warnings)
    assert weekday == "line 1: 2026-10-01 is not a 周三 in 2026"
    assert total == "line 1: 国庆节 is 7 days, the notice says 8"


def test_the_simple_line_format():
    parsed = parse_notice(
        "# our own list\n"
        "2027-01-01 holiday 元旦\n"
        "2027-02-05..2027-02-11 holiday 春节\n"
        "2027-02-20 workday 春节调休\n"
    )
    assert parsed.errors == []
    assert len(parsed.entries) == 1 + 7 + 1
    assert parsed.entries[-1] == NoticeEntry(date(2027, 2, 20), "workday", "春节调休")
    bad = parse_notice("2027-02-30 holiday x\n2027-03-01 maybe\n")
    assert [str(e) for e in bad.errors] == [
        "line 1: 2027-02-30 is not a date",
        "line 2: say holiday or workday",
    ]
