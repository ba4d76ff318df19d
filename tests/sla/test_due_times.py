"""Due-time arithmetic (portal/domain/sla.py): real dates, then the invariants as properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.domain import sla
from portal.domain.calendar import BusinessCalendar, Override
from portal.domain.sla import Target

SH = ZoneInfo("Asia/Shanghai")
CHINA = BusinessCalendar()
P1, P2, P3 = (
    (Target(2, "hours"), Target(4, "hours")),
    (Target(4, "hours"), Target(24, "hours")),
    (Target(8, "working_hours"), Target(3, "working_days")),
)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.mark.parametrize(
    "name, targets, submitted, response, resolution",
    [
        # National Day 2026: Oct 1–7 off; Thu 8, Fri 9 and the make-up Saturday 10 are worked
        (
            "P3 before National Day",
            P3,
            at(2026, 9, 30, 17),
            at(2026, 10, 8, 17),
            at(2026, 10, 10, 17),
        ),
        # Spring Festival 2026: Feb 15–23 off; make-up Saturdays Feb 14 and Feb 28
        (
            "P3 before Spring Festival",
            P3,
            at(2026, 2, 13, 16),
            at(2026, 2, 14, 16),
            at(2026, 2, 25, 16),
        ),
        (
            "P3 over the second make-up Saturday",
            P3,
            at(2026, 2, 26, 10),
            at(2026, 2, 27, 10),
            at(2026, 3, 2, 10),
        ),
        # a night submission starts counting at 09:00 the next working day
        ("P3 at night", P3, at(2026, 11, 24, 22, 30), at(2026, 11, 25, 18), at(2026, 11, 27, 18)),
        # 24×7: the weekend counts
        ("P1 over a weekend", P1, at(2026, 11, 28, 10), at(2026, 11, 28, 12), at(2026, 11, 28, 14)),
        ("P2 over National Day", P2, at(2026, 9, 30, 17), at(2026, 9, 30, 21), at(2026, 10, 1, 17)),
        # 2027 is not published: fallback, Spring Festival Feb 5–10 from `holidays`, no make-up
        ("P3 in 2027 (fallback)", P3, at(2027, 2, 4, 17), at(2027, 2, 11, 17), at(2027, 2, 15, 17)),
        (
            "P3 into 2027 (fallback)",
            P3,
            at(2026, 12, 30, 17),
            at(2026, 12, 31, 17),
            at(2027, 1, 5, 17),
        ),
    ],
)
def test_due_times_on_real_dates(name, targets, submitted, response, resolution):
    respond, resolve = targets
    assert sla.due(respond, CHINA, submitted) == response.astimezone(UTC)
    assert sla.due(resolve, CHINA, submitted) == resolution.astimezone(UTC)


def test_three_working_days_from_17_00_ends_at_17_00_on_the_third_working_day():
    assert sla.add_working_days(CHINA, at(2026, 11, 25, 17), 3) == at(2026, 11, 30, 17)
    assert sla.add_working_hours(CHINA, at(2026, 11, 25, 17), 1) == at(2026, 11, 25, 18)


def test_a_pause_moves_the_resolution_due_time_by_the_paused_working_time():
    submitted = at(2026, 9, 30, 17)
    due = sla.due(P3[1], CHINA, submitted)
    assert due == at(2026, 10, 10, 17)
    # paused Thu 8 Oct 16:00 → Fri 9 Oct 10:00: 2 h + 1 h of working time (the night is free)
    moved = sla.shift_for_pause(CHINA, due, at(2026, 10, 8, 16), at(2026, 10, 9, 10))
    assert moved == at(2026, 10, 12, 11)  # Sat 10 Oct 17:00 + 1 h → 18:00, + 2 h on Monday
    # recomputing from submission with the same pause gives the same instant
    paused = sla.paused_time(CHINA, [(at(2026, 10, 8, 16), at(2026, 10, 9, 10))], at(2026, 11, 1))
    assert paused == timedelta(hours=3)
    assert sla.due(P3[1], CHINA, submitted, paused) == moved
    # on the 24×7 clock the whole pause counts
    clock = sla.clock_for("hours", CHINA)
    assert sla.shift_for_pause(
        clock, at(2026, 10, 1, 17), at(2026, 10, 1, 10), at(2026, 10, 1, 12, 30)
    ) == at(2026, 10, 1, 19, 30)


def test_warn_time_is_a_share_of_the_working_time():
    start, due = at(2026, 9, 30, 17), at(2026, 10, 10, 17)
    # 75 % of 24 working hours is 18 h: 1 (Sep 30) + 8 (Oct 8) + 8 (Oct 9) + 1 → Sat 10:00
    assert sla.warn_at(start, due, CHINA, 75) == at(2026, 10, 10, 10)


def test_the_explanation_names_what_counted_what_was_paused_and_what_was_off():
    ex = sla.explain(
        CHINA,
        at(2026, 9, 30, 17),
        at(2026, 10, 10, 17),
        [(at(2026, 10, 9, 10), at(2026, 10, 9, 11))],
    )
    states = [(iv.start, iv.end, iv.state) for iv in ex.intervals]
    assert states[0] == (at(2026, 9, 30, 17), at(2026, 9, 30, 18), "counted")
    assert states[1] == (at(2026, 9, 30, 18), at(2026, 10, 8, 9), "non_working")
    assert ("holiday", "National Day") in ex.intervals[1].reasons
    assert (at(2026, 10, 9, 10), at(2026, 10, 9, 11), "paused") in states
    makeup = [iv for iv in ex.intervals if ("makeup", "National Day") in iv.reasons]
    assert [(iv.start, iv.end) for iv in makeup] == [
        (at(2026, 10, 10, 9), at(2026, 10, 10, 12)),
        (at(2026, 10, 10, 13), at(2026, 10, 10, 17)),
    ]
    assert ex.counted == timedelta(hours=23) and ex.paused == timedelta(hours=1)
    assert ex.counted + ex.paused + ex.non_working == at(2026, 10, 10, 17) - at(2026, 9, 30, 17)


# --- properties ------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2025, 12, 1), max_value=datetime(2027, 6, 30), timezones=st.just(SH)
).map(lambda d: d.replace(second=0, microsecond=0))
amounts = st.integers(min_value=0, max_value=60 * 8 * 12).map(lambda m: timedelta(minutes=m))
calendars = st.sampled_from(
    [
        CHINA,
        BusinessCalendar(overrides={date(2026, 11, 28): Override("workday", "release")}),
        BusinessCalendar(timezone="Europe/Berlin", country="DE"),
        BusinessCalendar(
            timezone="America/New_York",
            country="US",
            working_hours={str(d): [["08:30", "17:00"]] for d in range(6)},
        ),
    ]
)


def _on_period_end(calendar: BusinessCalendar, instant: datetime) -> bool:
    return any(e == instant for _, e in calendar.periods(calendar.local_date(instant)))


@settings(max_examples=150, deadline=None)
@given(calendars, instants, amounts, amounts)
def test_adding_working_time_is_monotonic(calendar, start, a, b):
    small, large = sorted((a, b))
    assert calendar.add(start, small) <= calendar.add(start, large)
    later = start + (large - small)
    assert calendar.add(start, small) <= calendar.add(later, small)


@settings(max_examples=150, deadline=None)
@given(calendars, instants, amounts)
def test_the_result_is_in_working_time_after_exactly_that_much_working_time(
    calendar, start, amount
):
    end = calendar.add(start, amount)
    assert end >= start
    # the time counted between start and the result is the amount, and no more
    assert calendar.working_time(start, end) == amount
    if amount:
        assert calendar.is_working(end) or _on_period_end(calendar, end)
        assert calendar.day(calendar.local_date(end - timedelta(seconds=1))).working


@settings(max_examples=150, deadline=None)
@given(instants, amounts)
def test_non_working_time_is_skipped_and_make_up_days_are_worked(start, amount):
    end = CHINA.add(start, amount)
    for seg in CHINA.segments(start, end):
        day = CHINA.day(CHINA.local_date(seg.start))
        if seg.working:
            # counted time lies on a working day: an ordinary one or a make-up day (调休)
            assert day.kind in ("workday", "makeup")
            official = chinese_calendar.is_workday(day.day) if day.day.year <= 2026 else None
            assert official in (True, None)
        else:
            assert not CHINA.is_working(seg.start)


@given(
    st.sampled_from(
        [
            date(2026, 1, 4),
            date(2026, 2, 14),
            date(2026, 2, 28),
            date(2026, 5, 9),
            date(2026, 9, 20),
            date(2026, 10, 10),
        ]
    ),
    st.integers(min_value=1, max_value=8),
)
def test_a_make_up_day_counts_like_a_weekday(makeup_day, hours):
    # from the end of the working day before it, the hours land on the make-up day itself
    before = makeup_day - timedelta(days=1)
    while not CHINA.day(before).working:
        before -= timedelta(days=1)
    end = CHINA.add(
        datetime.combine(before, datetime.min.time(), SH).replace(hour=18), timedelta(hours=hours)
    )
    assert CHINA.local_date(end) == makeup_day


@settings(max_examples=100, deadline=None)
@given(instants, amounts, amounts)
def test_pause_shift_is_the_same_as_counting_the_pause_from_submission(start, target, pause):
    due = CHINA.add(start, target)
    p_from = CHINA.add(start, target / 2)
    p_to = p_from + pause * 3  # wall-clock pause, working time counted on the calendar
    moved = sla.shift_for_pause(CHINA, due, p_from, p_to)
    assert moved >= due
    assert moved == CHINA.add(start, target + CHINA.working_time(p_from, p_to))
