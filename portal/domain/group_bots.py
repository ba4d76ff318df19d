"""Group bots (docs/product.md "Group bots"): the webhook request each platform documents, its
signature, and how its answer is read. Pure: the clock and the secret are arguments.

- WeCom (企业微信) group robot: POST ``{"msgtype": "markdown", "markdown": {"content": …}}`` to
  the webhook URL (its ``key`` is in the URL); no signature.
- DingTalk (钉钉) custom robot: POST ``{"msgtype": "markdown", "markdown": {"title", "text"}}``;
  with a secret ("加签"), the URL carries ``timestamp`` (ms) and ``sign`` =
  urlencode(base64(HmacSHA256(key=secret, msg=f"{timestamp}\\n{secret}"))).
- Feishu (飞书) custom bot: POST ``{"msg_type": "text", "content": {"text": …}}``; with a secret
  ("签名校验"), the body carries ``timestamp`` (s) and ``sign`` =
  base64(HmacSHA256(key=f"{timestamp}\\n{secret}", msg=b"")).

An answer is a failure when its HTTP status is not 2xx, or its JSON says ``errcode`` ≠ 0
(WeCom, DingTalk) or ``code`` ≠ 0 (Feishu, older ones ``StatusCode``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit, urlunsplit


class Platform(StrEnum):
    WECOM = "wecom"
    DINGTALK = "dingtalk"
    FEISHU = "feishu"


class BotEvent(StrEnum):
    SLA_WARNING = "sla_warning"
    SLA_ESCALATION = "sla_escalation"
    NEW_P1 = "new_p1"


PLATFORMS = tuple(p.value for p in Platform)
EVENTS = tuple(e.value for e in BotEvent)
LANGUAGES = ("zh_CN", "en")

# the SLA event families (portal.domain.sla.family) a bot is told of, and as what
SLA_FAMILY_EVENTS = {
    "warn": BotEvent.SLA_WARNING.value,
    "breach": BotEvent.SLA_ESCALATION.value,
    "escalation": BotEvent.SLA_ESCALATION.value,
}

# WeCom caps markdown content at 4096 bytes; the others allow more: one cap for all
TEXT_MAX_BYTES = 4000
URL_MAX = 500
SECRET_MAX = 200


@dataclass(frozen=True)
class Message:
    """What a bot says: a one-line title and the text (lines; markdown where the platform
    renders it)."""

    title: str
    text: str


@dataclass(frozen=True)
class WebhookRequest:
    url: str
    body: dict

    def content(self) -> bytes:
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")


def _clip(text: str, limit: int = TEXT_MAX_BYTES) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", errors="ignore") + "…"


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's ``sign`` query value (already URL-encoded, as the platform documents)."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's ``sign`` body value: the key is the string to sign, the message empty."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _with_query(url: str, extra: dict[str, str]) -> str:
    """``url`` with ``extra`` appended to its query (the values as given: already encoded)."""
    parts = urlsplit(url)
    query = urlencode(parse_qsl(parts.query, keep_blank_values=True))
    added = "&".join(f"{k}={v}" for k, v in extra.items())
    return urlunsplit(parts._replace(query=f"{query}&{added}" if query else added))


def webhook_request(
    platform: str, url: str, secret: str | None, message: Message, now: datetime
) -> WebhookRequest:
    """The request to send ``message`` to a bot of ``platform`` at ``now`` (signed when the
    platform signs and a secret is set)."""
    platform = Platform(platform)
    text = _clip(message.text)
    if platform is Platform.WECOM:
        return WebhookRequest(url, {"msgtype": "markdown", "markdown": {"content": text}})
    if platform is Platform.DINGTALK:
        body = {"msgtype": "markdown", "markdown": {"title": message.title[:100], "text": text}}
        if secret:
            ts = int(now.timestamp() * 1000)
            url = _with_query(url, {"timestamp": str(ts), "sign": dingtalk_sign(secret, ts)})
        return WebhookRequest(url, body)
    # Feishu: plain text (its "post" rich text needs a structure of its own)
    plain = _clip(f"{message.title}\n{markdown_to_plain(message.text)}")
    body: dict = {"msg_type": "text", "content": {"text": plain}}
    if secret:
        ts = int(now.timestamp())
        body = {"timestamp": str(ts), "sign": feishu_sign(secret, ts), **body}
    return WebhookRequest(url, body)


def markdown_to_plain(text: str) -> str:
    """The few markdown marks ``bot_text`` uses, dropped (for a text-only platform)."""
    lines = []
    for line in text.splitlines():
        line = line.lstrip("#").strip() if line.startswith("#") else line
        line = line.replace("**", "")
        if line.startswith("[") and "](" in line and line.endswith(")"):
            label, link = line[1:-1].split("](", 1)
            line = f"{label}: {link}"
        lines.append(line)
    return "\n".join(lines)


def failure(platform: str, status: int, body: str) -> str | None:
    """None when the platform took the message, else what went wrong (for ``last_error``)."""
    snippet = (body or "").strip()[:300]
    if not 200 <= status < 300:
        return f"HTTP {status}: {snippet}" if snippet else f"HTTP {status}"
    try:
        answer = json.loads(body) if body else {}
    except ValueError:
        return f"not JSON: {snippet}"
    if not isinstance(answer, dict):
        return f"unexpected answer: {snippet}"
    if Platform(platform) is Platform.FEISHU:
        code = answer.get("code", answer.get("StatusCode", 0))
        text = answer.get("msg", answer.get("StatusMessage", ""))
    else:
        code = answer.get("errcode", 0)
        text = answer.get("errmsg", "")
    if code not in (0, "0", None):
        return f"code {code}: {text}"[:300]
    return None


def url_problem(url: str, *, allow_http: bool = False) -> str | None:
    """Why ``url`` cannot be a webhook address ("https", "host", "long"), or None."""
    url = (url or "").strip()
    if len(url) > URL_MAX:
        return "long"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "host"
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        return "https"
    if not parts.hostname or any(c.isspace() for c in url) or parts.username:
        return "host"
    return None


def events_of(values) -> list[str]:
    """The known events among ``values``, in the canonical order."""
    chosen = set(values or ())
    return [e for e in EVENTS if e in chosen]
