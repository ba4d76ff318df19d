"""The staff plan pages: list, new, the plan's page with the preview and the occurrences, edit,
pause and resume; bad input answered 422 in the reader's language with what was typed kept; the
board's "due this week"; the customer's plans. Page builders in a fixed number of queries."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from portal.domain import plans as rules
from portal.models import PlanOccurrence, ServicePlan
from portal.services import plan_opener, plan_pages
from tests.plans.helpers import CHECKLIST, make_plan

CST = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=CST).astimezone(UTC)


@pytest.fixture
def people(factory):
    org = factory.organisation(name="华东制造")
    return {
        "org": org,
        "contact": factory.customer(org, name="李明"),
        "colleague": factory.customer(org, name="王芳"),
        "supervisor": factory.staff("supervisor", name="赵静"),
        "admin": factory.staff("admin"),
        "handler": factory.staff("engineer", name="张伟"),
        "dispatcher": factory.staff("dispatcher"),
    }


def _form(people, **kw) -> dict:
    data = {
        "title": "月度系统巡检",
        "service_item": "系统巡检服务",
        "contact_id": str(people["contact"].id),
        "checklist": CHECKLIST,
        "handler_id": str(people["handler"].id),
        "department_id": "",
        "kind": "monthly_day",
        "interval": "1",
        "day": "1",
        "ordinal": "1",
        "weekday": "MO",
        "advanced": "",
        "shift": "next",
        "lead_days": "0",
        "priority": "P3",
        "sla_policy_id": "",
        "starts_on": "2026-09-01",
        "ends_on": "",
    }
    data.update(kw)
    return data


@freeze_time("2026-09-10 02:00:00")
def test_a_supervisor_creates_a_plan_and_sees_october_move_off_national_day(
    client, people, db_session
):
    client.login(people["supervisor"])
    form = client.get("/staff/admin/plans/new").get_data(as_text=True)
    # the contacts to choose from are masked, name and e-mail
    assert "李*" in form and "李明" not in form and people["contact"].email not in form
    resp = client.post("/staff/admin/plans", data=_form(people))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    plan = db_session.scalar(select(ServicePlan).where(ServicePlan.title == "月度系统巡检"))
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "10-01 → 10-08: National Day" in page
    assert "Monthly on day 1" in page
    assert "李*" in page and "李明" not in page  # the contact masked
    assert (
        client.get("/staff/admin/plans").get_data(as_text=True).count(f'data-plan="{plan.id}"') == 1
    )


@freeze_time("2026-09-10 02:00:00")
def test_preview_shows_the_dates_without_saving(client, people, db_session):
    client.login(people["supervisor"])
    resp = client.post("/staff/admin/plans", data=_form(people, preview="1"))
    assert resp.status_code == 200
    assert "10-01 → 10-08: National Day" in resp.get_data(as_text=True)
    assert db_session.scalar(select(ServicePlan.id)) is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ends_on": "2026-08-01"}, "The plan cannot end before it starts."),
        ({"checklist": "检查日志\n- \n核对补丁"}, "An item of the checklist is empty"),
        ({"kind": "weekly", "lead_days": "5"}, "The lead time is as long as the interval"),
        (
            {"kind": "advanced", "advanced": "FREQ=MONTHLY;COUNT=1"},
            "This rule has no occurrence from today on.",
        ),
        (
            {"kind": "advanced", "advanced": "FREQ=MINUTELY"},
            "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY.",
        ),
        ({"title": ""}, "Give the plan a title."),
    ],
)
@freeze_time("2026-09-10 02:00:00")
def test_bad_input_answers_422_at_its_field_keeping_what_was_typed(
    client, people, db_session, changes, message
):
    client.login(people["supervisor"])
    resp = client.post("/staff/admin/plans", data=_form(people, **changes))
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert message in text
    assert "系统巡检服务" in text  # kept
    assert db_session.scalar(select(ServicePlan.id)) is None


@freeze_time("2026-09-10 02:00:00")
def test_bad_input_is_worded_in_chinese_for_a_chinese_reader(client, people, factory):
    staff = factory.staff("supervisor", locale="zh_CN")
    client.login(staff)
    resp = client.post("/staff/admin/plans", data=_form(people, ends_on="2026-08-01"))
    assert resp.status_code == 422
    assert "结束日期不能早于开始日期" in resp.get_data(as_text=True)


def test_the_plan_page_lists_occurrences_with_status_and_links(
    client, people, db_session, app, count_queries
):
    plan = make_plan(
        db_session,
        people["supervisor"],
        people["contact"],
        at(2026, 9, 20, 10),
        handler_id=people["handler"].id,
    )
    db_session.commit()
    tz = app.config["PORTAL_TIMEZONE"]
    plan_opener.open_due(db_session, at(2026, 10, 8, 10), tz)
    plan_opener.open_due(db_session, at(2026, 11, 2, 10), tz)
    number = db_session.scalar(select(PlanOccurrence.request_id))
    with freeze_time("2026-11-05 02:00:00"):
        page = plan_pages.plan_page(db_session, plan, at(2026, 11, 5, 10))
        statuses = [o.status for o in page.occurrences]
        assert statuses == ["missed", "missed"]  # nothing delivered, both due days over
        client.login(people["supervisor"])
        html = client.get(f"/staff/admin/plans/{plan.id}").get_data(as_text=True)
    assert html.count('data-status="missed"') == 2
    assert re.search(r'href="/staff/requests/SR-20261008-\d+"', html)
    assert number is not None
    # constant in the number of occurrences
    plan_opener.open_due(db_session, at(2026, 12, 1, 10), tz)
    db_session.expire_all()
    with count_queries() as few:
        plan_pages.plan_page(db_session, db_session.get(ServicePlan, plan.id), at(2026, 12, 5, 10))
    plan_opener.open_due(db_session, at(2027, 2, 1, 10), tz)
    db_session.expire_all()
    with count_queries() as more:
        plan_pages.plan_page(db_session, db_session.get(ServicePlan, plan.id), at(2027, 2, 5, 10))
    assert len(more) == len(few), "\n".join(q[:80] for q in more)


@freeze_time("2026-10-06 02:00:00")
def test_pause_and_resume_from_the_page(client, people, db_session):
    plan = make_plan(db_session, people["supervisor"], people["contact"], at(2026, 9, 20, 10))
    db_session.commit()
    client.login(people["supervisor"])
    assert client.post(f"/staff/admin/plans/{plan.id}/pause").status_code == 302
    db_session.expire_all()
    assert db_session.get(ServicePlan, plan.id).paused_at is not None
    assert "Resume" in client.get(f"/staff/admin/plans/{plan.id}").get_data(as_text=True)
    # a control character in what is sent: refused at the edge, the plan stays paused
    refused = client.post(f"/staff/admin/plans/{plan.id}/resume", data={"x": "a\x00b"})
    assert refused.status_code in (400, 422)
    db_session.expire_all()
    assert db_session.get(ServicePlan, plan.id).paused_at is not None
    assert client.post(f"/staff/admin/plans/{plan.id}/resume").status_code == 302
    db_session.expire_all()
    assert db_session.get(ServicePlan, plan.id).paused_at is None


@freeze_time("2026-10-06 02:00:00")
def test_editing_says_opened_requests_stay(client, people, db_session):
    plan = make_plan(db_session, people["supervisor"], people["contact"], at(2026, 9, 20, 10))
    db_session.commit()
    client.login(people["supervisor"])
    html = client.get(f"/staff/admin/plans/{plan.id}/edit").get_data(as_text=True)
    assert "Requests already opened stay as they are." in html
    assert 'value="月度系统巡检"' in html
    resp = client.post(f"/staff/admin/plans/{plan.id}", data=_form(people, title="月度巡检"))
    assert resp.status_code == 302
    db_session.expire_all()
    assert db_session.get(ServicePlan, plan.id).title == "月度巡检"


def test_engineers_and_customers_cannot_reach_the_plan_pages(client, people, make_client):
    client.login(people["handler"])
    assert client.get("/staff/admin/plans").status_code == 403
    other = make_client()
    other.login(people["contact"])
    assert other.get("/staff/admin/plans").status_code in (302, 403)


def test_the_board_shows_the_occurrences_due_this_week(client, people, db_session, app):
    make_plan(
        db_session,
        people["supervisor"],
        people["contact"],
        at(2026, 9, 20, 10),
        handler_id=people["handler"].id,
    )
    make_plan(
        db_session,
        people["supervisor"],
        people["contact"],
        at(2026, 9, 20, 10),
        title="季度优化",
        rule=rules.RuleChoice(rules.QUARTERLY_WEEKDAY, weekday="MO"),
    )
    db_session.commit()
    plan_opener.open_due(db_session, at(2026, 10, 8, 10), app.config["PORTAL_TIMEZONE"])
    with freeze_time("2026-10-08 03:00:00"):
        rows = plan_pages.due_this_week(
            db_session, at(2026, 10, 8, 11), app.config["PORTAL_TIMEZONE"]
        )
        assert [(r.plan_title, r.due_on, r.status) for r in rows] == [
            ("季度优化", date(2026, 10, 8), "open"),
            ("月度系统巡检", date(2026, 10, 8), "open"),
        ]
        client.login(people["dispatcher"])
        html = client.get("/staff/board").get_data(as_text=True)
    assert "季度优化" in html and "月度系统巡检" in html


def test_the_customer_sees_their_organisations_plans_and_upcoming_dates(
    make_client, people, db_session, app
):
    plan = make_plan(db_session, people["supervisor"], people["contact"], at(2026, 9, 20, 10))
    db_session.commit()
    plan_opener.open_due(db_session, at(2026, 10, 8, 10), app.config["PORTAL_TIMEZONE"])
    with freeze_time("2026-10-09 02:00:00"):
        contact = make_client()
        contact.login(people["contact"])
        html = contact.get("/plans").get_data(as_text=True)
        assert "月度系统巡检" in html
        assert "2026-11-02" in html  # the next due day (11-01 is a Sunday)
        assert re.search(r'href="/requests/SR-20261008-\d+"', html)
        colleague = make_client()
        colleague.login(people["colleague"])
        # a colleague of an organisation whose colleagues do not see each other's requests
        assert "月度系统巡检" not in colleague.get("/plans").get_data(as_text=True)
    assert plan.id


def test_the_handler_delivers_with_the_plans_checklist_as_the_acceptance_criteria(
    client, people, db_session, app
):
    plan = make_plan(
        db_session,
        people["supervisor"],
        people["contact"],
        at(2026, 9, 20, 10),
        handler_id=people["handler"].id,
    )
    db_session.commit()
    plan_opener.open_due(db_session, at(2026, 10, 8, 10), app.config["PORTAL_TIMEZONE"])
    occ = db_session.scalar(select(PlanOccurrence).where(PlanOccurrence.plan_id == plan.id))
    from portal.models import ServiceRequest

    sr = db_session.get(ServiceRequest, occ.request_id)
    client.login(people["handler"])
    html = client.get(f"/staff/requests/{sr.number}").get_data(as_text=True)
    criteria = re.search(r'<textarea[^>]*name="deliver-criteria"[^>]*>(.*?)</textarea>', html, re.S)
    assert criteria is not None
    assert [
        line.strip() for line in criteria.group(1).strip().splitlines()
    ] == CHECKLIST.splitlines()
    assert 'value="系统巡检服务"' in html


def test_the_list_the_board_part_and_the_customer_page_run_a_fixed_number_of_queries(
    db_session, people, app, count_queries
):
    tz = app.config["PORTAL_TIMEZONE"]
    now = at(2026, 10, 8, 11)

    def counts() -> tuple[int, int, int]:
        db_session.expire_all()
        with count_queries() as listing:
            plan_pages.plan_list(db_session, now)
        with count_queries() as week:
            plan_pages.due_this_week(db_session, now, tz)
        with count_queries() as mine:
            plan_pages.customer_plans(db_session, people["contact"], now)
        return len(listing), len(week), len(mine)

    make_plan(db_session, people["supervisor"], people["contact"], at(2026, 9, 20, 10))
    db_session.commit()
    plan_opener.open_due(db_session, now, tz)
    few = counts()
    for i in range(5):
        make_plan(
            db_session,
            people["supervisor"],
            people["contact"],
            at(2026, 9, 20, 10),
            title=f"巡检 {i}",
            handler_id=people["handler"].id,
        )
    db_session.commit()
    plan_opener.open_due(db_session, now, tz)
    assert counts() == few
