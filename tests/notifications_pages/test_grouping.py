"""The page groups a person's notifications by the desk's day and, within a day, by request;
each request is named by its number and title, each notification by its sentence, never a key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.models import utcnow
from portal.presentation.notice_links import notice_link
from portal.services import notification_list
from tests.delivery.helpers import in_progress
from tests.notifications_pages.helpers import add, items, part


def test_days_follow_the_desks_time_zone_and_requests_group_within_a_day(factory, db_session):
    contact = factory.customer()
    a = factory.request(contact, title="打印机无法连接")
    b = factory.request(contact, title="邮箱收不到邮件")
    # in the order they happened (the page lists newest first); 17:30 UTC on the 2nd is 01:30
    # on the 3rd in Shanghai: the desk's 3rd
    at = [datetime(2026, 12, 2, h, m, tzinfo=UTC) for h, m in ((9, 0), (15, 0), (17, 30))]
    first = add(db_session, contact, "sla_explanation", a, at=at[0])
    early = add(db_session, contact, "sla_explanation", b, at=at[1])
    late = add(db_session, contact, "feedback_invite", a, at=at[2])
    newest = add(db_session, contact, "feedback_reminder", a, at=at[2] + timedelta(hours=9))
    other = factory.customer()
    add(db_session, other, "feedback_invite", a)  # someone else's: not on this page

    now = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
    page = notification_list.notification_page(db_session, contact.id, now, "Asia/Shanghai")

    assert [d.day.isoformat() for d in page.days] == ["2026-12-03", "2026-12-02"]
    today, yesterday = page.days
    assert today.is_today and yesterday.is_yesterday
    # within the day: one group per request, newest first; the items newest first
    assert [(g.number, g.title) for g in today.groups] == [(a.number, "打印机无法连接")]
    assert [i.id for i in today.groups[0].items] == [newest.id, late.id]
    assert [g.number for g in yesterday.groups] == [b.number, a.number]
    assert [i.id for g in yesterday.groups for i in g.items] == [early.id, first.id]
    assert today.groups[0].unread == 2

    # in New York the same instants fall on other days
    page = notification_list.notification_page(db_session, contact.id, now, "America/New_York")
    assert [d.day.isoformat() for d in page.days] == ["2026-12-02"]


def test_the_page_names_each_request_and_says_each_notification_as_a_sentence(
    client, factory, db_session
):
    contact = factory.customer()
    sr = factory.request(contact, title="打印机无法连接")
    due = (utcnow() + timedelta(days=2)).isoformat()
    explained = add(db_session, contact, "sla_explanation", sr, at=utcnow() - timedelta(days=1))
    invite = add(db_session, contact, "feedback_invite", sr, due=due)
    db_session.commit()
    client.login(contact)
    html = client.get("/notifications").get_data(as_text=True)

    assert "<h1>Notifications</h1>" in html
    today = part(html, r'<section class="notif-day"[^>]*>\s*<h2[^>]*>Today · .*?</section>')
    yesterday = part(html, r'<section class="notif-day"[^>]*>\s*<h2[^>]*>Yesterday · .*?</section>')
    for section in (today, yesterday):
        head = part(section, r"<h3>.*?</h3>")
        assert sr.number in head and "打印机无法连接" in head
        assert f'href="/requests/{sr.number}"' in head
    assert f"{sr.number} was accepted. Please rate our service by " in today
    assert f"{sr.number}: the service desk explains a delay." in yesterday
    # never a raw key, never the fallback of an unknown kind
    text = " ".join(part(html, r'<div id="notif-page".*').split())
    assert (
        f"{sr.number}: feedback_invite" not in text and f"{sr.number}: sla_explanation" not in text
    )
    assert "待处理" not in text
    assert items(html) == [str(invite.id), str(explained.id)]
    assert html.index("Today · ") < html.index("Yesterday · ")


def test_each_notification_links_to_the_panel_where_its_reader_acts(
    app, make_client, factory, db_session
):
    contact = factory.customer()
    boss = factory.staff("supervisor")
    sr = factory.request(contact, title="数据库响应慢")
    add(db_session, contact, "feedback_invite", sr)
    add(db_session, contact, "sla_explanation", sr)
    add(db_session, boss, "resolution_breach", sr, due=utcnow().isoformat())
    add(db_session, boss, "request_submitted", sr)
    db_session.commit()

    customer = make_client()
    customer.login(contact)
    html = customer.get("/notifications").get_data(as_text=True)
    assert f'href="/requests/{sr.number}#panel-rate"' in html
    assert f'href="/requests/{sr.number}#panel-sla"' in html
    assert "/staff/" not in part(html, r'<div id="notif-page".*</div>')

    staff = make_client()
    staff.login(boss)
    html = staff.get("/staff/notifications").get_data(as_text=True)
    assert f'href="/staff/requests/{sr.number}#panel-escalation"' in html
    assert f'href="/staff/requests/{sr.number}"' in html
    with app.test_request_context():
        assert notice_link("resolution_breach", sr.number, staff=True) in html


def test_the_places_the_links_lead_to_exist_on_the_request_pages(make_client, factory, db_session):
    sr, contact, handler = in_progress(factory, db_session, title="VPN 无法登录")
    db_session.commit()
    customer = make_client()
    customer.login(contact)
    html = customer.get(f"/requests/{sr.number}").get_data(as_text=True)
    for anchor in ("panel-reply", "panel-sla"):
        assert f'id="{anchor}"' in html, anchor
    staff = make_client()
    staff.login(handler)
    html = staff.get(f"/staff/requests/{sr.number}").get_data(as_text=True)
    for anchor in ("panel-progress", "panel-reply", "panel-sla", "panel-deliver"):
        assert f'id="{anchor}"' in html, anchor


def test_a_notification_about_no_request_has_its_own_group_and_link(client, factory, db_session):
    owner = factory.staff("engineer")
    due = utcnow().isoformat()
    add(
        db_session,
        owner,
        "measure_overdue:7",
        None,
        number="FB-20261201-001",
        measure="加值班",
        due=due,
    )
    db_session.commit()
    client.login(owner)
    html = client.get("/staff/notifications?show=bogus").get_data(as_text=True)
    group = part(html, r'<article class="notif-group.*?</article>')
    assert '<span class="number">FB-20261201-001</span>' in group
    assert "/staff/requests/" not in group  # no request to open
    assert 'href="/staff/measures"' in group
    assert "“加值班” passed its deadline" in group
    assert 'aria-current="page">All' in html  # an unknown filter reads as all
