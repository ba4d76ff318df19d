"""The group bots' payloads, signatures and answers (portal/domain/group_bots.py): the
signatures recomputed here, independently, with hmac and hashlib as each platform documents."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import parse_qs, quote_plus, urlsplit

import pytest

from portal.domain import group_bots as gb

NOW = datetime(2026, 12, 4, 6, 30, 15, 123000, tzinfo=UTC)
MESSAGE = gb.Message(title="SLA warning SR-20261204-001", text="### SLA warning\n**P1** title")


def test_wecom_markdown_to_the_webhook_with_its_key():
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx"
    req = gb.webhook_request("wecom", url, "ignored", MESSAGE, NOW)
    assert req.url == url
    assert req.body == {"msgtype": "markdown", "markdown": {"content": MESSAGE.text}}


def test_dingtalk_markdown_signed_in_the_query():
    secret = "SEC000000000000000000000"
    url = "https://oapi.dingtalk.com/robot/send?access_token=abc123"
    req = gb.webhook_request("dingtalk", url, secret, MESSAGE, NOW)
    assert req.body == {
        "msgtype": "markdown",
        "markdown": {"title": MESSAGE.title, "text": MESSAGE.text},
    }
    query = parse_qs(urlsplit(req.url).query)
    ts = int(NOW.timestamp() * 1000)
    assert query["access_token"] == ["abc123"]
    assert query["timestamp"] == [str(ts)] and ts == 1796365815123
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    # parse_qs decodes once: the URL carried the url-encoded base64
    assert query["sign"] == [expected]
    assert f"sign={quote_plus(expected)}" in req.url


def test_dingtalk_without_a_secret_is_not_signed():
    req = gb.webhook_request(
        "dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=a", None, MESSAGE, NOW
    )
    assert "sign=" not in req.url and "timestamp=" not in req.url


def test_feishu_text_signed_in_the_body():
    secret = "demo-secret"
    url = "https://open.feishu.cn/open-apis/bot/v2/hook/xxxx"
    req = gb.webhook_request("feishu", url, secret, MESSAGE, NOW)
    ts = int(NOW.timestamp())
    expected = base64.b64encode(
        hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()
    ).decode()
    assert req.url == url
    assert req.body["msg_type"] == "text"
    assert req.body["timestamp"] == str(ts)
    assert req.body["sign"] == expected
    text = req.body["content"]["text"]
    assert text.startswith(MESSAGE.title) and "**" not in text and "###" not in text


def test_feishu_without_a_secret_has_no_signature():
    req = gb.webhook_request("feishu", "https://open.feishu.cn/x", "", MESSAGE, NOW)
    assert set(req.body) == {"msg_type", "content"}


def test_a_long_text_is_clipped_to_what_the_platforms_take():
    long = gb.Message("t", "长" * 5000)
    req = gb.webhook_request("wecom", "https://x.example/", None, long, NOW)
    assert len(req.body["markdown"]["content"].encode()) <= gb.TEXT_MAX_BYTES


@pytest.mark.parametrize(
    "platform,status,body,error",
    [
        ("wecom", 200, '{"errcode":0,"errmsg":"ok"}', None),
        ("dingtalk", 200, '{"errcode":0,"errmsg":"ok"}', None),
        ("feishu", 200, '{"code":0,"msg":"success"}', None),
        ("feishu", 200, '{"StatusCode":0,"StatusMessage":"success"}', None),
        (
            "wecom",
            200,
            '{"errcode":93000,"errmsg":"invalid webhook url"}',
            "code 93000: invalid webhook url",
        ),
        (
            "dingtalk",
            200,
            '{"errcode":310000,"errmsg":"sign not match"}',
            "code 310000: sign not match",
        ),
        ("feishu", 200, '{"code":19021,"msg":"sign match fail"}', "code 19021: sign match fail"),
        ("wecom", 500, "oops", "HTTP 500: oops"),
        ("feishu", 404, "", "HTTP 404"),
        ("dingtalk", 200, "<html>", "not JSON: <html>"),
    ],
)
def test_the_answer_is_read_per_platform(platform, status, body, error):
    assert gb.failure(platform, status, body) == error


@pytest.mark.parametrize(
    "url,problem",
    [
        ("https://oapi.dingtalk.com/robot/send?access_token=a", None),
        ("http://oapi.dingtalk.com/robot/send", "https"),
        ("ftp://x", "https"),
        ("https://", "host"),
        ("https://user@host/x", "host"),
        ("https://x.example/" + "a" * 600, "long"),
        ("", "https"),
    ],
)
def test_a_webhook_address_must_be_https(url, problem):
    assert gb.url_problem(url) == problem


def test_plain_http_only_when_allowed():
    assert gb.url_problem("http://127.0.0.1:8080/hook", allow_http=True) is None


def test_events_are_the_known_ones_in_order():
    assert gb.events_of(["new_p1", "bogus", "sla_warning"]) == ["sla_warning", "new_p1"]
