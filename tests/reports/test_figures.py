"""Every figure of the report over a seeded month, exactly (tests/reports/seed.py), on SQLite
and PostgreSQL; the statements a report costs do not grow with the requests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portal.services.reports import filters as report_filters
from portal.services.reports.page import report_page
from tests.reports.seed import NOW, TZ, seed


@pytest.fixture
def month(factory, db_session):
    return seed(factory, db_session)


def _page(db_session, viewer, **kw):
    f = report_filters.ReportFilters(start=date(2026, 9, 30), end=date(2026, 10, 31), **kw)
    return report_page(db_session, viewer, report_filters.scoped(f, viewer), TZ, NOW)


@pytest.fixture
def supervisor(factory):
    return factory.staff("supervisor", name="赵主管")


def test_the_lifecycle_stores_the_working_time_each_target_took(month):
    e = month["e"]
    # 8 working hours were due on Thu 8 Oct 17:00 (the holiday not counted): answered 2 late
    assert e.response_seconds == 10 * 3600
    # 3 working days (24 working hours, Saturday 10 Oct a make-up day) less the hour paused
    assert e.resolution_seconds == 23 * 3600


def test_sla_compliance_response_and_resolution_separately(db_session, month, supervisor):
    page = _page(db_session, supervisor)
    assert page.total.requests == 5
    assert (page.total.response_met, page.total.response_missed) == (2, 3)
    assert page.total.response_rate == Decimal("40.0")
    assert (page.total.resolution_met, page.total.resolution_missed) == (3, 1)
    assert page.total.resolution_rate == Decimal("75.0")
    by_priority = {r.key: r for r in page.compliance["priority"]}
    assert (by_priority["P1"].response_rate, by_priority["P1"].resolution_rate) == (
        Decimal("50.0"),
        Decimal("50.0"),
    )
    assert (by_priority["P3"].response_rate, by_priority["P3"].resolution_rate) == (
        Decimal("0.0"),
        Decimal("100.0"),
    )
    by_org = {r.label: r for r in page.compliance["organisation"]}
    assert (by_org["华东制造"].response_met, by_org["华东制造"].response_missed) == (1, 2)
    assert (by_org["华南物流"].resolution_met, by_org["华南物流"].resolution_missed) == (1, 0)
    by_engineer = {r.label: r for r in page.compliance["engineer"]}
    assert by_engineer["张强"].requests == 2 and by_engineer["陈静"].requests == 2
    by_type = {r.key: r for r in page.compliance["type"]}
    assert by_type["consultation"].response_rate == Decimal("100.0")
    assert page.breaches == {1: 1, 2: 1}


def test_medians_and_p90_in_working_time_where_the_clock_is_a_business_clock(
    db_session, month, supervisor
):
    page = _page(db_session, supervisor)
    total = page.times[-1]
    # response: 1 h, 1 h, 3 h (24×7) and 10 working hours (E)
    assert total.response.count == 4
    assert total.response.median == 7200
    assert total.response.p90 == pytest.approx(28440)
    # resolution: 3 h, 6 h, 11 h and 23 working hours
    assert total.resolution.median == 30600
    assert total.resolution.p90 == pytest.approx(69840)
    by_priority = {row.key: row for row in page.times if row.by}
    assert by_priority["P1"].response.median == 7200  # 1 h and 3 h
    assert by_priority["P3"].resolution.median == 23 * 3600


def test_hours_by_engineer_type_and_organisation(db_session, month, supervisor):
    page = _page(db_session, supervisor)
    assert {r.label: r.hours for r in page.hours["engineer"]} == {
        "张强": Decimal("6.50"),
        "陈静": Decimal("2.50"),
    }
    assert {r.key: r.hours for r in page.hours["type"]} == {
        "fault": Decimal("7.50"),
        "consultation": Decimal("1.50"),
    }
    assert {r.label: r.hours for r in page.hours["organisation"]} == {
        "华东制造": Decimal("7.50"),
        "华南物流": Decimal("1.50"),
    }
    assert page.hours_total == Decimal("9.00")


def test_rework_rate_is_failed_acceptances_per_delivery(db_session, month, supervisor):
    page = _page(db_session, supervisor)
    # A, B twice (failed, then passed), C, and E accepted through the lifecycle
    assert (page.deliveries, page.failed, page.rework_ratio) == (5, 1, Decimal("0.20"))


def test_satisfaction_per_dimension_mean_response_rate_and_distribution(
    db_session, month, supervisor
):
    sat = _page(db_session, supervisor).satisfaction
    assert sat.means == {
        "response": Decimal("4.0"),
        "effect": Decimal("4.0"),
        "attitude": Decimal("3.5"),
    }
    assert sat.mean == Decimal("3.8")
    assert (sat.invited, sat.rated, sat.response_rate) == (4, 2, Decimal("50.0"))
    assert sat.distribution["attitude"] == {1: 0, 2: 1, 3: 0, 4: 0, 5: 1}
    assert sat.distribution["effect"][4] == 2


def test_the_templates_five_four_five_is_four_point_seven(db_session, month, supervisor):
    f = report_filters.ReportFilters(start=date(2026, 10, 12), end=date(2026, 10, 12))
    sat = report_page(db_session, supervisor, f, TZ, NOW).satisfaction
    assert sat.means == {
        "response": Decimal("5.0"),
        "effect": Decimal("4.0"),
        "attitude": Decimal("5.0"),
    }
    assert sat.mean == Decimal("4.7")


def test_filters_narrow_every_figure(db_session, month, supervisor):
    page = _page(db_session, supervisor, organisation="华南", priority="P2")
    assert page.total.requests == 1
    assert page.hours_total == Decimal("1.50")
    assert page.satisfaction.invited == 1 and page.satisfaction.rated == 0
    page = _page(db_session, supervisor, engineer_id=month["e1"].id, type="fault")
    assert page.total.requests == 2 and page.deliveries == 3


def test_an_engineer_sees_only_their_own_figures(db_session, month):
    page = _page(db_session, month["e1"], engineer_id=month["e2"].id)
    assert page.own_figures
    assert page.filters.engineer_id == month["e1"].id
    assert page.total.requests == 2
    # their own hours only, not a collaborator's on their requests
    assert {r.label: r.hours for r in page.hours["engineer"]} == {"张强": Decimal("6.50")}


def test_the_trend_gives_each_of_the_last_twelve_months(db_session, month, supervisor):
    from portal.services.reports.trend import trend as trend_of

    f = report_filters.ReportFilters(start=date(2026, 9, 30), end=date(2026, 10, 31))
    trend = trend_of(db_session, f, TZ, NOW)
    assert [m.month.key() for m in trend][:1] == ["2025-11"] and trend[-1].month.key() == "2026-10"
    october, september = trend[-1], trend[-2]
    assert october.requests == 4 and september.requests == 1
    assert october.response_rate == Decimal("50.0")
    assert october.resolution_rate == Decimal("66.7")
    assert september.response_median == 10 * 3600
    assert october.hours == Decimal("9.00")
    assert october.rework_ratio == Decimal("0.25")
    assert october.satisfaction == Decimal("3.8")
    assert october.feedback_rate == Decimal("66.7")
    assert trend[0].requests == 0 and trend[0].response_rate is None


def test_the_statements_a_report_costs_do_not_grow_with_the_requests(
    db_session, factory, month, supervisor, count_queries
):
    with count_queries() as first:
        _page(db_session, supervisor)
    for _ in range(6):
        sr = factory.request(month["li"], urgency="P1", now=month["a"].submitted_at)
        sr.handler_id = month["e1"].id
    db_session.flush()
    with count_queries() as second:
        page = _page(db_session, supervisor)
    assert page.total.requests == 11
    assert len(second) == len(first) <= 30


def test_the_hours_kept_on_each_request_equal_a_recomputation_from_its_steps(
    db_session, month, factory
):
    from portal.services.workflow.hours import recomputed

    for key in ("a", "b", "c", "d", "e"):
        sr = month[key]
        db_session.refresh(sr)
        assert sr.hours_logged == recomputed(db_session, sr.id), key
    assert month["b"].hours_logged == Decimal("5.00")


def test_a_step_logged_through_the_service_adds_its_hours(db_session, factory, month):
    from datetime import timedelta

    from portal.services.audit import Actor
    from portal.services.workflow import handling
    from portal.services.workflow.hours import recomputed

    sr = month["d"]
    engineer = month["e2"]
    handling.log_step(
        db_session,
        Actor(engineer.id),
        engineer,
        sr,
        handling.StepInput(
            occurred_at=sr.submitted_at + timedelta(hours=2),
            operation="排查数据库连接池配置,调整最大连接数为 200",
            hours=Decimal("1.25"),
        ),
        sr.submitted_at + timedelta(hours=3),
        TZ,
    )
    db_session.flush()
    db_session.refresh(sr)
    assert sr.hours_logged == Decimal("1.25") == recomputed(db_session, sr.id)
