"""Each person sees and marks only their own notifications, on their own side's page; the page
costs the same few statements for 5 notifications or 50; both languages."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.models import Notification, utcnow
from tests.notifications_pages.helpers import add, badge, items


def _read_at(db_session, n):
    db_session.expire_all()
    return db_session.scalar(select(Notification.read_at).where(Notification.id == n.id))


def test_marking_another_persons_notification_changes_nothing(make_client, factory, db_session):
    mine, theirs = factory.customer(), factory.customer()
    engineer = factory.staff("engineer")
    my_sr = factory.request(mine, title="我的请求")
    their_sr = factory.request(theirs, title="别人的请求")
    their_note = add(db_session, theirs, "sla_explanation", their_sr)
    staff_note = add(db_session, engineer, "request_submitted", their_sr)
    add(db_session, mine, "sla_explanation", my_sr)
    db_session.commit()

    me = make_client()
    me.login(mine)
    for data in (
        {"id": str(their_note.id)},
        {"id": str(staff_note.id)},
        {"request": str(their_sr.id)},
    ):
        for headers in ({}, {"HX-Request": "true"}):
            resp = me.post("/notifications/read", data=data, headers=headers)
            assert resp.status_code in (200, 302)
    assert _read_at(db_session, their_note) is None
    assert _read_at(db_session, staff_note) is None
    # "all" is all of mine, and only mine
    me.post("/notifications/read", data={})
    assert _read_at(db_session, their_note) is None
    assert badge(me) == 0

    # and the other person's page never lists mine, nor their title on mine
    page = me.get("/notifications").get_data(as_text=True)
    assert "别人的请求" not in page and their_sr.number not in page

    staff = make_client()
    staff.login(engineer)
    resp = staff.post("/staff/notifications/read", data={"id": str(their_note.id)})
    assert resp.status_code == 302
    assert _read_at(db_session, their_note) is None
    assert badge(staff, "staff") == 1


def test_a_customer_cannot_open_the_staff_page_nor_staff_the_customers(
    make_client, factory, db_session
):
    contact = factory.customer()
    engineer = factory.staff("engineer")
    sr = factory.request(contact)
    note = add(db_session, contact, "sla_explanation", sr)
    db_session.commit()

    customer = make_client()
    customer.login(contact)
    for url in ("/staff/notifications", "/staff/notifications/badge"):
        assert customer.get(url).status_code == 403
    assert customer.post("/staff/notifications/read", data={}).status_code == 403

    staff = make_client()
    staff.login(engineer)
    for url in ("/notifications", "/notifications/badge"):
        assert staff.get(url).status_code == 403
    assert staff.post("/notifications/read", data={"id": str(note.id)}).status_code == 403
    assert _read_at(db_session, note) is None

    anonymous = make_client()
    resp = anonymous.get("/notifications")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_the_page_costs_the_same_statements_for_5_and_50_notifications(
    make_client, factory, db_session, count_queries
):
    counted = []
    for size in (5, 50):
        contact = factory.customer()
        requests = [factory.request(contact, title=f"请求 {i}") for i in range(10)]
        start = utcnow() - timedelta(days=4)
        for i in range(size):
            add(
                db_session,
                contact,
                ("sla_explanation", "feedback_invite")[i % 2],
                requests[i % 10],
                at=start + timedelta(hours=2 * i),
                read=i % 3 == 0,
            )
        db_session.commit()
        client = make_client()
        client.login(contact)
        with count_queries() as statements:
            html = client.get("/notifications").get_data(as_text=True)
        assert len(items(html)) == size
        counted.append(len(statements))
    assert counted[0] == counted[1], counted
    # the account, the notifications with their requests, the unread count
    assert counted[1] <= 5, counted


def test_both_languages(make_client, factory, db_session):
    zh_contact = factory.customer(locale="zh_CN")
    sr = factory.request(zh_contact, title="打印机无法连接")
    add(db_session, zh_contact, "sla_explanation", sr, at=utcnow() - timedelta(days=1))
    add(db_session, zh_contact, "feedback_invite", sr, due=utcnow().isoformat())
    boss = factory.staff("supervisor", locale="zh_CN")
    add(db_session, boss, "request_submitted", sr)
    db_session.commit()

    client = make_client()
    client.login(zh_contact)
    html = client.get("/notifications").get_data(as_text=True)
    assert 'lang="zh-CN"' in html
    for text in ("<h1>通知</h1>", "今天 · ", "昨天 · ", "全部标为已读", "未读", "打印机无法连接"):
        assert text in html, text
    assert "Notifications" not in html and "Mark read" not in html

    staff = make_client()
    staff.login(boss)
    html = staff.get("/staff/notifications").get_data(as_text=True)
    assert "<h1>通知</h1>" in html and "Today" not in html
    assert sr.number in html and "打印机无法连接" in html
