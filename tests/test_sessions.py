"""Sessions rotate and expire (docs/product.md §11): a new token when the password changes (the
changing browser too) and when the roles change, an idle timeout per side besides the absolute
age, the last use noted in Redis at most once a minute, and "End this session" in the list."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from freezegun import freeze_time
from redis import Redis
from sqlalchemy import select

from portal.models import AuditEvent, LoginSession, utcnow
from portal.services import session_seen
from portal.services.accounts import session_key
from tests.factories import PASSWORD
from tests.test_auth import browser_with, session_cookie, token_in

NEW_PASSWORD = "Copper-Kite-Field-2026"


def _home(side: str) -> str:
    return "/staff/account" if side == "staff" else "/account"


def _sent_to_login(resp, side: str) -> bool:
    login = "/staff/login" if side == "staff" else "/login"
    return resp.status_code == 302 and urlsplit(resp.location).path == login


def _person(factory, side, **kw):
    return factory.customer(**kw) if side == "customer" else factory.staff("agent", **kw)


# --- a new token on a password change -----------------------------------------------------------


@pytest.mark.parametrize("side", ["customer", "staff"])
def test_the_changing_session_goes_on_under_a_new_token(make_client, factory, db_session, side):
    user = _person(factory, side)
    laptop, phone = make_client(), make_client()
    laptop.login(user)
    phone.login(user)
    old_token, stolen = token_in(laptop), session_cookie(laptop)

    resp = laptop.post(
        _home(side) + "/password",
        data={
            "password-current_password": PASSWORD,
            "password-new_password": NEW_PASSWORD,
            "password-repeat_password": NEW_PASSWORD,
        },
    )
    assert resp.status_code == 302
    # the person stays logged in, with a new token in the cookie
    new_token = token_in(laptop)
    assert new_token and new_token != old_token
    page = laptop.get(_home(side))
    assert page.status_code == 200
    assert "You were logged out on 1 other device." in page.get_data(as_text=True)
    # a copy of the old cookie, and the other device, are refused
    assert _sent_to_login(browser_with(laptop.app, stolen).get(_home(side)), side)
    assert _sent_to_login(phone.get(_home(side)), side)
    old_row = db_session.get(LoginSession, session_key(old_token))
    db_session.refresh(old_row)
    assert old_row.revoked_at is not None
    renewed = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "account.session_renewed")
    ).all()
    assert [e.object_id for e in renewed] == [str(user.id)]
    assert renewed[0].after == {"side": side, "reason": "password_changed"}


# --- the person's sessions end when their roles change ----------------------------------------


def test_a_role_change_ends_the_persons_sessions(make_client, factory):
    admin = factory.staff("admin")
    engineer = factory.staff("engineer", name="周琳")
    admin_client, their_client = make_client(), make_client()
    admin_client.login(admin)
    their_client.login(engineer)
    assert their_client.get("/staff/account").status_code == 200

    resp = admin_client.post(
        f"/staff/admin/staff/{engineer.id}",
        data={"name": "周琳", "roles": ["engineer", "supervisor"], "level": "", "locale": "en"},
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:400]
    assert _sent_to_login(their_client.get("/staff/account"), "staff")
    # the admin's own session is not touched; the person logs in again under the new roles
    assert admin_client.get("/staff/account").status_code == 200
    their_client.login(engineer)
    assert their_client.get("/staff/account").status_code == 200


def test_a_change_of_details_alone_keeps_the_sessions(make_client, factory):
    admin = factory.staff("admin")
    engineer = factory.staff("engineer", name="周琳")
    admin_client, their_client = make_client(), make_client()
    admin_client.login(admin)
    their_client.login(engineer)
    admin_client.post(
        f"/staff/admin/staff/{engineer.id}",
        data={"name": "周琳琳", "roles": ["engineer"], "level": "", "locale": "en"},
    )
    assert their_client.get("/staff/account").status_code == 200


# --- the idle timeout -------------------------------------------------------------------------


@pytest.mark.parametrize("side, idle_hours", [("staff", 8), ("customer", 24)])
def test_an_unused_session_ends_after_the_idle_timeout(make_client, factory, side, idle_hours):
    user = _person(factory, side)
    browser = make_client()
    browser.login(user)
    start = utcnow()
    # used now and then, it lives on past the idle timeout
    with freeze_time(start + timedelta(hours=idle_hours - 1)):
        assert browser.get(_home(side)).status_code == 200
    with freeze_time(start + timedelta(hours=2 * idle_hours - 2)):
        assert browser.get(_home(side)).status_code == 200
    # left alone longer than the timeout, it is over
    with freeze_time(start + timedelta(hours=3 * idle_hours)):
        assert _sent_to_login(browser.get(_home(side)), side)


def test_a_staff_session_idles_out_sooner_than_a_customers(make_client, factory):
    staff, customer = factory.staff("agent"), factory.customer()
    desk, home = make_client(), make_client()
    desk.login(staff)
    home.login(customer)
    with freeze_time(utcnow() + timedelta(hours=9)):
        assert _sent_to_login(desk.get("/staff/account"), "staff")
        assert home.get("/account").status_code == 200


def test_the_idle_timeouts_are_settings(app, make_client, factory, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_CUSTOMER_HOURS", 1)
    browser = make_client()
    browser.login(factory.customer())
    with freeze_time(utcnow() + timedelta(minutes=61)):
        assert _sent_to_login(browser.get("/account"), "customer")


def test_the_absolute_age_still_ends_a_busy_session(app, make_client, factory, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_SESSION_MAX_AGE", 3 * 3600)
    browser = make_client()
    browser.login(factory.customer())
    start = utcnow()
    for minutes in (60, 120, 170):
        with freeze_time(start + timedelta(minutes=minutes)):
            assert browser.get("/account").status_code == 200
    with freeze_time(start + timedelta(minutes=181)):
        assert _sent_to_login(browser.get("/account"), "customer")


def test_the_last_use_is_written_to_redis_at_most_once_a_minute(app, make_client, factory):
    browser = make_client()
    browser.login(factory.customer())
    key = session_seen.KEY + session_key(token_in(browser))
    redis = Redis.from_url(app.config["REDIS_URL"])
    start = utcnow()
    with freeze_time(start + timedelta(seconds=5)):
        browser.get("/account")
    first = redis.get(key)
    assert first is not None
    with freeze_time(start + timedelta(seconds=50)):
        browser.get("/account")
    assert redis.get(key) == first
    with freeze_time(start + timedelta(seconds=70)):
        browser.get("/account")
    assert redis.get(key) != first


# --- the list of one's sessions ---------------------------------------------------------------


def _session_ids(page: str) -> list[str]:
    return re.findall(r'name="end-session_id" value="([0-9a-f]{64})"', page)


@pytest.mark.parametrize("side", ["customer", "staff"])
def test_end_one_session_from_the_list(make_client, factory, db_session, side):
    user = _person(factory, side)
    desk, phone = make_client(), make_client()
    desk.login(user)
    phone.login(user)
    page = desk.get(_home(side)).get_data(as_text=True)
    assert "Last active" in page and "End this session" in page
    phone_id = session_key(token_in(phone))
    assert set(_session_ids(page)) == {phone_id, session_key(token_in(desk))}

    resp = desk.post(_home(side) + "/sessions/end", data={"end-session_id": phone_id})
    assert resp.status_code == 302 and urlsplit(resp.location).path == _home(side)
    assert _sent_to_login(phone.get(_home(side)), side)
    assert desk.get(_home(side)).status_code == 200
    assert _session_ids(desk.get(_home(side)).get_data(as_text=True)) == [
        session_key(token_in(desk))
    ]
    [ended] = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "account.session_ended")
    ).all()
    assert ended.actor_id == user.id


def test_ending_this_session_logs_out(make_client, factory):
    user = factory.customer()
    browser = make_client()
    browser.login(user)
    resp = browser.post(
        "/account/sessions/end", data={"end-session_id": session_key(token_in(browser))}
    )
    assert _sent_to_login(resp, "customer")
    assert _sent_to_login(browser.get("/account"), "customer")


def test_nobody_ends_anothers_session(make_client, factory, db_session):
    mine, theirs = factory.customer(), factory.customer()
    me, them = make_client(), make_client()
    me.login(mine)
    them.login(theirs)
    resp = me.post("/account/sessions/end", data={"end-session_id": session_key(token_in(them))})
    assert resp.status_code == 302
    assert them.get("/account").status_code == 200
    assert not db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "account.session_ended")
    ).all()


def test_ending_a_session_needs_the_csrf_token_and_a_well_formed_id(make_client, factory):
    browser = make_client()
    browser.login(factory.customer())
    own = session_key(token_in(browser))
    assert (
        browser.post("/account/sessions/end", data={"end-session_id": own}, csrf=False).status_code
        == 400
    )
    assert (
        browser.post("/account/sessions/end", data={"end-session_id": "x\x00y"}).status_code == 400
    )
    assert browser.get("/account").status_code == 200


def test_idle_sessions_are_not_listed(make_client, factory):
    user = factory.staff("agent")
    old, new = make_client(), make_client()
    old.login(user)
    with freeze_time(utcnow() + timedelta(hours=9)):
        new.login(user)
        page = new.get("/staff/account").get_data(as_text=True)
        assert _session_ids(page) == [session_key(token_in(new))]
