"""The README's pictures, taken from the demo data: the customer portal, the staff queue, a request
page, the acceptance form and the dispatcher board. Each page is axe-checked like any other visit,
and each picture must show what it is named after. `UPDATE_SCREENSHOTS=1` writes them to
docs/screenshots/ (commit them); every run keeps them in build/browser/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect


def _demo_request(live_desk, status: str, *, with_handler: bool = False) -> tuple[str, str]:
    rows = live_desk.sql(
        "SELECT r.number, a.email FROM service_requests r JOIN accounts a ON a.id = r.contact_id "
        "WHERE r.status = :status "
        + ("AND r.handler_id IS NOT NULL " if with_handler else "")
        + "ORDER BY r.submitted_at DESC LIMIT 1",
        status=status,
    )
    assert rows, f"the demo data has no {status} request"
    return rows[0][0], rows[0][1]


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_customer_portal_and_acceptance_form(visit, live_desk, locale):
    number, email = _demo_request(live_desk, "pending_acceptance")
    suffix = "" if locale == "en-US" else "-zh"
    customer = visit("customer", locale=locale)
    customer.login(email)
    page = customer.page
    heading = "My requests" if locale == "en-US" else "我的请求"
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    expect(page.locator("table")).to_contain_text(number)
    customer.shot(f"customer-portal{suffix}", readme=True)

    customer.goto(f"/requests/{number}", "acceptance form")
    panel = page.locator("#panel-acceptance")
    expect(panel.locator("canvas")).to_be_visible()  # the signature pad is drawn
    expect(panel.get_by_role("heading", level=2)).to_contain_text(
        "Review the delivery" if locale == "en-US" else "验收"
    )
    customer.shot(f"acceptance-form{suffix}", readme=not suffix, element=panel)


def test_staff_queue_request_page_and_board(visit, live_desk):
    staff = visit("supervisor")
    staff.login("supervisor@desk.example.com", staff=True)
    page = staff.page
    staff.goto("/staff/queue", "queue")
    expect(page.locator("table tbody tr").first).to_be_visible()
    staff.shot("staff-queue", readme=True)

    number, _email = _demo_request(live_desk, "in_progress", with_handler=True)
    staff.goto(f"/staff/requests/{number}", "request page")
    expect(page.locator(".request-number")).to_contain_text(number)
    staff.shot("request-page", readme=True)

    dispatcher = visit("dispatcher")
    dispatcher.login("dispatcher@desk.example.com", staff=True)
    dispatcher.goto("/staff/board", "dispatcher board")
    expect(dispatcher.page.locator("#board-body")).to_be_visible()
    dispatcher.shot("dispatcher-board", readme=True)
