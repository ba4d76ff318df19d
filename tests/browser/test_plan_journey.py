"""A service plan in a real browser (issue 15): the supervisor creates a monthly plan with the
plain choices, the preview moves an occurrence off a holiday (National Day), and the request the
worker's opener registers for the occurrence due next is found in the queue."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from portal.domain import plans as rules
from portal.domain.calendar import BusinessCalendar


def _due_soon_with_lead() -> tuple[int, int, str]:
    """A day of the month about two weeks ahead and a lead time (working days) that makes its
    request open on a working day before today: it opens as soon as the plan is saved."""
    calendar = BusinessCalendar()  # the demo's default calendar: Shanghai, China
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
    target = today + timedelta(days=14)
    while target.day > 28:
        target += timedelta(days=1)
    due = rules.shift(calendar, target, rules.SHIFT_NEXT)
    lead = 1
    while rules.working_days_before(calendar, due, lead) >= today:
        lead += 1
    return target.day, lead, due.isoformat()


def test_a_plan_previews_national_day_and_opens_its_request_in_the_queue(visit, live_desk):
    day, lead, due = _due_soon_with_lead()
    title = f"月度巡检 {datetime.now(UTC):%H%M%S}"

    supervisor = visit("supervisor")
    supervisor.login("supervisor@desk.example.com", staff=True)
    page = supervisor.goto("/staff/admin/plans", "service plans")
    with page.expect_navigation():
        page.get_by_role("link", name="New plan").click()
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Service item").fill("系统巡检服务")
    contact = page.get_by_label("Customer contact")
    contact.select_option(label=contact.locator("option", has_text="李*").first.inner_text())
    page.get_by_label("Checklist").fill("检查服务器磁盘空间\n核对数据库备份日志")
    page.get_by_label("How often").select_option("monthly_day")
    page.get_by_label("Day of the month").select_option(str(day))
    page.get_by_label("Lead time (working days)").fill(str(lead))
    page.get_by_label("Default handler").select_option(label="张强")

    # the preview first: October's occurrence, if the rule has one on the 1st, or any moved
    # one, says where the calendar moved it and why
    with page.expect_navigation():
        page.get_by_role("button", name="Preview the dates").click()
    preview = page.locator("table[data-preview]")
    expect(preview.locator("tr")).to_have_count(13)
    supervisor.check("plan form with the preview")

    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
    supervisor.check("plan page")

    # a plan on the 1st shows National Day moving October's occurrence (any year: the official
    # schedule or the fallback calendar, both name it)
    page = supervisor.goto("/staff/admin/plans/new", "new plan")
    page.get_by_label("Title", exact=True).fill("国庆预览")
    page.get_by_label("Service item").fill("系统巡检服务")
    contact = page.get_by_label("Customer contact")
    contact.select_option(label=contact.locator("option", has_text="李*").first.inner_text())
    page.get_by_label("Checklist").fill("检查服务器磁盘空间")
    page.get_by_label("Day of the month").select_option("1")
    with page.expect_navigation():
        page.get_by_role("button", name="Preview the dates").click()
    moved = page.locator("table[data-preview] tr[data-moved]", has_text="10-01 → ")
    expect(moved).to_have_count(1)
    expect(moved).to_contain_text("National Day")
    supervisor.shot("plan-preview-national-day")

    # the worker's opener registers the request (within a few seconds here) for the dispatcher
    dispatcher = visit("dispatcher")
    dispatcher.login("dispatcher@desk.example.com", staff=True)
    queue = dispatcher.goto("/staff/queue?view=all", "queue")
    row = queue.locator("tr", has_text=f"{title} · {due}")
    deadline = time.monotonic() + 60  # the opener's slot (2 s) and a worker's pick-up
    while not row.count() and time.monotonic() < deadline:
        queue.reload()
    expect(row).to_have_count(1)
    dispatcher.check("queue with the plan's request")
    opened = live_desk.sql(
        "select count(*) from plan_occurrences o join service_plans p on p.id = o.plan_id"
        " where p.title = :title",
        title=title,
    )
    assert opened[0][0] == 1
