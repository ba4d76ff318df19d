"""The password policy (portal/domain/password_policy.py) at every door a password comes in by,
and the strength meter beside the new-password fields."""

from __future__ import annotations

import re
from html import unescape

import pytest
from argon2 import PasswordHasher

from portal import demo, security
from portal.domain import password_policy as policy
from portal.models import utcnow
from portal.services import accounts, invitations
from portal.services.audit import Actor
from tests.conftest import CHEAP_HASH
from tests.factories import PASSWORD
from tests.test_get_writes import recorded_writes

GOOD = "Copper-Kite-Field-2026"


# --- the rule --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password, reason",
    [
        ("Kite-Field-7", None),  # twelve characters, not common: accepted
        ("Kite-Field7", policy.TOO_SHORT),
        ("x" * 201, policy.TOO_LONG),
        ("password1234", policy.COMMON),
        ("1qaz2wsx3edc", policy.COMMON),
        ("aaaaaaaaaaaa", policy.GUESSABLE),
        ("123456789012", policy.GUESSABLE),
        ("Li-Ming-loves-tea", policy.CONTAINS_NAME),
        ("my-LIMING-tea-cup", policy.CONTAINS_NAME),
        ("王芳的茶杯和风筝2026", policy.CONTAINS_NAME),
        ("tea-for-acme.lm-9", policy.CONTAINS_EMAIL),
    ],
)
def test_the_policy_gives_its_reasons(password, reason):
    name = "王芳" if "王" in password else "Li Ming"
    found = policy.problems(password, name=name, email="acme.lm@acme.example.com")
    if reason is None:
        assert found == []
    else:
        assert reason in found


def test_a_short_syllable_of_a_name_is_not_refused():
    # "Li" is in many words; "Ming" and "LiMing" are the name
    assert policy.problems("reliable-kite-field", name="Li Ming", email="lm@x.example") == []


def test_the_demo_password_passes_for_every_demo_person():
    from portal.demo.people import CUSTOMERS, STAFF

    for person in (*CUSTOMERS, *STAFF):
        assert policy.problems(demo.DEMO_PASSWORD, name=person.name, email=person.email) == []


def test_an_account_made_by_a_service_obeys_the_policy(db_session, factory):
    org = factory.organisation()
    with pytest.raises(accounts.PasswordRefused) as refused:
        accounts.create_account(
            db_session,
            kind="customer",
            email="zhao.lei@example.com",
            name="Zhao Lei",
            password="zhao.lei-2026!",
            organisation_id=org.id,
        )
    assert refused.value.problems == [policy.CONTAINS_NAME, policy.CONTAINS_EMAIL]


# --- the doors --------------------------------------------------------------------------------


def _errors(resp) -> list[str]:
    html = resp.get_data(as_text=True)
    return [unescape(m).strip() for m in re.findall(r'class="field-error"[^>]*>(.*?)</p>', html)]


def _change(client, side, new):
    url = "/staff/account/password" if side == "staff" else "/account/password"
    return client.post(
        url,
        data={
            "password-current_password": PASSWORD,
            "password-new_password": new,
            "password-repeat_password": new,
        },
    )


@pytest.mark.parametrize("side", ["customer", "staff"])
def test_changing_the_password_refuses_what_the_policy_refuses(client, factory, db_session, side):
    user = (
        factory.customer(name="Chen Jing", email="chen.jing@example.com")
        if side == "customer"
        else factory.staff("agent", name="Chen Jing", email="chen.jing@desk.example.com")
    )
    client.login(user)
    old_hash = user.password_hash
    cases = {
        "password1234": ["This is one of the most common passwords. Choose another one."],
        "Chen-Jing-2026-tea": [
            "The password must not contain your name.",
            "The password must not contain your e-mail address.",
        ],
        "qwertyuiopas": [
            "This password is easy to guess (a common word, a sequence or a repeat). "
            "Add more words or characters."
        ],
    }
    for new, messages in cases.items():
        resp = _change(client, side, new)
        assert resp.status_code == 422
        assert _errors(resp) == messages
        # what was typed elsewhere on the page is kept: the field is still there, nothing saved
    db_session.refresh(user)
    assert user.password_hash == old_hash
    assert _change(client, side, GOOD).status_code == 302


def test_the_reasons_are_in_chinese_for_a_chinese_reader(client, factory):
    user = factory.customer(locale="zh_CN")
    client.login(user)
    resp = _change(client, "customer", "password1234")
    assert resp.status_code == 422
    assert _errors(resp) == ["这是最常见的密码之一，请换一个。"]


def test_a_password_link_refuses_the_persons_own_name(make_client, factory, db_session):
    contact = factory.customer(name="Sun Wei", email="sun.wei@example.com")
    now = utcnow()
    invitations.invite(db_session, contact, actor=Actor(None), now=now)
    db_session.commit()
    token = invitations.make_token(contact, "invitation", now)
    path = invitations.link_path("customer", "invitation", token)
    browser = make_client()
    resp = browser.post(
        path, data={"new_password": "SunWei-1988-go", "repeat_password": "SunWei-1988-go"}
    )
    assert resp.status_code == 422
    assert "The password must not contain your name." in _errors(resp)
    # nothing changed: the link still works, and a good password is taken
    assert browser.get(path).status_code == 200
    ok = browser.post(path, data={"new_password": GOOD, "repeat_password": GOOD})
    assert ok.status_code == 302


# --- the strength meter -----------------------------------------------------------------------


def _meter(resp) -> str:
    html = resp.get_data(as_text=True)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.mark.parametrize("side", ["customer", "staff"])
def test_the_meter_judges_as_one_types_against_the_persons_name(client, factory, app, side):
    user = (
        factory.customer(name="Chen Jing")
        if side == "customer"
        else factory.staff("agent", name="Chen Jing")
    )
    client.login(user)
    url = "/staff/password/strength" if side == "staff" else "/password/strength"
    engine = app.extensions["portal_db"].engine
    headers = {"HX-Request": "true"}
    with recorded_writes(engine) as writes:
        weak = client.post(url, data={"password-new_password": "aaaa"}, headers=headers)
        named = client.post(
            url, data={"password-new_password": "chenjing-rocks-7"}, headers=headers
        )
        strong = client.post(url, data={"password-new_password": GOOD}, headers=headers)
    assert writes == []
    assert weak.status_code == 200 and weak.headers["Cache-Control"] == "no-store"
    assert "Strength: Very weak" in _meter(weak)
    assert "Use at least 12 characters." in _meter(weak)
    assert "The password must not contain your name." in _meter(named)
    assert "Strength: Very strong" in _meter(strong)
    assert "This password can be used." in _meter(strong)
    # a meter: a value and words, never a colour alone
    assert 'value="4"' in strong.get_data(as_text=True)


def test_the_meter_needs_the_csrf_token(client, factory):
    client.login(factory.customer())
    resp = client.post("/password/strength", data={"password-new_password": "x"}, csrf=False)
    assert resp.status_code == 400


def test_the_meter_speaks_chinese(client, factory):
    client.login(factory.customer(locale="zh_CN"))
    resp = client.post("/password/strength", data={"password-new_password": GOOD})
    assert "强度：非常强" in _meter(resp)


def test_the_meter_on_a_link_page_knows_the_links_account_and_only_it(
    make_client, factory, db_session
):
    contact = factory.customer(name="Sun Wei")
    now = utcnow()
    invitations.invite(db_session, contact, actor=Actor(None), now=now)
    db_session.commit()
    token = invitations.make_token(contact, "invitation", now)
    browser = make_client()
    page = browser.get(invitations.link_path("customer", "invitation", token))
    html = page.get_data(as_text=True)
    assert 'hx-post="/password/strength"' in html and 'id="password-strength"' in html
    data = {"new_password": "sunwei-kite-field", "link": token, "verb": "set"}
    assert "must not contain your name" in _meter(browser.post("/password/strength", data=data))
    # a forged link tells nothing about anyone: the name is not checked
    forged = browser.post("/password/strength", data={**data, "link": token[:-3] + "abc"})
    assert forged.status_code == 200
    assert "must not contain your name" not in _meter(forged)


def test_the_account_page_shows_the_meter_beside_the_new_password(client, factory):
    client.login(factory.staff("agent"))
    html = client.get("/staff/account").get_data(as_text=True)
    assert 'hx-post="/staff/password/strength"' in html
    assert 'hx-params="password-new_password"' in html
    assert 'aria-describedby="password-strength"' in html


# --- rehash on login --------------------------------------------------------------------------


def test_a_login_rehashes_a_password_stored_under_old_parameters(client, factory, db_session):
    user = factory.customer()
    older = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    user.password_hash = older.hash(PASSWORD)
    db_session.commit()
    assert security.needs_rehash(user.password_hash)
    client.login(user)
    db_session.refresh(user)
    assert not security.needs_rehash(user.password_hash)
    assert f"m={CHEAP_HASH['memory_cost']},t={CHEAP_HASH['time_cost']}" in user.password_hash
    assert security.verify_password(user.password_hash, PASSWORD)


def test_the_meter_takes_control_characters_and_oversized_input_without_failing(client, factory):
    client.login(factory.customer())
    for typed in ("Kite\x00Field-2026", "x" * 100_000, "\u202eKite-Field-2026"):
        resp = client.post("/password/strength", data={"password-new_password": typed})
        assert resp.status_code in (200, 400, 413, 422), resp.status_code
