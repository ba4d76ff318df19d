"""A finished request (completed, closed, cancelled) says whether each SLA target was met and by
how much (working time on the business calendar), on the staff and the customer request pages,
in English and Chinese; it never shows a running clock or a countdown."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.services import lifecycle as lifecycle_service
from portal.services.audit import SYSTEM


def at(*args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


def _apply(session, sr, action, now, *caps):
    lifecycle_service.apply(session, SYSTEM, set(caps), sr, action, now)


def _part(html: str, pattern: str) -> str:
    m = re.search(pattern, html, re.S)
    assert m, pattern
    return re.sub(r"\s+", " ", m.group(0))


def staff_page(client, number):
    html = client.get(f"/staff/requests/{number}").get_data(as_text=True)
    header = _part(html, r'<header class="request-header".*?</header>')
    panel = _part(html, r'<section[^>]*id="panel-sla".*?</section>')
    return header, panel


def customer_page(client, number):
    html = client.get(f"/requests/{number}").get_data(as_text=True)
    header = _part(html, r'<header class="request-head card">.*?</header>')
    panel = _part(html, r'<section[^>]*id="panel-due-times".*?</section>')
    return header, panel


@pytest.fixture
def p3_closed(factory, db_session):
    """P3 from Wed 30 Sep 17:00: answered late, delivered an hour of working time early."""
    org = factory.organisation()
    alice = factory.customer(org, locale="en")
    sr = factory.request(alice, urgency="P3", now=at(2026, 9, 30, 17))
    sr.status, sr.priority = "in_progress", "P3"
    # the first response comes after the 8 working hours: 2 working hours late
    _apply(db_session, sr, "ask_customer", at(2026, 10, 9, 10), "handler")
    # one hour paused: the resolution due moves from Sat 10 Oct 17:00 to 18:00
    _apply(db_session, sr, "answer_customer", at(2026, 10, 9, 11), "customer")
    _apply(db_session, sr, "deliver", at(2026, 10, 10, 17), "handler")
    sr.delivered_at = at(2026, 10, 10, 17)  # as portal.services.delivery records it
    _apply(db_session, sr, "accept_pass", at(2026, 10, 12, 9), "customer")
    sr.completed_at = at(2026, 10, 12, 9)
    _apply(db_session, sr, "give_feedback", at(2026, 10, 12, 10), "customer")
    sr.closed_at = at(2026, 10, 12, 10)
    db_session.flush()
    assert sr.status == "closed"
    assert sr.response_due_at == at(2026, 10, 8, 17)
    assert sr.resolution_due_at == at(2026, 10, 10, 18)
    return {"sr": sr, "org": org, "alice": alice}


def test_a_closed_request_says_met_or_missed_in_english(make_client, factory, p3_closed):
    sr = p3_closed["sr"]
    staff = make_client()
    staff.login(factory.staff("supervisor", locale="en"))
    header, panel = staff_page(staff, sr.number)
    assert "Running" not in header and "left" not in header and "Overdue" not in header
    assert "Stopped: the request is finished" in header
    assert "Missed by 2 h 00 min of working time" in header  # the response
    assert "Met — 1 h 00 min of working time before due" in header  # the resolution
    assert re.search(r'sla-outcome-response">.*?Missed by 2 h 00 min of working time', panel)
    assert re.search(
        r'sla-outcome-resolution">.*?Met — 1 h 00 min of working time before due', panel
    )

    customer = make_client()
    customer.login(p3_closed["alice"])
    header, panel = customer_page(customer, sr.number)
    assert "Met — 1 h 00 min of working time before due" in header
    assert re.search(r'due-response">.*?Answered .*?Missed by 2 h 00 min of working time', panel)
    assert re.search(r'due-resolution">.*?Met — 1 h 00 min of working time before due', panel)
    assert "overdue" not in panel and "Paused" not in panel


def test_a_closed_request_says_met_or_missed_in_chinese(make_client, factory, p3_closed):
    sr = p3_closed["sr"]
    staff = make_client()
    staff.login(factory.staff("supervisor", locale="zh_CN"))
    header, panel = staff_page(staff, sr.number)
    assert "计时中" not in header
    assert "已停止:请求已结束" in header
    assert "未达成 — 超时 2 小时 00 分(工作时间)" in header  # the response
    assert "已达成 — 比截止时间提前 1 小时 00 分(工作时间)" in header  # the resolution
    assert "已达成 — 比截止时间提前 1 小时 00 分(工作时间)" in panel
    assert "未达成 — 超时 2 小时 00 分(工作时间)" in panel

    li = factory.customer(p3_closed["org"], locale="zh_CN", admin=True)  # sees the colleague's
    customer = make_client()
    customer.login(li)
    header, panel = customer_page(customer, sr.number)
    assert "已达成 — 比截止时间提前 1 小时 00 分(工作时间)" in header
    assert "未达成 — 超时 2 小时 00 分(工作时间)" in panel
    assert "已达成 — 比截止时间提前 1 小时 00 分(工作时间)" in panel


def test_a_24x7_request_met_in_plain_hours_and_a_cancelled_one_says_so(
    make_client, factory, db_session
):
    org = factory.organisation()
    alice = factory.customer(org, locale="en")
    t0 = at(2026, 11, 2, 10)
    sr = factory.request(alice, urgency="P2", now=t0)  # 4 h to respond, 24 h to resolve
    sr.status, sr.priority = "in_progress", "P2"
    _apply(db_session, sr, "reply_public", t0 + timedelta(hours=1, minutes=50), "handler")
    _apply(db_session, sr, "deliver", t0 + timedelta(hours=20), "handler")
    sr.delivered_at = t0 + timedelta(hours=20)
    _apply(db_session, sr, "accept_pass", t0 + timedelta(hours=30), "customer")
    sr.completed_at = t0 + timedelta(hours=30)
    gone = factory.request(alice, urgency="P2", now=t0)
    _apply(db_session, gone, "cancel", t0 + timedelta(minutes=20), "customer")
    gone.cancelled_at = t0 + timedelta(minutes=20)
    db_session.flush()

    staff = make_client()
    staff.login(factory.staff("supervisor", locale="en"))
    header, panel = staff_page(staff, sr.number)
    assert "Running" not in header
    assert "Met — 2 h 10 min before due" in header  # the response, 24×7: no "working time"
    assert "Met — 4 h 00 min before due" in header  # delivered 4 h before the 24 h
    header, panel = staff_page(staff, gone.number)
    assert "Running" not in header and "left" not in header
    assert header.count("Not reached: the request ended before it was due") == 2

    customer = make_client()
    customer.login(alice)
    header, panel = customer_page(customer, sr.number)
    assert "Met — 4 h 00 min before due" in header
    assert "Met — 2 h 10 min before due" in panel
