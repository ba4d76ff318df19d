"""What people see of the SLA clock: the customer's due times, the staff SLA panel with its
explanation, and the new-request page's notice when the desk is closed."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from freezegun import freeze_time

from portal.services import lifecycle as lifecycle_service
from portal.services.audit import SYSTEM

SH = "Asia/Shanghai"


def at(*args) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo(SH)).astimezone(UTC)


def _panel(html: str, panel_id: str) -> str:
    m = re.search(rf'<section[^>]*id="{panel_id}".*?</section>', html, re.S)
    assert m, f"{panel_id} not on the page"
    return m.group(0)


def test_customer_sees_due_times_in_english_and_chinese(make_client, factory):
    org = factory.organisation()
    alice = factory.customer(org, locale="en")
    li = factory.customer(org, locale="zh_CN")
    sr = factory.request(alice, urgency="P3", now=at(2026, 9, 30, 17))
    li_sr = factory.request(li, urgency="P3", now=at(2026, 9, 30, 17))
    client = make_client()
    client.login(alice)
    panel = _panel(client.get(f"/requests/{sr.number}").get_data(as_text=True), "panel-due-times")
    assert "Response due" in panel and "2026-10-08 17:00 CST" in panel
    assert "Resolution due" in panel and "2026-10-10 17:00 CST" in panel
    assert "overdue" in panel  # these dates are in the past now
    assert "Due times follow the urgency you proposed" in panel
    zh = make_client()
    zh.login(li)
    panel = _panel(zh.get(f"/requests/{li_sr.number}").get_data(as_text=True), "panel-due-times")
    assert "响应截止时间" in panel and "2026-10-08 17:00 CST" in panel
    assert "解决截止时间" in panel and "2026-10-10 17:00 CST" in panel


def test_customer_sees_the_clock_paused_while_the_desk_waits(make_client, factory, db_session):
    alice = factory.customer(factory.organisation())
    sr = factory.request(alice, urgency="P3", now=at(2026, 9, 30, 17))
    sr.status = "in_progress"
    sr.priority = "P3"
    lifecycle_service.apply(
        db_session, SYSTEM, {"handler"}, sr, "ask_customer", at(2026, 10, 8, 16)
    )
    db_session.flush()
    client = make_client()
    client.login(alice)
    panel = _panel(client.get(f"/requests/{sr.number}").get_data(as_text=True), "panel-due-times")
    assert "Paused — waiting for you" in panel
    assert "the service desk asked you for something" in panel
    assert "Answered 2026-10-08 16:00 CST" in panel
    assert "2026-10-10 17:00" not in panel  # no running deadline is shown while paused


def test_staff_panel_explains_what_counted(make_client, factory, db_session):
    alice = factory.customer(factory.organisation())
    sr = factory.request(alice, urgency="P3", now=at(2026, 9, 30, 17))
    sr.status = "in_progress"
    sr.priority = "P3"
    lifecycle_service.apply(
        db_session, SYSTEM, {"handler"}, sr, "ask_customer", at(2026, 10, 9, 10)
    )
    lifecycle_service.apply(
        db_session, SYSTEM, {"customer"}, sr, "answer_customer", at(2026, 10, 9, 11)
    )
    lifecycle_service.apply(db_session, SYSTEM, {"handler"}, sr, "deliver", at(2026, 10, 10, 17))
    lifecycle_service.apply(
        db_session, SYSTEM, {"customer"}, sr, "accept_pass", at(2026, 10, 12, 9)
    )
    sr.completed_at = at(2026, 10, 12, 9)
    db_session.flush()
    supervisor = factory.staff("supervisor")
    client = make_client()
    client.login(supervisor)
    panel = _panel(client.get(f"/staff/requests/{sr.number}").get_data(as_text=True), "panel-sla")
    assert "P3: respond within 8 working hours, resolve within 3 working days" in panel
    assert "business calendar" in panel
    # 23 h counted up to the delivery; 1 h + the wait for acceptance paused
    assert re.search(r'class="sla-counted">23 h 00 min<', panel)
    assert re.search(r'class="sla-paused">(\d+) h', panel).group(1) == str(1 + 40)
    assert "2026-09-30 18:00 CST – 2026-10-08 09:00 CST" in panel
    assert "holiday: National Day" in panel
    assert "make-up working day (调休) worked: National Day" in panel
    assert "waiting for the customer" in panel


@freeze_time("2026-09-30 10:30:00")  # 18:30 in Shanghai, the eve of National Day
def test_new_request_page_announces_the_holiday(make_client, factory):
    alice = factory.customer(factory.organisation())
    client = make_client()
    client.login(alice)
    page = client.get("/requests/new").get_data(as_text=True)
    notice = re.search(r'<p class="notice[^"]*"[^>]*id="desk-notice">(.*?)</p>', page, re.S)
    assert notice, "no desk notice"
    text = " ".join(notice.group(1).split())
    assert "closed from 2026-10-01 to 2026-10-07 (National Day)" in text
    assert "Next working day: 2026-10-08 09:00 CST" in text
    assert "Urgent requests (P1) are handled around the clock." in text


@freeze_time("2026-11-25 14:00:00")  # Wednesday 22:00 in Shanghai
def test_new_request_page_says_the_desk_is_closed_at_night(make_client, factory):
    alice = factory.customer(factory.organisation())
    client = make_client()
    client.login(alice)
    page = client.get("/requests/new").get_data(as_text=True)
    assert "outside its working hours" in page
    assert "Next working day: 2026-11-26 09:00 CST" in page


@freeze_time("2026-11-25 03:00:00")  # Wednesday 11:00 in Shanghai
def test_new_request_page_has_no_notice_during_working_hours(make_client, factory):
    alice = factory.customer(factory.organisation())
    client = make_client()
    client.login(alice)
    page = client.get("/requests/new").get_data(as_text=True)
    assert 'id="desk-notice"' not in page and "Submit request" in page
