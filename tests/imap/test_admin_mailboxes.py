"""The mailboxes page at /staff/admin/mailboxes: add, edit (an empty password keeps the stored
one, never shown), deactivate, test the connection against dovecot, bad input refused in both
languages; audited; admins only."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, Mailbox
from portal.services.inbound import mailbox_secret
from tests.imap_server import free_port

PAGE = "/staff/admin/mailboxes"


@pytest.fixture
def admin(make_client, factory):
    client = make_client()
    client.login(factory.staff("admin"))
    return client


def _form(server, **overrides):
    data = {
        "name": "Support desk",
        "host": server.host,
        "port": str(server.port),
        "username": "desk",
        "password": server.users["desk"],
        "folder": "INBOX",
        "after_taking": "move",
        "taken_folder": "Portal/Taken",
    }  # use_ssl unticked: the test dovecot speaks plain IMAP
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _boxes(db_session):
    db_session.expire_all()
    return list(db_session.scalars(select(Mailbox)))


def _text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def test_add_edit_keeping_the_password_and_test_the_connection(app, admin, db_session, imap_server):
    resp = admin.post(PAGE, data=_form(imap_server))
    assert resp.status_code == 302, _text(resp)[:2000]
    [box] = _boxes(db_session)
    assert (box.name, box.port, box.use_ssl, box.active) == (
        "Support desk",
        imap_server.port,
        False,
        True,
    )
    assert box.password_encrypted != "desk-pass"
    assert mailbox_secret.decrypt(app.config, box.password_encrypted) == "desk-pass"
    page = admin.get(f"{PAGE}/{box.id}")
    assert page.status_code == 200
    assert "desk-pass" not in page.get_data(as_text=True)
    assert box.password_encrypted not in page.get_data(as_text=True)

    # edit with the password left empty: the stored one stays
    stored = box.password_encrypted
    resp = admin.post(
        f"{PAGE}/{box.id}", data=_form(imap_server, name=None, password="", folder="INBOX")
    )
    assert resp.status_code == 302
    resp = admin.post(
        f"{PAGE}/{box.id}", data=_form(imap_server, name=None, password="", taken_folder="Done")
    )
    assert resp.status_code == 302
    [box] = _boxes(db_session)
    assert box.taken_folder == "Done" and box.password_encrypted == stored

    tested = admin.post(f"{PAGE}/{box.id}/test", follow_redirects=True)
    assert tested.status_code == 200
    assert "Connection works: logged in as desk and opened INBOX." in _text(tested)

    # a new, wrong password: the test says the server refused the login
    admin.post(
        f"{PAGE}/{box.id}",
        data=_form(imap_server, name=None, password="nope-nope", taken_folder="Done"),
    )
    tested = admin.post(f"{PAGE}/{box.id}/test", follow_redirects=True)
    assert "Connection failed. The mail server refused the login" in _text(tested)
    assert "nope-nope" not in _text(tested)

    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "mailbox").order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["mailbox.created", "mailbox.updated", "mailbox.updated"]
    assert events[1].after == {"taken_folder": "Done"}
    assert events[2].after == {"password": "changed"}
    assert all("desk-pass" not in str(e.after) and "nope-nope" not in str(e.after) for e in events)

    # deactivate
    resp = admin.post(f"{PAGE}/{box.id}/active", data={"active": "0"})
    assert resp.status_code == 302
    [box] = _boxes(db_session)
    assert box.active is False
    listing = _text(admin.get(PAGE))
    assert "Support desk" in listing and "Inactive" in listing


def test_a_bad_port_is_refused_in_both_languages_and_nothing_is_kept(
    make_client, factory, db_session, imap_server
):
    for locale, message in (
        ("en", "A port between 1 and 65535, e.g. 993."),
        ("zh_CN", "端口须在 1 到 65535 之间，例如 993。"),
    ):
        client = make_client()
        client.login(factory.staff("admin", locale=locale))
        resp = client.post(PAGE, data=_form(imap_server, port="70000"))
        assert resp.status_code == 422
        body = _text(resp)
        assert message in body
        assert 'value="Support desk"' in body  # what was typed is kept
        assert "desk-pass" not in body  # but never the password
        resp = client.post(PAGE, data=_form(imap_server, port="abc"))
        assert resp.status_code == 422 and message in _text(resp)
    assert _boxes(db_session) == []


def test_a_taken_name_and_a_missing_password_are_refused(admin, db_session, imap_server):
    assert admin.post(PAGE, data=_form(imap_server)).status_code == 302
    again = admin.post(PAGE, data=_form(imap_server))
    assert again.status_code == 422 and "Another mailbox has this name." in _text(again)
    nopass = admin.post(PAGE, data=_form(imap_server, name="Other", password=""))
    assert nopass.status_code == 422 and "Give the password to log in with." in _text(nopass)
    assert len(_boxes(db_session)) == 1


def test_testing_a_server_that_is_not_there_says_so(admin, db_session, imap_server):
    admin.post(PAGE, data=_form(imap_server, port=str(free_port())))
    [box] = _boxes(db_session)
    tested = admin.post(f"{PAGE}/{box.id}/test", follow_redirects=True)
    assert tested.status_code == 200
    assert "Connection failed. The mail server could not be reached" in _text(tested)


def test_only_admins_reach_the_mailboxes(make_client, factory, db_session):
    supervisor = make_client()
    supervisor.login(factory.staff("supervisor"))
    assert supervisor.get(PAGE).status_code == 403
    assert supervisor.post(PAGE, data={"name": "x"}).status_code == 403
    assert db_session.scalar(select(func.count()).select_from(Mailbox)) == 0


def test_a_nul_in_any_mailbox_form_is_refused_and_nothing_changes(admin, db_session, imap_server):
    assert admin.post(PAGE, data=_form(imap_server)).status_code == 302
    [box] = _boxes(db_session)
    before = (box.name, box.host, box.username, box.password_encrypted, box.active)
    for url, data in [
        (PAGE, _form(imap_server, name="新\x00箱")),
        (f"{PAGE}/{box.id}", _form(imap_server, name="Support desk", host="127.0.0.1\x00")),
        (f"{PAGE}/{box.id}", _form(imap_server, name="Support desk", password="p\x00w")),
        (f"{PAGE}/{box.id}/active", {"active": "0\x00"}),
    ]:
        resp = admin.post(url, data=data)
        assert resp.status_code in (400, 422), (url, resp.status_code)
    # the connection test has no field of its own: a NUL beside it changes nothing either
    assert admin.post(f"{PAGE}/{box.id}/test", data={"x": "\x00"}).status_code < 500
    [box] = _boxes(db_session)
    assert (box.name, box.host, box.username, box.password_encrypted, box.active) == before
    assert len(_boxes(db_session)) == 1
