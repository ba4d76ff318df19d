"""Invitations and "forgot password": the mail arrives at a real SMTP server in the recipient's
language, its link is built from PORTAL_BASE_URL, works once, expires, is bound to the current
password, and using it ends every session of the account."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from freezegun import freeze_time
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import select

from portal.models import AuditEvent, utcnow
from portal.services import invitations
from portal.services.audit import Actor
from tests.factories import PASSWORD
from tests.mail_server import body_text

BASE = "https://desk.example.cn"
NEW_PASSWORD = "a-brand-new-secret"


@pytest.fixture(autouse=True)
def _base_url(app, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_BASE_URL", BASE)


def _deliver(session, redis_url) -> None:
    """Commit, then run the queued jobs (the outbox's real sender) in this process."""
    session.commit()
    queue = Queue("default", connection=Redis.from_url(redis_url))
    SimpleWorker([queue], connection=queue.connection).work(burst=True)


def _mail_to(smtp_server, address: str):
    return smtp_server.wait_for(lambda m: m["To"] == address, timeout=10)


def _link(mail) -> str:
    found = re.findall(r"https?://\S+", body_text(mail))
    assert found, body_text(mail)
    return found[0]


def _path(link: str) -> str:
    assert link.startswith(BASE + "/"), link
    return link.removeprefix(BASE)


def _without_csrf(html: str) -> str:
    """The page without what differs per session and response: CSRF tokens, the CSP nonce."""
    html = re.sub(r'Nonce": "[^"]*"', "", html)
    html = re.sub(r'name="csrf_token" type="hidden" value="[^"]*"', "", html)
    html = re.sub(r'name="csrf_token" value="[^"]*"', "", html)
    html = re.sub(r'<meta name="csrf-token" content="[^"]*">', "", html)
    return html


def _set_password(client, path, password=NEW_PASSWORD, repeat=None):
    return client.post(path, data={"new_password": password, "repeat_password": repeat or password})


def test_invitation_arrives_in_the_recipients_language_with_a_link_from_the_base_url(
    app, client, factory, db_session, smtp_server, redis_url
):
    admin = factory.staff("admin")  # reads English
    invited = factory.staff("engineer", locale="zh_CN")
    # the request that leads to the invitation came with an evil Host and in English: the
    # link ignores the one, the mail the other
    with app.test_request_context(
        "/staff/admin/staff", method="POST", headers={"Host": "evil.example"}
    ):
        invitations.invite(db_session, invited, actor=Actor(admin.id), now=utcnow())
    _deliver(db_session, redis_url)

    mail = _mail_to(smtp_server, invited.email)
    assert "服务台" in mail["Subject"]
    text = body_text(mail)
    assert "设置" in text and "72" in text and invited.name in text
    assert "evil.example" not in mail.as_string()
    path = _path(_link(mail))
    assert path.startswith("/staff/password/set/")

    # no password works until the person sets one
    refused = client.post("/staff/login", data={"identifier": invited.email, "password": PASSWORD})
    assert refused.status_code == 401
    audit = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.invited")).one()
    assert audit.after == {"name": invited.name, "email": invited.email}


def test_an_invitation_link_sets_the_password_once_then_says_it_no_longer_works(
    make_client, factory, db_session, smtp_server, redis_url
):
    contact = factory.customer(locale="en")
    invitations.invite(db_session, contact, actor=Actor(None), now=utcnow())
    _deliver(db_session, redis_url)
    mail = _mail_to(smtp_server, contact.email)
    assert "invited" in mail["Subject"]
    path = _path(_link(mail))
    assert path.startswith("/password/set/")

    browser = make_client()
    page = browser.get(path)
    assert page.status_code == 200 and "Choose your password" in page.get_data(as_text=True)
    done = _set_password(browser, path)
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert "Your password has been set" in browser.get("/login").get_data(as_text=True)
    db_session.expire_all()
    assert contact.invited_at is None
    browser.login(contact, password=NEW_PASSWORD)

    again = make_client()
    used = again.get(path)
    assert used.status_code == 410
    body = used.get_data(as_text=True)
    assert "This link no longer works" in body and "Send me a new link" in body
    assert contact.email not in body
    assert _set_password(again, path, "yet-another-password").status_code == 410
    again_login = again.post("/login", data={"identifier": contact.email, "password": NEW_PASSWORD})
    assert again_login.status_code == 302  # the second attempt changed nothing


def test_an_expired_invitation_link_offers_a_new_one(
    make_client, factory, db_session, smtp_server, redis_url
):
    invited = factory.staff("agent")
    invitations.invite(db_session, invited, actor=Actor(None), now=utcnow())
    _deliver(db_session, redis_url)
    path = _path(_link(_mail_to(smtp_server, invited.email)))
    browser = make_client()
    with freeze_time(utcnow() + timedelta(hours=72, minutes=1)):
        page = browser.get(path)
        posted = _set_password(browser, path)
    body = page.get_data(as_text=True)
    assert page.status_code == 410 and "This link has expired" in body
    assert 'href="/staff/password/forgot"' in body
    assert invited.email not in body
    assert posted.status_code == 410


def _forgot(client, side, email):
    url = "/staff/password/forgot" if side == "staff" else "/password/forgot"
    return client.post(url, data={"email": email})


@pytest.mark.parametrize("side", ["customer", "staff"])
def test_reset_answers_the_same_for_a_known_and_an_unknown_address(
    side, make_client, factory, db_session, smtp_server, redis_url
):
    person = factory.customer() if side == "customer" else factory.staff()
    db_session.commit()
    known = _forgot(make_client(), side, person.email)
    unknown = _forgot(make_client(), side, "nobody-here@example.com")
    assert known.status_code == unknown.status_code == 200
    assert _without_csrf(known.get_data(as_text=True)) == _without_csrf(
        unknown.get_data(as_text=True)
    )
    assert "Check your e-mail" in known.get_data(as_text=True)
    _deliver(db_session, redis_url)
    mail = _mail_to(smtp_server, person.email)
    assert "Reset your password" in mail["Subject"]
    assert [m["To"] for m in smtp_server.messages] == [person.email]
    prefix = "/staff/password/reset/" if side == "staff" else "/password/reset/"
    assert _path(_link(mail)).startswith(prefix)


def test_a_customer_address_gets_no_staff_reset(
    make_client, factory, db_session, smtp_server, redis_url
):
    contact = factory.customer()
    db_session.commit()
    assert _forgot(make_client(), "staff", contact.email).status_code == 200
    _deliver(db_session, redis_url)
    with pytest.raises(TimeoutError):
        smtp_server.wait_for(timeout=0.5)


def test_the_reset_link_ends_the_old_sessions_and_works_once(
    make_client, factory, db_session, smtp_server, redis_url
):
    contact = factory.customer()
    db_session.commit()
    old = make_client()
    old.login(contact)
    assert old.get("/").status_code == 200

    assert _forgot(make_client(), "customer", contact.email).status_code == 200
    _deliver(db_session, redis_url)
    path = _path(_link(_mail_to(smtp_server, contact.email)))
    browser = make_client()
    assert _set_password(browser, path).status_code == 302

    refused = old.get("/")
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    assert (
        old.post("/login", data={"identifier": contact.email, "password": PASSWORD}).status_code
        == 401
    )
    browser.login(contact, password=NEW_PASSWORD)
    assert make_client().get(path).status_code == 410
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "account.password_set_by_link")
    ).one()
    assert event.after["sessions_ended"] == 1


def test_a_reset_link_is_bound_to_the_password_it_was_sent_for(
    make_client, factory, db_session, smtp_server, redis_url
):
    contact = factory.customer()
    db_session.commit()
    assert _forgot(make_client(), "customer", contact.email).status_code == 200
    _deliver(db_session, redis_url)
    path = _path(_link(_mail_to(smtp_server, contact.email)))

    account_page = make_client()
    account_page.login(contact)
    changed = account_page.post(
        "/account/password",
        data={
            "password-current_password": PASSWORD,
            "password-new_password": "changed-elsewhere-1",
            "password-repeat_password": "changed-elsewhere-1",
        },
    )
    assert changed.status_code == 302
    stale = make_client().get(path)
    assert stale.status_code == 410 and "This link no longer works" in stale.get_data(as_text=True)


def test_a_reset_link_expires_after_an_hour(
    make_client, factory, db_session, smtp_server, redis_url
):
    contact = factory.customer()
    db_session.commit()
    _forgot(make_client(), "customer", contact.email)
    _deliver(db_session, redis_url)
    path = _path(_link(_mail_to(smtp_server, contact.email)))
    with freeze_time(utcnow() + timedelta(minutes=59)):
        assert make_client().get(path).status_code == 200
    with freeze_time(utcnow() + timedelta(minutes=61)):
        page = make_client().get(path)
    assert page.status_code == 410 and "This link has expired" in page.get_data(as_text=True)


def test_a_link_of_one_side_does_not_work_on_the_other(
    make_client, factory, db_session, smtp_server, redis_url
):
    contact = factory.customer()
    invitations.invite(db_session, contact, actor=Actor(None), now=utcnow())
    _deliver(db_session, redis_url)
    path = _path(_link(_mail_to(smtp_server, contact.email)))
    assert make_client().get("/staff" + path).status_code == 410
    reset_path = path.replace("/password/set/", "/password/reset/")
    assert make_client().get(reset_path).status_code == 410  # another purpose, another salt


def test_set_password_errors_at_the_field(make_client, factory, db_session):
    contact = factory.customer()
    now = utcnow()
    invitations.invite(db_session, contact, actor=Actor(None), now=now)
    db_session.commit()
    path = invitations.link_path(
        "customer", "invitation", invitations.make_token(contact, "invitation", now)
    )
    browser = make_client()
    short = _set_password(browser, path, "short")
    assert short.status_code == 422
    assert 'class="field-error" id="new_password-error"' in short.get_data(as_text=True)
    differ = _set_password(browser, path, NEW_PASSWORD, repeat=NEW_PASSWORD + "x")
    assert differ.status_code == 422
    assert "The two new passwords are not the same." in differ.get_data(as_text=True)
    # nothing changed: the link still works
    assert browser.get(path).status_code == 200


@pytest.mark.parametrize(
    "data",
    [
        {"email": "li\x00@example.com"},
        {"email": "a" * 300 + "@example.com"},
        {"email": "not an address"},
        {"email": ""},
    ],
)
def test_the_forgot_form_refuses_bad_input_at_the_field(make_client, data, db_session):
    resp = make_client().post("/password/forgot", data=data)
    assert resp.status_code in (400, 422)
    if resp.status_code == 422:
        assert 'id="email-error"' in resp.get_data(as_text=True)


def test_the_set_form_refuses_control_characters_and_oversized_input(
    make_client, factory, db_session
):
    contact = factory.customer()
    now = utcnow()
    invitations.invite(db_session, contact, actor=Actor(None), now=now)
    db_session.commit()
    path = invitations.link_path(
        "customer", "invitation", invitations.make_token(contact, "invitation", now)
    )
    browser = make_client()
    for value in ("good-password\x07x", "x" * 500):
        resp = _set_password(browser, path, value)
        assert 400 <= resp.status_code < 500
        assert "field-error" in resp.get_data(as_text=True) or resp.status_code == 400
    assert browser.get(path).status_code == 200
    assert make_client().get("/password/set/" + "A" * 5000).status_code in (404, 410)


def test_reset_requests_are_throttled_per_address(
    make_client, factory, db_session, smtp_server, redis_url
):
    contact = factory.customer()
    db_session.commit()
    for _ in range(5):
        assert _forgot(make_client(), "customer", contact.email).status_code == 200
    _deliver(db_session, redis_url)
    smtp_server.wait_for(timeout=10)
    sent = [m for m in smtp_server.messages if m["To"] == contact.email]
    assert len(sent) == 3  # PASSWORD_RESET_LIMITS per_address; the rest dropped silently


def test_the_login_pages_link_to_forgot_password(client):
    assert 'href="/password/forgot"' in client.get("/login").get_data(as_text=True)
    assert 'href="/staff/password/forgot"' in client.get("/staff/login").get_data(as_text=True)


def test_production_without_a_base_url_warns_at_startup(monkeypatch, caplog):
    from portal import create_app
    from tests.conftest import CHEAP_HASH

    monkeypatch.delenv("PORTAL_BASE_URL", raising=False)
    settings = {
        "SECRET_KEY": "x",
        "DATABASE_URL": "sqlite://",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "PASSWORD_HASH": CHEAP_HASH,
    }
    with caplog.at_level("WARNING", logger="portal"):
        create_app(settings)
    assert "PORTAL_BASE_URL is not set" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="portal"):
        create_app({**settings, "PORTAL_BASE_URL": "https://desk.example.cn"})
    assert "PORTAL_BASE_URL" not in caplog.text
