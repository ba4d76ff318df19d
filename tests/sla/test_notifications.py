"""Staff notifications: the header badge (loaded and polled by htmx), the list rendered in the
reader's language from kind + params, marking read."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from portal.models import Notification, utcnow
from portal.services.notifications import notify


def _badge(client) -> str:
    html = client.get("/staff/notifications/badge", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    m = re.search(r'data-unread="(\d+)"', html)
    return m.group(1) if m else "0"


def test_the_header_loads_a_polling_badge_without_a_query_of_its_own(client, factory):
    client.login(factory.staff("engineer"))
    html = client.get("/staff/queue").get_data(as_text=True)
    assert 'id="notif-badge"' in html
    assert 'hx-get="/staff/notifications/badge"' in html
    assert 'hx-trigger="load, every 30s"' in html


def test_badge_counts_unread_and_the_list_marks_them_read(client, factory, db_session):
    me = factory.staff("supervisor")
    other = factory.staff("supervisor")
    sr = factory.request(factory.customer())
    due = (utcnow() + timedelta(hours=1)).isoformat()
    notify(db_session, me.id, "resolution_breach", sr.id, {"number": sr.number, "due": due})
    notify(db_session, me.id, "request_submitted", sr.id, {"number": sr.number})
    notify(db_session, other.id, "request_submitted", sr.id, {"number": sr.number})
    db_session.commit()
    client.login(me)
    assert _badge(client) == "2"

    page = client.get("/staff/notifications").get_data(as_text=True)
    assert f"{sr.number}: the resolution target was missed (due " in page
    assert "Escalated to you (level 1)." in page
    assert f"{sr.number} was submitted and awaits classification." in page
    assert page.count('class="notif notif-unread"') == 2

    first = db_session.scalar(
        select(Notification.id).where(Notification.recipient_id == me.id).order_by(Notification.id)
    )
    resp = client.post("/staff/notifications/read", data={"id": str(first)})
    assert resp.status_code == 302
    assert _badge(client) == "1"
    client.post("/staff/notifications/read", data={})
    assert _badge(client) == "0"
    # someone else's stay unread
    assert (
        db_session.query(Notification).filter_by(recipient_id=other.id, read_at=None).count() == 1
    )


def test_notification_texts_follow_the_readers_language(client, factory, db_session):
    me = factory.staff("dispatcher", locale="zh_CN")
    sr = factory.request(factory.customer())
    notify(db_session, me.id, "unknown_kind_from_elsewhere", sr.id, {"number": sr.number})
    db_session.commit()
    client.login(me)
    page = client.get("/staff/notifications").get_data(as_text=True)
    assert 'lang="zh-CN"' in page
    assert sr.number in page  # an unknown kind still says which request


def test_an_htmx_mark_read_returns_the_badge(client, factory, db_session):
    me = factory.staff("engineer")
    sr = factory.request(factory.customer())
    notify(db_session, me.id, "request_submitted", sr.id, {"number": sr.number})
    db_session.commit()
    client.login(me)
    resp = client.post("/staff/notifications/read", data={}, headers={"HX-Request": "true"})
    assert resp.status_code == 200
    assert 'id="notif-badge"' in resp.get_data(as_text=True)
    assert "data-unread" not in resp.get_data(as_text=True)
