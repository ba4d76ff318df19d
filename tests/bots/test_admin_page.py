"""The group bots' administration at /staff/admin/bots: admins list, add, edit (an empty
secret keeps the stored one, which is never shown), deactivate and send a test message through
the outbox; every change audited; bad input answered with its error and nothing written;
supervisors and other staff kept out; both languages."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, EmailOutbox, GroupBot

PAGE = "/staff/admin/bots"
SECRET = "SECd4f3c2b1a0e9f8d7c6b5a4"


@pytest.fixture
def admin(make_client, factory):
    client = make_client()
    client.login(factory.staff("admin"))
    return client


def _form(receiver, **kw) -> dict:
    data = {
        "name": "值班群",
        "platform": "dingtalk",
        "webhook_url": f"{receiver.url}/robot/send?access_token=tok",
        "secret": SECRET,
        "events": ["sla_escalation", "new_p1"],
        "language": "zh_CN",
    }
    data.update(kw)
    return data


def _bots(db_session) -> list[GroupBot]:
    db_session.expire_all()
    return list(db_session.scalars(select(GroupBot).order_by(GroupBot.id)))


def _audits(db_session, action: str) -> list[AuditEvent]:
    return list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_the_page_is_linked_from_the_administration_and_lists_nothing_yet(admin, bot_config):
    index = admin.get("/staff/admin/").get_data(as_text=True)
    assert 'href="/staff/admin/bots"' in index
    body = admin.get(PAGE).get_data(as_text=True)
    assert "No group bots yet." in body and "New group bot" in body


def test_an_added_bot_is_listed_audited_and_its_secret_never_shown(
    admin, db_session, receiver, bot_config
):
    resp = admin.post(PAGE, data=_form(receiver))
    assert resp.status_code == 302
    (bot,) = _bots(db_session)
    assert (bot.name, bot.platform, bot.secret, bot.language, bot.active) == (
        "值班群",
        "dingtalk",
        SECRET,
        "zh_CN",
        True,
    )
    assert bot.events == ["sla_escalation", "new_p1"]
    (created,) = _audits(db_session, "group_bot.created")
    # neither the secret nor the webhook's token in the audit log
    assert SECRET not in str(created.after) and "tok" not in str(created.after)
    assert created.after["secret_set"] is True and created.after["webhook_host"] == "127.0.0.1"
    listing = admin.get(PAGE).get_data(as_text=True)
    assert "值班群" in listing and "DingTalk (钉钉)" in listing and "Active" in listing
    page = admin.get(f"{PAGE}/{bot.id}").get_data(as_text=True)
    assert SECRET not in page and "A secret is stored (not shown)." in page
    audit_page = admin.get("/staff/admin/audit").get_data(as_text=True)
    assert "created group bot 值班群" in html.unescape(audit_page)


def test_editing_with_an_empty_secret_keeps_it_and_a_new_one_replaces_it(
    admin, db_session, receiver, bot_config
):
    admin.post(PAGE, data=_form(receiver))
    (bot,) = _bots(db_session)
    resp = admin.post(
        f"{PAGE}/{bot.id}", data=_form(receiver, secret="", name="值班群 2", events=["sla_warning"])
    )
    assert resp.status_code == 302
    (bot,) = _bots(db_session)
    assert (bot.name, bot.secret, bot.events) == ("值班群 2", SECRET, ["sla_warning"])
    (updated,) = _audits(db_session, "group_bot.updated")
    assert updated.before == {"name": "值班群", "events": ["sla_escalation", "new_p1"]}
    admin.post(
        f"{PAGE}/{bot.id}",
        data=_form(receiver, secret="SECnew", name="值班群 2", events=["sla_warning"]),
    )
    (bot,) = _bots(db_session)
    assert bot.secret == "SECnew"
    last = _audits(db_session, "group_bot.updated")[-1]
    assert "SECnew" not in str(last.after) and SECRET not in str(last.before)
    # the secret removed on purpose
    admin.post(
        f"{PAGE}/{bot.id}",
        data=_form(receiver, secret="", clear_secret="y", name="值班群 2", events=["sla_warning"]),
    )
    assert _bots(db_session)[0].secret is None


@pytest.mark.parametrize(
    "field,value,error",
    [
        (
            "webhook_url",
            "http://oapi.dingtalk.com/robot/send?access_token=x",
            "The webhook address must start with https://.",
        ),
        ("webhook_url", "", "The webhook address must start with https://."),
        ("webhook_url", "https://", "This is not a webhook address"),
        ("name", "  ", "Give the bot a name."),
        ("platform", "slack", "Not a valid choice"),
        ("events", ["sla_warning", "everything"], "is not a valid choice"),
        ("language", "fr", "Not a valid choice"),
        ("name", "x" * 81, "At most 80 characters."),
    ],
)
def test_bad_input_is_refused_with_its_error_and_nothing_written(
    admin, db_session, receiver, bot_config, monkeypatch, field, value, error
):
    monkeypatch.setitem(bot_config, "GROUP_BOT_ALLOW_HTTP", False)  # production: https only
    data = _form(receiver, webhook_url="https://oapi.dingtalk.com/robot/send?access_token=t")
    data[field] = value
    resp = admin.post(PAGE, data=data)
    assert resp.status_code == 422
    body = html.unescape(resp.get_data(as_text=True))
    assert error in body, re.findall(r"field-error[^>]*>([^<]*)", body)
    assert SECRET not in body  # not even echoed back into the form
    if field != "name":
        assert 'value="值班群"' in body  # what was typed stays
    assert _bots(db_session) == []
    assert _audits(db_session, "group_bot.created") == []


def test_a_duplicate_name_is_refused(admin, db_session, receiver, bot_config):
    admin.post(PAGE, data=_form(receiver))
    resp = admin.post(PAGE, data=_form(receiver, platform="wecom"))
    assert resp.status_code == 422
    assert "A group bot of this name exists already." in resp.get_data(as_text=True)
    assert len(_bots(db_session)) == 1


def test_a_bad_edit_changes_nothing(admin, db_session, receiver, bot_config):
    admin.post(PAGE, data=_form(receiver))
    (bot,) = _bots(db_session)
    resp = admin.post(
        f"{PAGE}/{bot.id}", data=_form(receiver, webhook_url="ftp://x", name="新名字")
    )
    assert resp.status_code == 422
    assert 'value="新名字"' in resp.get_data(as_text=True)
    (bot,) = _bots(db_session)
    assert bot.name == "值班群" and bot.webhook_url.startswith(receiver.url)


def test_the_test_message_goes_through_the_outbox_and_says_it_was_delivered(
    admin, db_session, receiver, bot_config
):
    admin.post(PAGE, data=_form(receiver, language="en"))
    (bot,) = _bots(db_session)
    resp = admin.post(f"{PAGE}/{bot.id}/test")
    assert resp.status_code == 302
    page = admin.get(resp.location).get_data(as_text=True)
    assert "The test message was delivered to “值班群”." in html.unescape(page), re.findall(
        r"flash[^>]*>([^<]*)", page
    )
    (got,) = receiver.requests
    assert got.json["markdown"]["title"] == "Test message from the service desk"
    assert got.query["sign"] and got.query["timestamp"]
    row = db_session.scalar(select(EmailOutbox).where(EmailOutbox.bot_id == bot.id))
    assert (row.channel, row.status, row.attempts) == ("bot", "sent", 1)
    assert len(_audits(db_session, "group_bot.test_sent")) == 1


def test_a_refused_test_message_says_why_and_stays_for_a_retry(
    admin, db_session, receiver, bot_config
):
    admin.post(PAGE, data=_form(receiver, language="en"))
    (bot,) = _bots(db_session)
    receiver.answer((200, '{"errcode":310000,"errmsg":"keywords not in content"}'))
    resp = admin.post(f"{PAGE}/{bot.id}/test")
    page = html.unescape(admin.get(resp.location).get_data(as_text=True))
    assert "The test message was not delivered:" in page and "keywords not in content" in page
    row = db_session.scalar(select(EmailOutbox).where(EmailOutbox.bot_id == bot.id))
    db_session.refresh(row)
    assert (row.status, row.attempts) == ("pending", 1)


def test_deactivating_stops_the_messages_and_is_audited(
    admin, db_session, receiver, bot_config, factory
):
    admin.post(PAGE, data=_form(receiver))
    (bot,) = _bots(db_session)
    resp = admin.post(f"{PAGE}/{bot.id}/active", data={"active": "0"})
    assert resp.status_code == 302
    assert _bots(db_session)[0].active is False
    assert len(_audits(db_session, "group_bot.deactivated")) == 1
    factory.request(factory.customer(), urgency="P1")
    assert (
        db_session.scalar(
            select(func.count()).select_from(EmailOutbox).where(EmailOutbox.channel == "bot")
        )
        == 0
    )
    page = html.unescape(admin.get(PAGE).get_data(as_text=True))
    assert "Inactive" in page and "Reactivate" in page
    admin.post(f"{PAGE}/{bot.id}/active", data={"active": "1"})
    assert _bots(db_session)[0].active is True


def test_an_unknown_bot_is_404(admin, bot_config):
    assert admin.get(f"{PAGE}/999999").status_code == 404
    assert admin.post(f"{PAGE}/999999/test").status_code == 404


def test_without_the_csrf_token_nothing_is_written(admin, db_session, receiver, bot_config):
    resp = admin.post(PAGE, data=_form(receiver), csrf=False)
    assert resp.status_code == 400
    assert _bots(db_session) == []


@pytest.mark.parametrize("role", ["supervisor", "dispatcher", "engineer", "agent"])
def test_only_admins_enter(make_client, factory, role, bot_config):
    client = make_client()
    client.login(factory.staff(role))
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, data={"name": "x"}).status_code == 403
    if role == "supervisor":
        index = client.get("/staff/admin/").get_data(as_text=True)
        assert 'href="/staff/admin/bots"' not in index


def test_the_page_speaks_chinese(make_client, factory, bot_config):
    client = make_client()
    client.login(factory.staff("admin", locale="zh_CN"))
    body = client.get(PAGE).get_data(as_text=True)
    assert "群机器人" in body and "新建群机器人" in body and "签名密钥" in body
    assert "企业微信" in body and "钉钉" in body and "飞书" in body


def test_a_nul_in_any_bot_form_is_refused_and_saves_nothing(
    admin, db_session, receiver, bot_config
):
    admin.post(PAGE, data=_form(receiver))
    (bot,) = _bots(db_session)
    before = (bot.name, bot.webhook_url, bot.secret, bot.active, bot.updated_at)
    for url, data in [
        (PAGE, _form(receiver, name="新\x00群")),
        (f"{PAGE}/{bot.id}", _form(receiver, name="值班\x00群")),
        (f"{PAGE}/{bot.id}", _form(receiver, secret="SEC\x00x")),
        (f"{PAGE}/{bot.id}/active", {"active": "0\x00"}),
        (f"{PAGE}/{bot.id}/test", {"x": "\x00"}),
    ]:
        resp = admin.post(url, data=data)
        assert resp.status_code in (400, 422), (url, resp.status_code)
    (bot,) = _bots(db_session)
    assert (bot.name, bot.webhook_url, bot.secret, bot.active, bot.updated_at) == before
    assert receiver.requests == []
