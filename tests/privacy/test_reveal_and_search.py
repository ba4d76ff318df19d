"""Audited reveal for supervisors, and contact search without an oracle."""

from __future__ import annotations

from datetime import timedelta

from freezegun import freeze_time
from sqlalchemy import select

from portal.models import AuditEvent, Collaborator, ContactReveal, utcnow
from tests.privacy.conftest import EMAIL, NAME, PHONE


def _detail(client, number):
    return client.get(f"/staff/requests/{number}").get_data(as_text=True)


def test_a_supervisor_reveals_a_contact_for_a_reason_for_thirty_minutes(
    client, make_client, factory, db_session, scene
):
    number = scene.sr.number
    start = utcnow()
    with freeze_time(start):
        client.login(scene.supervisor)
        page = _detail(client, number)
        assert PHONE not in page and 'id="panel-privacy"' in page

        # a reason is required; the panel comes back with the error and status 422
        resp = client.post(
            f"/staff/requests/{number}/reveal", data={"reason": "x"}, headers={"HX-Request": "true"}
        )
        assert resp.status_code == 422
        assert "at least 10 characters" in resp.get_data(as_text=True)

        reason = "客户来电要求回拨,需要核对联系电话 13900001111"
        resp = client.post(
            f"/staff/requests/{number}/reveal",
            data={"reason": reason},
            headers={"HX-Request": "true"},
        )
        assert resp.status_code == 204 and resp.headers["HX-Redirect"].endswith(number)
        page = _detail(client, number)
        assert PHONE in page and EMAIL in page
        assert "This reveal is audited" in page

    reveal = db_session.scalar(select(ContactReveal).where(ContactReveal.request_id == scene.sr.id))
    assert reveal.account_id == scene.supervisor.id and reveal.reason == reason
    assert reveal.expires_at - reveal.revealed_at == timedelta(minutes=30)
    event = db_session.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == "contact.revealed")
        .order_by(AuditEvent.id.desc())
    )
    assert event.actor_id == scene.supervisor.id and event.object_id == number
    assert event.after["reason"].endswith("****1111")  # the log itself keeps no phone number

    # it ends by itself
    with freeze_time(start + timedelta(minutes=31)):
        client.login(scene.supervisor)
        assert PHONE not in _detail(client, number)

    # admins see it listed, reason redacted like everything else
    admin = make_client()
    admin.login(factory.staff("admin"))
    listing = admin.get("/staff/admin/reveals").get_data(as_text=True)
    assert number in listing and "客户来电要求回拨" in listing and "13900001111" not in listing
    audit_page = admin.get(f"/staff/admin/audit?action=contact.&object_id={number}").get_data(
        as_text=True
    )
    # said as a sentence (the admin reads English), the reason's phone number redacted
    assert f"revealed the contact of service request {number}" in audit_page
    assert "13900001111" not in audit_page


def test_a_reveal_shows_the_customer_confirmation_in_full_too(client, scene):
    # the handling record of the closed request: confirmed by the contact, signed with their name
    number = scene.closed.number
    client.login(scene.supervisor)
    page = _detail(client, number)
    assert NAME not in page and f"{NAME[0]}* · " in page
    resp = client.post(
        f"/staff/requests/{number}/reveal", data={"reason": "客户来电核对验收签字人的姓名"}
    )
    assert resp.status_code == 302
    page = _detail(client, number)
    assert f"{NAME} · " in page and PHONE in page


def test_only_supervisors_may_reveal(client, factory, db_session, scene):
    client.login(factory.staff("agent", "dispatcher", "engineer", "admin"))
    page = _detail(client, scene.sr.number)
    assert 'id="panel-privacy"' not in page
    resp = client.post(
        f"/staff/requests/{scene.sr.number}/reveal", data={"reason": "I would like to see it"}
    )
    assert resp.status_code == 403
    assert db_session.scalar(select(ContactReveal.id)) is None


def test_the_reveals_page_is_for_admins(client, factory):
    client.login(factory.staff("supervisor", "dispatcher", "engineer", "agent"))
    assert client.get("/staff/admin/reveals").status_code == 403
    assert client.get("/staff/admin/audit").status_code == 403


def _queue_numbers(client, q):
    body = client.get("/staff/queue", query_string={"view": "all", "q": q}).get_data(as_text=True)
    return body


def test_search_by_phone_or_e_mail_finds_only_what_the_searcher_may_see(
    client, make_client, factory, db_session, scene
):
    number = scene.sr.number
    # the handler finds the request by the phone number, whole or in part, and by the e-mail
    handler = make_client()
    handler.login(scene.handler)
    for q in (PHONE, "138-1234-5678", EMAIL.upper(), "wang.xiaoming@"):
        assert number in _queue_numbers(handler, q), q

    # anyone else gets the same answer as for a number nobody has: nothing
    client.login(scene.outsider)
    for q in (PHONE, EMAIL):
        body = _queue_numbers(client, q)
        assert number not in body
        assert body.count("<tr") == _queue_numbers(client, "13999999999").count("<tr")

    # a collaborator may see the contact in full, so finds it
    db_session.add(
        Collaborator(
            request_id=scene.sr.id,
            account_id=scene.outsider.id,
            interface_person="张三",
            scope="数据库排查",
            added_by_id=scene.handler.id,
        )
    )
    db_session.flush()
    assert number in _queue_numbers(client, PHONE)
