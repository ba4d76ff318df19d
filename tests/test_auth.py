"""Logins, sessions, throttling, CSRF, redirects and password storage, as a browser sees them."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from flask import session as flask_session
from sqlalchemy import select

from portal.models import AuditEvent, LoginSession
from portal.services.accounts import session_key
from tests.conftest import PortalClient
from tests.factories import PASSWORD

NEW_PASSWORD = "a-much-longer-passphrase"


def english(client):
    """Messages are compared in English; the default language is Chinese."""
    client.http.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def from_ip(client, ip: str):
    client.http.environ_base["REMOTE_ADDR"] = ip
    return client


def login_url(side: str) -> str:
    return "/staff/login" if side == "staff" else "/login"


def account_url(side: str) -> str:
    return "/staff/account" if side == "staff" else "/account"


def attempt(client, side: str, identifier: str, password: str, **kwargs):
    return client.post(
        login_url(side), data={"identifier": identifier, "password": password}, **kwargs
    )


def alert(resp) -> str:
    """The text of the form's error message (role=alert)."""
    m = re.search(r'role="alert">(.*?)</div>', resp.get_data(as_text=True), re.S)
    assert m, resp.get_data(as_text=True)[:800]
    return unescape(m.group(1)).strip()


def field_errors(resp) -> list[str]:
    return [
        unescape(m).strip()
        for m in re.findall(r'class="field-error"[^>]*>(.*?)</p>', resp.get_data(as_text=True))
    ]


def session_cookie(client) -> str:
    cookie = client.http.get_cookie("session")
    assert cookie is not None
    return cookie.value


def browser_with(app, cookie_value: str):
    """A second browser that presents a copied session cookie."""
    other = PortalClient(app)
    other.http.set_cookie("session", cookie_value)
    return other


def token_in(client) -> str | None:
    with client.http.session_transaction() as sess:
        return sess.get("_user_id")


def assert_sent_to_login(resp, side: str) -> None:
    assert resp.status_code == 302, resp.status_code
    assert urlsplit(resp.location).path == login_url(side)


# --- sessions end when they should -------------------------------------------------------------


@pytest.mark.parametrize("side", ["customer", "staff"])
def test_copied_cookie_is_refused_after_logout(client, factory, side):
    user = factory.customer() if side == "customer" else factory.staff("agent")
    client.login(user)
    assert client.get(account_url(side)).status_code == 200
    copied = session_cookie(client)
    # before logout, the copy works: it is the same session
    assert browser_with(client.app, copied).get(account_url(side)).status_code == 200

    resp = client.post("/staff/logout" if side == "staff" else "/logout")
    assert_sent_to_login(resp, side)

    assert_sent_to_login(browser_with(client.app, copied).get(account_url(side)), side)
    assert_sent_to_login(client.get(account_url(side)), side)


def test_copied_cookie_is_refused_after_password_change_elsewhere(make_client, factory):
    user = factory.customer()
    laptop, phone = make_client(), make_client()
    laptop.login(user)
    phone.login(user)
    copied = session_cookie(phone)

    resp = laptop.post(
        "/account/password",
        data={
            "password-current_password": PASSWORD,
            "password-new_password": NEW_PASSWORD,
            "password-repeat_password": NEW_PASSWORD,
        },
    )
    assert resp.status_code == 302 and urlsplit(resp.location).path == "/account"

    # the session that changed the password goes on; the other one and any copy of it end
    assert laptop.get("/account").status_code == 200
    assert_sent_to_login(phone.get("/account"), "customer")
    assert_sent_to_login(browser_with(laptop.app, copied).get("/account"), "customer")
    # the new password is the one that works now
    fresh = english(make_client())
    assert attempt(fresh, "customer", user.email, PASSWORD).status_code == 401
    assert attempt(fresh, "customer", user.email, NEW_PASSWORD).status_code == 302


def test_password_change_errors_are_inline_and_change_nothing(client, factory, db_session):
    user = factory.customer()
    english(client).login(user)
    old_hash = user.password_hash

    cases = [
        ("wrong-current-pass", NEW_PASSWORD, NEW_PASSWORD, "The current password is not correct."),
        (PASSWORD, "Short-Pass1", "Short-Pass1", "Use at least 12 characters."),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "The two new passwords are not the same."),
    ]
    for current, new, repeat, message in cases:
        resp = client.post(
            "/account/password",
            data={
                "password-current_password": current,
                "password-new_password": new,
                "password-repeat_password": repeat,
            },
        )
        assert resp.status_code == 422
        assert field_errors(resp) == [message]
    db_session.refresh(user)
    assert user.password_hash == old_hash


def test_password_change_errors_follow_the_users_language(client, factory):
    user = factory.customer(locale="zh_CN")
    client.login(user)
    zh = client.post(
        "/account/password",
        data={
            "password-current_password": "wrong-current-pass",
            "password-new_password": NEW_PASSWORD,
            "password-repeat_password": NEW_PASSWORD,
        },
    )
    client.post("/account/profile", data={"profile-name": user.name, "profile-locale": "en"})
    en = client.post(
        "/account/password",
        data={
            "password-current_password": "wrong-current-pass",
            "password-new_password": NEW_PASSWORD,
            "password-repeat_password": NEW_PASSWORD,
        },
    )
    assert field_errors(en) == ["The current password is not correct."]
    assert 'lang="en"' in en.get_data(as_text=True)
    assert 'lang="zh-CN"' in zh.get_data(as_text=True)
    assert len(field_errors(zh)) == 1


@pytest.mark.parametrize("side", ["customer", "staff"])
def test_log_out_everywhere_ends_every_session(make_client, factory, side):
    user = factory.customer() if side == "customer" else factory.staff("engineer")
    first, second = make_client(), make_client()
    first.login(user)
    second.login(user)
    copied = session_cookie(first)

    resp = first.post(account_url(side) + "/logout-everywhere")
    assert_sent_to_login(resp, side)
    for browser in (first.http, second.http, browser_with(first.app, copied)):
        assert_sent_to_login(browser.get(account_url(side)), side)


def test_log_out_everywhere_needs_the_csrf_token(client, factory):
    user = factory.customer()
    client.login(user)
    assert client.post("/account/logout-everywhere", csrf=False).status_code == 400
    assert client.get("/account").status_code == 200


def test_account_page_lists_active_sessions_and_marks_this_one(make_client, factory, db_session):
    user = factory.customer()
    desk = english(make_client())
    desk.http.environ_base["HTTP_USER_AGENT"] = "DeskBrowser/1.0"
    from_ip(desk, "10.0.0.7").login(user)
    mobile = make_client()
    mobile.http.environ_base["HTTP_USER_AGENT"] = "PhoneBrowser/2.0"
    from_ip(mobile, "10.0.0.8").login(user)
    gone = make_client()
    gone.http.environ_base["HTTP_USER_AGENT"] = "OldBrowser/0.1"
    gone.login(user)
    gone.post("/logout")

    page = desk.get("/account").get_data(as_text=True)
    rows = re.findall(r"<tr( class=\"current-session\")?>(.*?)</tr>", page, re.S)[1:]
    assert len(rows) == 2
    marked = {("DeskBrowser/1.0" in body): bool(cls) for cls, body in rows}
    assert marked == {True: True, False: False}
    assert "10.0.0.7" in page and "10.0.0.8" in page and "PhoneBrowser/2.0" in page
    assert "OldBrowser" not in page
    assert page.count("This session") >= 2  # the header cell and the one marked row


def test_profile_saves_name_and_language(client, factory, db_session):
    user = factory.customer(locale="zh_CN")
    client.login(user)
    resp = client.post(
        "/account/profile", data={"profile-name": "  王小明 ", "profile-locale": "en"}
    )
    assert resp.status_code == 302
    db_session.refresh(user)
    assert (user.name, user.locale) == ("王小明", "en")
    page = client.get("/account").get_data(as_text=True)
    assert '<html lang="en">' in page and "王小明" in page

    bad = client.post("/account/profile", data={"profile-name": "x", "profile-locale": "fr"})
    assert bad.status_code == 422
    db_session.refresh(user)
    assert user.locale == "en"


# --- login ---------------------------------------------------------------------------------------


def test_login_starts_a_new_session(client, factory, db_session):
    user = factory.customer()
    with client.http.session_transaction() as sess:
        sess["planted"] = "by someone else"
        sess["_user_id"] = "forged-token"
    client.login(user)
    with client.http.session_transaction() as sess:
        assert "planted" not in sess
        first = sess["_user_id"]
    assert first != "forged-token"
    client.post("/logout")
    client.login(user)
    second = token_in(client)
    assert second and second != first

    rows = db_session.scalars(
        select(LoginSession)
        .where(LoginSession.account_id == user.id)
        .order_by(LoginSession.created_at)
    ).all()
    assert [r.id for r in rows] == [session_key(first), session_key(second)]
    assert rows[0].revoked_at is not None and rows[1].revoked_at is None
    # the table holds a digest, not the token the cookie carries
    assert first not in {r.id for r in rows}


def test_login_keeps_the_chosen_language(client, factory):
    user = factory.customer()
    client.post("/language", data={"locale": "en", "next": "/login"})
    client.login(user)
    assert '<html lang="en">' in client.get("/account").get_data(as_text=True)


def test_login_on_the_other_side_ends_the_first_session(client, factory, db_session):
    customer = factory.customer()
    staff = factory.staff("agent", email=None)
    client.login(customer)
    customer_token = token_in(client)
    client.login(staff)
    assert client.get("/staff/account").status_code == 200
    assert client.get("/account").status_code == 403
    row = db_session.get(LoginSession, session_key(customer_token))
    db_session.refresh(row)
    assert row.revoked_at is not None


@pytest.mark.parametrize("side", ["customer", "staff"])
def test_wrong_password_and_unknown_account_look_the_same(client, factory, side):
    user = factory.customer() if side == "customer" else factory.staff("agent")
    english(client)
    wrong = attempt(client, side, user.email, "not-the-password")
    unknown = attempt(client, side, "nobody-here@example.com", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert alert(wrong) == alert(unknown) == "The e-mail, mobile number or password is not correct."
    assert token_in(client) is None


def test_login_by_mobile_number(client, factory):
    user = factory.customer(phone="13912345678")
    resp = attempt(client, "customer", "13912345678", PASSWORD)
    assert resp.status_code == 302
    assert client.get("/account").status_code == 200
    assert token_in(client) is not None and user.id


def test_accounts_log_in_only_on_their_own_side(client, factory):
    customer = factory.customer()
    staff = factory.staff("supervisor")
    english(client)
    generic = "The e-mail, mobile number or password is not correct."

    on_staff = attempt(client, "staff", customer.email, PASSWORD)
    on_customer = attempt(client, "customer", staff.email, PASSWORD)
    assert on_staff.status_code == on_customer.status_code == 401
    assert alert(on_staff) == alert(on_customer) == generic
    assert token_in(client) is None


@pytest.mark.parametrize("known", [True, False], ids=["known-account", "unknown-account"])
def test_throttle_per_identity(client, factory, app, known):
    limit = app.config["LOGIN_LIMITS"]["per_account"]
    assert limit == 5
    user = factory.customer()
    identity = user.email if known else "no-such-person@example.com"
    english(client)
    for _ in range(limit):
        resp = attempt(client, "customer", identity, "wrong-password")
        assert resp.status_code == 401
    # now refused even with the right password, with the same answer for a stranger's address
    refused = attempt(client, "customer", identity, PASSWORD)
    assert refused.status_code == 429
    assert alert(refused).startswith("Too many failed attempts.")
    assert int(refused.headers["Retry-After"]) > 0
    assert token_in(client) is None
    # from another address, the same identity is still refused (the limit is per identity)
    other = english(from_ip(make_other(client), "192.0.2.10"))
    assert attempt(other, "customer", identity, PASSWORD).status_code == 429
    # other accounts are not affected
    someone = factory.customer()
    assert attempt(client, "customer", someone.email, PASSWORD).status_code == 302


def make_other(client):
    from tests.conftest import PortalClient

    return PortalClient(client.app)


def test_throttle_messages_are_the_same_for_known_and_unknown(client, factory, app):
    user = factory.customer()
    english(client)
    answers = []
    for identity in (user.email, "ghost@example.com"):
        for _ in range(app.config["LOGIN_LIMITS"]["per_account"]):
            attempt(client, "customer", identity, "wrong-password")
        resp = attempt(client, "customer", identity, "wrong-password")
        answers.append((resp.status_code, alert(resp)))
    assert answers[0] == answers[1]
    assert answers[0][0] == 429


def test_throttle_per_ip(client, factory, app):
    per_ip = app.config["LOGIN_LIMITS"]["per_ip"]
    user = factory.customer()
    english(from_ip(client, "198.51.100.23"))
    for n in range(per_ip):
        # a different identity each time: only the address limit can catch this
        assert attempt(client, "customer", f"guess{n}@example.com", "wrong").status_code == 401
    refused = attempt(client, "customer", user.email, PASSWORD)
    assert refused.status_code == 429
    assert alert(refused).startswith("Too many failed attempts.")
    # the same account from another address is let in
    elsewhere = from_ip(make_other(client), "198.51.100.99")
    assert attempt(elsewhere, "customer", user.email, PASSWORD).status_code == 302


def test_successful_login_clears_the_identity_count(client, factory, app):
    user = factory.customer()
    limit = app.config["LOGIN_LIMITS"]["per_account"]
    for _ in range(limit - 1):
        assert attempt(client, "customer", user.email, "wrong").status_code == 401
    assert attempt(client, "customer", user.email, PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(limit - 1):
        assert attempt(client, "customer", user.email, "wrong").status_code == 401
    assert attempt(client, "customer", user.email, PASSWORD).status_code == 302


# --- CSRF ----------------------------------------------------------------------------------------


def test_login_without_csrf_token_is_refused(client, factory):
    user = factory.customer()
    resp = attempt(client, "customer", user.email, PASSWORD, csrf=False)
    assert resp.status_code == 400
    assert token_in(client) is None
    resp = attempt(client, "staff", factory.staff("agent").email, PASSWORD, csrf=False)
    assert resp.status_code == 400


@pytest.mark.parametrize("side", ["customer", "staff"])
def test_logout_without_csrf_token_is_refused(client, factory, side):
    user = factory.customer() if side == "customer" else factory.staff("agent")
    client.login(user)
    logout = "/staff/logout" if side == "staff" else "/logout"
    assert client.post(logout, csrf=False).status_code == 400
    assert client.get(account_url(side)).status_code == 200  # still logged in


def test_htmx_post_with_csrf_header_is_accepted(client, factory, db_session):
    user = factory.customer()
    client.login(user)
    # what portal.js does: the token from the page's meta tag in the X-CSRFToken header
    page = client.get("/account").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    resp = client.post(
        "/account/profile",
        data={"profile-name": "Header Person", "profile-locale": "en"},
        csrf=False,
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert resp.status_code == 302
    db_session.refresh(user)
    assert user.name == "Header Person"
    # and the same request without the header is refused
    resp = client.post(
        "/account/profile",
        data={"profile-name": "Nobody", "profile-locale": "en"},
        csrf=False,
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 400


# --- redirects after login -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "https:/evil.example",
        "javascript:alert(1)",
    ],
)
def test_next_never_leaves_the_site(client, factory, target):
    user = factory.customer()
    resp = client.post(
        "/login",
        query_string={"next": target},
        data={"identifier": user.email, "password": PASSWORD},
    )
    assert resp.status_code == 302
    assert resp.location == "/"


def test_next_within_the_site_is_followed(client, factory):
    user = factory.staff("dispatcher")
    resp = client.post(
        "/staff/login",
        query_string={"next": "/staff/account?tab=sessions"},
        data={"identifier": user.email, "password": PASSWORD},
    )
    assert resp.status_code == 302 and resp.location == "/staff/account?tab=sessions"


def test_guard_sends_back_to_the_page_after_login(client, factory):
    user = factory.customer()
    resp = client.get("/account")
    assert_sent_to_login(resp, "customer")
    resp = client.post(resp.location, data={"identifier": user.email, "password": PASSWORD})
    assert resp.status_code == 302 and resp.location == "/account"


# --- stored passwords and records ----------------------------------------------------------------


def test_passwords_are_stored_as_argon2id(client, factory, db_session):
    customer = factory.customer()
    staff = factory.staff("admin")
    assert customer.password_hash.startswith("$argon2id$")
    assert staff.password_hash.startswith("$argon2id$")
    assert PASSWORD not in customer.password_hash
    client.login(customer)
    client.post(
        "/account/password",
        data={
            "password-current_password": PASSWORD,
            "password-new_password": NEW_PASSWORD,
            "password-repeat_password": NEW_PASSWORD,
        },
    )
    db_session.refresh(customer)
    assert customer.password_hash.startswith("$argon2id$")
    assert NEW_PASSWORD not in customer.password_hash


def test_account_changes_are_audited(client, factory, db_session):
    user = factory.customer()
    client.login(user)
    client.post(
        "/account/password",
        data={
            "password-current_password": PASSWORD,
            "password-new_password": NEW_PASSWORD,
            "password-repeat_password": NEW_PASSWORD,
        },
    )
    client.post("/account/logout-everywhere")
    events = db_session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "account", AuditEvent.object_id == str(user.id))
        .order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == [
        "account.logged_in",
        "account.password_changed",
        "account.session_renewed",
        "account.logged_out_everywhere",
    ]
    assert all(e.actor_id == user.id for e in events)
    for e in events:
        assert NEW_PASSWORD not in str(e.after) and "argon2" not in str(e.after)


def test_forged_cookie_carrying_a_real_token_is_ignored(app, factory, client):
    """The cookie is signed: a forged one carrying a real token is ignored."""
    user = factory.customer()
    client.login(user)
    token = token_in(client)
    from flask import Flask

    forger = Flask("forger")
    forger.secret_key = "not-the-secret"
    with forger.test_request_context():
        flask_session["_user_id"] = token
        forged = forger.session_interface.get_signing_serializer(forger).dumps(dict(flask_session))
    assert_sent_to_login(browser_with(app, forged).get("/account"), "customer")


def test_login_still_works_when_redis_is_down(app, client, factory):
    """Throttling needs Redis; without it logins go on (wrong passwords are still refused)."""
    from redis import Redis

    user = factory.customer()
    saved = app.extensions.get("portal_redis")
    app.extensions["portal_redis"] = Redis.from_url("redis://127.0.0.1:1/0")
    try:
        assert attempt(client, "customer", user.email, "wrong-password").status_code == 401
        assert attempt(client, "customer", user.email, PASSWORD).status_code == 302
        assert client.get("/account").status_code == 200
    finally:
        app.extensions["portal_redis"] = saved
