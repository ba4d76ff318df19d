"""Reading a raw mail: the reply's own words, text from HTML, the safe HTML."""

from __future__ import annotations

import pytest

from portal.services.inbound.parse import Unusable, html_to_text, parse, sanitise_html, trim_reply
from tests.inbound.mails import mail


@pytest.mark.parametrize(
    ("text", "own"),
    [
        ("Fine.\n\nOn Mon, 1 Dec 2026 at 10:00, Desk <d@desk.example> wrote:\n> old\n", "Fine."),
        (
            "好的，谢谢。\n\n在 2026年12月1日 10:00，服务台 <d@desk.example> 写道：\n> 旧\n",
            "好的，谢谢。",
        ),
        (
            "已经恢复了。\n\n发件人: 服务台 <d@desk.example>\n发送时间: 2026年12月1日 10:00\n"
            "收件人: 李明\n主题: 打印机\n\n您的请求已登记。\n",
            "已经恢复了。",
        ),
        ("OK now\n\n-- \nZhang Wei\nACME Ltd.\n", "OK now"),
        ("Top\n-----Original Message-----\nFrom: x\n", "Top"),
        ("> only a quote\n> nothing new\n", "> only a quote\n> nothing new"),
    ],
)
def test_the_reply_s_own_words(text, own):
    assert trim_reply(text) == own


def test_text_from_html_and_the_safe_html():
    markup = '<p onclick="x()">Hi <a href="javascript:alert(1)">there</a></p><script>bad()</script>'
    assert html_to_text(markup) == "Hi there"
    safe = sanitise_html(markup)
    assert "script" not in safe and "onclick" not in safe and "javascript" not in safe


def test_a_mail_s_sender_subject_and_attachments():
    raw = mail(
        "Li Ming <Li.Ming@Customer.Example>",
        "打印机  无法打印",
        "body",
        attachments=[("a.txt", b"x", "text/plain")],
    )
    parsed = parse(raw, 10**6)
    assert parsed.sender == "li.ming@customer.example"
    assert parsed.subject == "打印机 无法打印"
    assert b"=?utf-8?" in raw  # the subject travelled as encoded words
    assert [a.filename for a in parsed.attachments] == ["a.txt"]


def test_too_large_and_malformed():
    with pytest.raises(Unusable) as big:
        parse(b"x" * 11, 10)
    assert (big.value.status, big.value.reason) == ("refused", "too large")
    with pytest.raises(Unusable) as broken:
        parse(b"Content-Type: multipart/mixed\r\n\r\nno boundary\r\n", 10**6)
    assert broken.value.status == "unreadable"


def test_text_in_an_unknown_charset_is_unreadable():
    raw = (
        b"From: a@b.example\r\nSubject: x\r\nContent-Type: text/plain; charset=x-no-such\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n\xff\xfe hello\r\n"
    )
    with pytest.raises(Unusable) as unknown:
        parse(raw, 10**6)
    assert (unknown.value.status, unknown.value.reason) == (
        "unreadable",
        "undecodable text (LookupError)",
    )
