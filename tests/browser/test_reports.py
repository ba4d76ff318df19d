"""The reports in a real browser, in both languages: the report page with its SVG charts and
tables, one drill-down to the requests behind a number, and the monthly report preview; axe
finds no serious violation on any of them (tests/browser/conftest.py checks every page)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_report_page_drill_down_and_monthly_preview(visit, live_desk, locale):
    english = locale == "en-US"
    supervisor = visit("supervisor", locale=locale)
    supervisor.login("supervisor@desk.example.com", staff=True)
    page = supervisor.page
    today = date.today()
    period = f"from={(today - timedelta(days=365)).isoformat()}&to={today.isoformat()}"
    supervisor.goto(f"/staff/reports?{period}", "reports")
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Reports" if english else "统计报表"
    )
    charts = page.locator("figure.chart svg[role=img]")
    expect(charts.first).to_be_visible()
    assert charts.count() == 3
    assert page.locator("script[src*='pygal']").count() == 0
    expect(page.locator("#h-sla")).to_contain_text("SLA compliance" if english else "SLA 达成情况")
    suffix = "" if english else "-zh"
    supervisor.shot(f"reports{suffix}", full_page=True)

    # one number opens the list of the requests behind it
    link = page.locator("dl.report-totals a.drill").first
    with page.expect_navigation():
        link.click()
    supervisor.check("drill-down")
    expect(page.locator("table.queue-table tbody tr").first).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Requests behind a report figure" if english else "报表数字对应的请求"
    )

    month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    supervisor.goto(f"/staff/reports/monthly/preview?month={month}", "monthly preview")
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Customer feedback analysis report" if english else "客户反馈分析报告"
    )
