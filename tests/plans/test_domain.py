"""The plans' dates on the real 2026 calendar (chinesecalendar: the State Council's notice,
调休 included) and the fallback one of 2027; the rule's choices, the typed RRULE and the
refusals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.domain import plans as rules
from portal.domain.calendar import BusinessCalendar
from portal.domain.plans import PlanError, RuleChoice, Schedule

CHINA = BusinessCalendar()


def schedule(choice: RuleChoice, shift="next", lead=0, start=date(2026, 1, 1), end=None):
    return Schedule(choice.to_rrule(), start, end, shift, lead)


def dues(choice: RuleChoice, shift="next", lead=0, after=date(2026, 1, 1), n=12):
    return rules.occurrences(CHINA, schedule(choice, shift, lead), after, n)


MONTHLY_1ST = RuleChoice(rules.MONTHLY_DAY, day=1)


def test_monthly_on_the_1st_moves_october_off_national_day():
    october = next(o for o in dues(MONTHLY_1ST) if o.occurs_on.month == 10)
    # the 2026 notice: 1–7 October off, the 8th is the first working day after it
    assert (october.occurs_on, october.due_on) == (date(2026, 10, 1), date(2026, 10, 8))
    assert october.moved and october.reason == "National Day"
    assert october.reason_kind == "holiday"


@pytest.mark.parametrize(
    ("shift", "due"),
    [("next", date(2026, 10, 8)), ("previous", date(2026, 9, 30)), ("none", date(2026, 10, 1))],
)
def test_the_shift_decides_where_a_holiday_occurrence_goes(shift, due):
    october = next(o for o in dues(MONTHLY_1ST, shift) if o.occurs_on.month == 10)
    assert october.due_on == due


def test_a_plan_due_on_the_makeup_saturday_stays_there():
    # every other Saturday from 2026-10-10, the make-up working day (调休上班) after National Day
    choice = RuleChoice(rules.WEEKLY, interval=2, weekday="SA")
    found = rules.occurrences(
        CHINA, schedule(choice, start=date(2026, 10, 10)), date(2026, 10, 1), 2
    )
    assert found[0].occurs_on == found[0].due_on == date(2026, 10, 10)
    assert found[0].makeup and not found[0].moved
    # an ordinary Saturday moves to Monday
    assert (found[1].occurs_on, found[1].due_on) == (date(2026, 10, 24), date(2026, 10, 26))
    assert found[1].reason_kind == "weekend"


def test_the_first_monday_of_each_quarter():
    choice = RuleChoice(rules.QUARTERLY_WEEKDAY, ordinal=1, weekday="MO")
    assert [o.occurs_on for o in dues(choice, n=4)] == [
        date(2026, 1, 5),
        date(2026, 4, 6),
        date(2026, 7, 6),
        date(2026, 10, 5),
    ]
    # 2026-04-06 is the Qingming holiday's Monday, 2026-10-05 inside National Day
    assert [o.due_on for o in dues(choice, n=4)] == [
        date(2026, 1, 5),
        date(2026, 4, 7),
        date(2026, 7, 6),
        date(2026, 10, 8),
    ]


@pytest.mark.parametrize(
    ("lead", "opens"),
    [
        (0, date(2026, 10, 8)),
        (1, date(2026, 9, 30)),  # 1–7 October are not working days
        (3, date(2026, 9, 28)),
        (5, date(2026, 9, 23)),  # the Mid-Autumn days 25–27 September are skipped too
    ],
)
def test_the_lead_time_counts_working_days(lead, opens):
    october = next(o for o in dues(MONTHLY_1ST, lead=lead) if o.occurs_on.month == 10)
    assert october.open_on == opens


def test_a_lead_time_over_a_makeup_sunday_counts_it():
    # 2026-09-20 (Sunday) is a make-up working day: two working days before Tuesday the 22nd
    # are Monday the 21st and that Sunday
    day = rules.working_days_before(CHINA, date(2026, 9, 22), 2)
    assert day == date(2026, 9, 20)


def test_a_2027_occurrence_is_flagged_as_counted_on_the_fallback_calendar():
    preview = dues(MONTHLY_1ST, after=date(2026, 11, 1), n=3)
    assert [o.fallback for o in preview] == [False, False, True]
    assert preview[2].occurs_on == date(2027, 1, 1)


@pytest.mark.parametrize(
    ("choice", "text"),
    [
        (RuleChoice(rules.MONTHLY_DAY, day=5), "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=5"),
        (
            RuleChoice(rules.MONTHLY_DAY, day=-1, interval=2),
            "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=-1",
        ),
        (
            RuleChoice(rules.MONTHLY_WEEKDAY, ordinal=-1, weekday="FR"),
            "FREQ=MONTHLY;INTERVAL=1;BYDAY=-1FR",
        ),
        (RuleChoice(rules.QUARTERLY_DAY, day=10), "FREQ=YEARLY;BYMONTH=1,4,7,10;BYMONTHDAY=10"),
        (RuleChoice(rules.WEEKLY, interval=2, weekday="TU"), "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"),
    ],
)
def test_plain_choices_make_rrules_and_come_back_from_them(choice, text):
    assert choice.to_rrule() == text
    assert rules.choice_of(text) == choice


def test_a_typed_rule_is_normalised_and_kept_as_advanced():
    text = rules.check_rrule_text(" rrule:freq=monthly; bymonthday=15 ")
    assert text == "FREQ=MONTHLY;BYMONTHDAY=15"
    assert rules.choice_of(text).kind == rules.ADVANCED


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "missing"),
        ("FREQ=HOURLY", "frequency"),
        ("FREQ=MONTHLY;BYMONTHDAY=40", "never"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "never"),
        ("FREQ=MONTHLY;DTSTART=20260101", "invalid"),
        ("FREQ=MONTHLY;FREQ=WEEKLY", "invalid"),
        ("not a rule", "invalid"),
        ("FREQ=DAILY;" + "BYMONTH=1;" * 40, "too-long"),
    ],
)
def test_bad_typed_rules_are_refused_at_the_advanced_field(text, code):
    with pytest.raises(PlanError) as refused:
        rules.check_rrule_text(text)
    assert (refused.value.field, refused.value.code) == ("advanced", code)


@pytest.mark.parametrize(
    ("sched", "field", "code"),
    [
        (
            schedule(MONTHLY_1ST, start=date(2026, 5, 1), end=date(2026, 4, 1)),
            "end",
            "before-start",
        ),
        (Schedule("FREQ=MONTHLY;COUNT=2", date(2025, 1, 1), None, "next", 0), "rule", "no-future"),
        (schedule(MONTHLY_1ST, end=date(2026, 1, 31), start=date(2025, 1, 1)), "rule", "no-future"),
        (
            schedule(RuleChoice(rules.WEEKLY, weekday="MO"), lead=5),
            "lead_days",
            "longer-than-interval",
        ),
        (schedule(MONTHLY_1ST, lead=61), "lead_days", "range"),
        (schedule(MONTHLY_1ST, shift="sideways"), "shift", "unknown"),
    ],
)
def test_schedules_that_cannot_work_are_refused(sched, field, code):
    with pytest.raises(PlanError) as refused:
        rules.check_schedule(CHINA, sched, date(2026, 2, 1))
    assert (refused.value.field, refused.value.code) == (field, code)


def test_a_weekly_plan_with_three_days_lead_is_fine_but_not_four_across_a_holiday():
    weekly = RuleChoice(rules.WEEKLY, weekday="MO")
    preview = rules.check_schedule(CHINA, schedule(weekly, lead=3), date(2026, 3, 1))
    assert len(preview) == 12
    # Qingming moves Monday 04-06 to Tuesday 04-07, the day the next Monday's request would
    # open with four days' lead
    with pytest.raises(PlanError):
        rules.check_schedule(CHINA, schedule(weekly, lead=4), date(2026, 3, 1))


@pytest.mark.parametrize(
    ("text", "items", "code"),
    [
        (
            "- 检查磁盘空间\n- 检查备份日志\n\n3. 核对补丁",
            ["检查磁盘空间", "检查备份日志", "核对补丁"],
            None,
        ),
        ("", None, "missing"),
        ("检查日志\n- \n核对补丁", None, "empty-item"),
        ("x" * 501, None, "item-too-long"),
    ],
)
def test_checklist_lines(text, items, code):
    if code is None:
        assert rules.checklist_items(text) == items
        return
    with pytest.raises(PlanError) as refused:
        rules.checklist_items(text)
    assert refused.value.code == code


def test_the_opener_finds_an_occurrence_that_opens_before_its_rule_date():
    # the October occurrence (rule date 10-01) opens on 09-29 with a two-day lead time
    sched = schedule(MONTHLY_1ST, lead=2)
    found = rules.occurrences_to_open(CHINA, sched, date(2026, 9, 29), date(2026, 9, 29))
    assert [o.occurs_on for o in found] == [date(2026, 10, 1)]
    # a plan that takes effect on 09-30 still opens it (it is due after), not September's
    found = rules.occurrences_to_open(CHINA, sched, date(2026, 9, 30), date(2026, 9, 30))
    assert [o.occurs_on for o in found] == [date(2026, 10, 1)]
    # workers down from 09-28 to 11-05: both October and November are found
    found = rules.occurrences_to_open(CHINA, sched, date(2026, 9, 28), date(2026, 11, 5))
    assert [o.occurs_on for o in found] == [date(2026, 10, 1), date(2026, 11, 1)]


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(
        [rules.MONTHLY_DAY, rules.MONTHLY_WEEKDAY, rules.QUARTERLY_WEEKDAY, rules.WEEKLY]
    ),
    day=st.sampled_from([1, 5, 15, 28, -1]),
    weekday=st.sampled_from(rules.WEEKDAYS),
    shift=st.sampled_from([rules.SHIFT_NEXT, rules.SHIFT_PREVIOUS]),
    lead=st.integers(0, 3),
    start=st.dates(date(2025, 6, 1), date(2026, 12, 31)),
)
def test_every_moved_due_day_is_a_working_day_and_opening_comes_first(
    kind, day, weekday, shift, lead, start
):
    choice = RuleChoice(kind, interval=1, day=day, weekday=weekday)
    for occ in rules.occurrences(CHINA, schedule(choice, shift, lead, start=start), start, 6):
        assert CHINA.day(occ.due_on).working
        assert occ.open_on <= occ.due_on
        assert abs((occ.due_on - occ.occurs_on).days) <= 14
        if occ.moved:
            assert not CHINA.day(occ.occurs_on).working
        between = [occ.open_on + timedelta(days=i) for i in range((occ.due_on - occ.open_on).days)]
        assert sum(CHINA.day(d).working for d in between) == lead
