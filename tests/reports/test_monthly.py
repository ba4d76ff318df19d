"""The monthly feedback analysis report (FA-YYYYMM): its figures over the seeded October,
frozen and sealed at generation, made once however often and however concurrently asked."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.domain.report_stats import Month, first_working_day, report_due
from portal.models import AuditEvent, CooperationRequest, FeedbackReport, ImprovementMeasure
from portal.services import calendars
from portal.services.audit import SYSTEM
from portal.services.reports import monthly
from tests.reports.seed import NOW, TZ, at, seed

OCTOBER = Month(2026, 10)


@pytest.fixture
def month(factory, db_session):
    data = seed(factory, db_session)
    db_session.add(
        CooperationRequest(
            request_id=data["d"].id,
            asked_by_id=data["e2"].id,
            what="请提供测试环境账号,联系 13812345678",
            asked_at=at(2026, 10, 30, 10),
            answered_at=at(2026, 11, 2, 10),
        )
    )
    db_session.add(
        CooperationRequest(
            request_id=data["c"].id,
            asked_by_id=data["e2"].id,
            what="请确认报表口径",
            asked_at=at(2026, 10, 14, 10),
            answered_at=at(2026, 10, 14, 12),
        )
    )
    db_session.flush()
    return data


def test_the_report_is_due_on_the_first_working_day_of_the_next_month(db_session):
    calendar = calendars.for_organisation(db_session, None)
    # 1 Nov 2026 is a Sunday; 1 Oct 2026 is the National Day holiday, until the 8th
    assert first_working_day(calendar, Month(2026, 11)) == date(2026, 11, 2)
    assert first_working_day(calendar, Month(2026, 10)) == date(2026, 10, 8)
    assert report_due(calendar, date(2026, 11, 1)) == Month(2026, 9)
    assert report_due(calendar, date(2026, 11, 2)) == Month(2026, 10)


def test_the_figures_of_the_month(db_session, month):
    fig = monthly.compute(db_session, date(2026, 10, 1), date(2026, 10, 31), TZ, NOW)
    assert fig["requests"] == 4
    assert fig["sla"]["response_rate"] == "50.0"
    assert fig["sla"]["resolution_rate"] == "66.7"
    assert (fig["deliveries"], fig["failed"], fig["rework_ratio"]) == (4, 1, "0.25")
    sat = fig["satisfaction"]
    assert sat["means"] == {"response": "4.0", "effect": "4.0", "attitude": "3.5"}
    assert sat["mean"] == "3.8"
    # September had no rating: no change to show
    assert sat["change"]["mean"] is None
    assert fig["problems"]["lowest_dimension"] == "attitude"
    # the lowest-scored request first, with what its customer wrote
    assert fig["lowest"][0]["number"] == month["b"].number
    assert fig["lowest"][0]["suggestions"] == "响应太慢,希望增加故障预警"
    assert fig["problems"]["most_requests"][0] == {"type": "fault", "category": None, "count": 3}
    assert fig["problems"]["most_rework"] == [{"type": "fault", "category": None, "failed": 1}]
    assert fig["problems"]["slowest"][0]["type"] == "consultation"  # 11 h
    terms = dict(fig["problems"]["terms"])
    assert terms["预警"] == 2 and terms["故障"] == 2
    comm = fig["communication"]
    assert (comm["low_timeliness"], comm["low_attitude"]) == (0, 1)
    waits = comm["longest_waits"]
    assert [w["number"] for w in waits] == [month["d"].number, month["c"].number]
    assert waits[0]["hours"] == "72.0" and waits[1]["hours"] == "2.0"
    # what a customer or engineer wrote is kept with personal data redacted
    assert "13812345678" not in waits[0]["what"] and "5678" in waits[0]["what"]


def test_measures_new_done_and_overdue_with_owners_and_deadlines(db_session, month):
    from portal.models import Feedback

    fb = db_session.scalar(select(Feedback).where(Feedback.request_id == month["b"].id))
    db_session.add_all(
        [
            ImprovementMeasure(
                feedback_id=fb.id,
                measure="上线故障预警短信",
                owner_id=month["e1"].id,
                deadline=date(2026, 10, 31),
                status="open",
                created_at=at(2026, 10, 20, 10),
            ),
            ImprovementMeasure(
                feedback_id=fb.id,
                measure="优化 P1 响应排班",
                owner_id=month["e2"].id,
                deadline=date(2026, 10, 25),
                status="done",
                done_at=at(2026, 10, 24, 10),
                created_at=at(2026, 10, 20, 11),
            ),
        ]
    )
    db_session.flush()
    fig = monthly.compute(db_session, date(2026, 10, 1), date(2026, 10, 31), TZ, NOW)
    measures = fig["measures"]
    assert [m["measure"] for m in measures["new"]] == ["上线故障预警短信", "优化 P1 响应排班"]
    assert [m["owner"] for m in measures["done"]] == ["陈静"]
    assert measures["open"] == [
        {
            "measure": "上线故障预警短信",
            "owner": "张强",
            "deadline": "2026-10-31",
            "status": "open",
            "overdue": True,
        }
    ]


def test_generated_once_frozen_numbered_and_sealed(db_session, month, factory):
    report, made = monthly.generate(db_session, SYSTEM, OCTOBER, TZ, NOW)
    assert made and report.number == "FA-202610" and monthly.sealed(report)
    frozen = dict(report.figures)
    # a later rating does not change the generated report
    factory.request(month["li"], urgency="P1", now=at(2026, 10, 20, 9))
    again, made_again = monthly.generate(db_session, SYSTEM, OCTOBER, TZ, NOW)
    assert again.id == report.id and not made_again
    assert again.figures == frozen
    count = db_session.scalar(select(func.count()).select_from(FeedbackReport))
    assert count == 1
    audited = db_session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "feedback_report.generated")
    )
    assert audited == 1


def test_a_changed_figure_breaks_the_seal(db_session, month):
    report, _ = monthly.generate(db_session, SYSTEM, OCTOBER, TZ, NOW)
    report.figures = {**report.figures, "requests": 99}
    assert not monthly.sealed(report)
