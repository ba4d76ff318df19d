"""Marking read: one notification, one request's, or all; with htmx (the body and the badge swap)
and without JavaScript (a redirect back to the same view). The filter and the older pages."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.models import Notification, utcnow
from tests.notifications_pages.helpers import add, badge, items, part, unread_items


def _unread(db_session, person) -> set[int]:
    db_session.expire_all()
    return set(
        db_session.scalars(
            select(Notification.id).where(
                Notification.recipient_id == person.id, Notification.read_at.is_(None)
            )
        )
    )


def _scene(factory, db_session):
    contact = factory.customer()
    a = factory.request(contact, title="打印机无法连接")
    b = factory.request(contact, title="邮箱收不到邮件")
    ns = [
        add(db_session, contact, "sla_explanation", a, at=utcnow() - timedelta(days=1)),
        add(db_session, contact, "feedback_invite", a),
        add(db_session, contact, "feedback_reminder", a),
        add(db_session, contact, "sla_explanation", b),
    ]
    db_session.commit()
    return contact, a, b, [n.id for n in ns]


def test_mark_one_a_requests_and_all_read_without_javascript(client, factory, db_session):
    contact, a, b, ids = _scene(factory, db_session)
    client.login(contact)
    assert badge(client) == 4
    header = client.get("/").get_data(as_text=True)
    assert 'hx-get="/notifications/badge"' in header and 'href="/notifications"' in header

    resp = client.post("/notifications/read", data={"id": str(ids[1])})
    assert resp.status_code == 302 and resp.headers["Location"] == "/notifications"
    assert _unread(db_session, contact) == {ids[0], ids[2], ids[3]}
    assert badge(client) == 3
    page = client.get("/notifications").get_data(as_text=True)
    assert "Marked as read." in page
    assert f'id="notif-{ids[1]}"' in part(page, r'<li class="notif notif-read".*?</li>')

    # a request's: every notification about it, on every day; the other request's stay
    client.post("/notifications/read", data={"request": str(a.id)})
    assert _unread(db_session, contact) == {ids[3]}
    assert badge(client) == 1

    client.post("/notifications/read", data={})
    assert _unread(db_session, contact) == set()
    assert badge(client) == 0
    page = client.get("/notifications").get_data(as_text=True)
    assert "Mark all read" not in page and unread_items(page) == []


def test_an_htmx_mark_read_swaps_the_body_and_the_badge(client, factory, db_session):
    contact, a, b, ids = _scene(factory, db_session)
    client.login(contact)
    resp = client.post(
        "/notifications/read",
        data={"id": str(ids[3]), "show": "unread"},
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="notif-page"')
    assert "<html" not in html
    # the same view (unread) comes back without the one just read, and the badge out of band
    assert sorted(unread_items(html)) == sorted(str(i) for i in ids[:3])
    assert items(html) == unread_items(html)
    oob = part(html, r'<a id="notif-badge"[^>]*>.*?</a>')
    assert 'hx-swap-oob="true"' in oob and 'data-unread="3"' in oob
    assert 'role="status">Marked as read.' in html
    # the forms of the new body keep the filter
    assert '<input type="hidden" name="show" value="unread">' in html


def test_the_unread_filter_and_the_older_pages(client, factory, db_session):
    contact = factory.customer()
    sr = factory.request(contact, title="报表导出失败")
    start = utcnow() - timedelta(hours=2)
    ns = [
        add(
            db_session,
            contact,
            "sla_explanation",
            sr,
            at=start + timedelta(minutes=i),
            read=i % 2 == 0,
        )
        for i in range(60)
    ]
    db_session.commit()
    client.login(contact)

    first = client.get("/notifications").get_data(as_text=True)
    assert items(first) == [str(n.id) for n in reversed(ns)][:50]
    older = part(first, r'<nav class="pager".*?</nav>')
    assert f'href="/notifications?before={ns[10].id}"' in older
    second = client.get(f"/notifications?before={ns[10].id}").get_data(as_text=True)
    assert items(second) == [str(n.id) for n in reversed(ns[:10])]
    assert 'href="/notifications">Newest</a>' in second and ">Older</a>" not in second

    unread = client.get("/notifications?show=unread").get_data(as_text=True)
    assert items(unread) == [str(n.id) for n in reversed(ns) if n.read_at is None]
    assert 'aria-current="page">Unread' in unread
    assert ">Older</a>" not in unread

    client.post("/notifications/read", data={})
    empty = client.get("/notifications?show=unread").get_data(as_text=True)
    assert "No unread notifications." in empty and items(empty) == []


def test_a_bad_id_marks_nothing_and_says_so(client, factory, db_session):
    contact, a, b, ids = _scene(factory, db_session)
    client.login(contact)
    for data in ({"id": "abc"}, {"request": "1; drop"}, {"id": "9" * 30}):
        resp = client.post("/notifications/read", data=data, follow_redirects=True)
        assert resp.status_code == 200
        assert "That notification could not be found." in resp.get_data(as_text=True)
    assert _unread(db_session, contact) == set(ids)
