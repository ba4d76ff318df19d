"""What an inbound mail's headers say before anything is done with it (docs/product.md §9),
pure: machine mail that is never answered (auto-replies, bounces, lists, loops), the verdict of
our own mail server's ``Authentication-Results``, the request number in a subject, and the
title a subject makes.

Headers arrive as a mapping of lower-case names to their values (a header may repeat)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from email.utils import parseaddr

from portal.domain import mail_ids

Headers = Mapping[str, Sequence[str]]

AUTH_MODES = ("off", "header", "require")
_MACHINE_LOCALS = ("mailer-daemon", "postmaster")
_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
_SUPPRESS = frozenset({"all", "oof"})
_NUMBER_IN_SUBJECT = re.compile(r"(?<![A-Za-z0-9])(SR-\d{8}-\d{3,})(?!\d)", re.IGNORECASE)
_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|wg|sv|antw|回复|答复|转发|回覆|轉寄)\s*(?:\[\d+\])?\s*[:：]\s*)+",
    re.IGNORECASE,
)
_RESULT = re.compile(r"\b(dkim|spf|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)


def _first(headers: Headers, name: str) -> str | None:
    values = headers.get(name.lower()) or ()
    return str(values[0]).strip() if values else None


def _address(value: str | None) -> str:
    return parseaddr(value or "")[1].strip().lower()


def ignore_reason(headers: Headers, own_address: str) -> str | None:
    """Why this mail is machine mail that must create nothing and never be answered, or None.
    ``own_address`` is the portal's From address (MAIL_FROM)."""
    auto = _first(headers, "auto-submitted")
    if auto and auto.split(";")[0].strip().lower() != "no":
        return f"auto-submitted: {auto.split(';')[0].strip().lower()[:40]}"
    precedence = (_first(headers, "precedence") or "").lower()
    if precedence in _PRECEDENCE:
        return f"precedence: {precedence}"
    if _first(headers, "x-autoreply") is not None:
        return "x-autoreply"
    if _first(headers, "x-autorespond") is not None:
        return "x-autorespond"
    suppress = {
        s.strip().lower() for s in (_first(headers, "x-auto-response-suppress") or "").split(",")
    }
    if suppress & _SUPPRESS:
        return "x-auto-response-suppress"
    content_type = (_first(headers, "content-type") or "").lower()
    if content_type.startswith("multipart/report"):
        return "delivery report"
    sender = _address(_first(headers, "from"))
    if sender.split("@", 1)[0] in _MACHINE_LOCALS:
        return "from a mail system"
    return_path = _first(headers, "return-path")
    if return_path is not None and return_path.replace(" ", "") == "<>":
        return "empty return path"
    domain = mail_ids.sender_domain(own_address)
    if mail_ids.ours(_first(headers, "message-id"), domain):
        return "our own message (loop)"
    if sender and sender == _address(own_address):
        return "from the portal's own address (loop)"
    return None


def _results(headers: Headers, authserv_id: str | None) -> list[dict[str, str]]:
    """The method results of each Authentication-Results header that our own server wrote."""
    if not authserv_id:
        return []
    found = []
    for value in headers.get("authentication-results") or ():
        head, _sep, rest = str(value).partition(";")
        # "mx.desk.example 1; dkim=pass …": the id, optionally followed by a version
        if (head.split() or [""])[0].lower() != authserv_id.lower():
            continue
        results: dict[str, str] = {}
        for method, result in _RESULT.findall(rest):
            results.setdefault(method.lower(), result.lower())
        found.append(results)
    return found


def auth_problem(headers: Headers, mode: str, authserv_id: str | None) -> str | None:
    """Why the sender's address cannot be trusted under INBOUND_AUTH ``mode``, or None.

    off: never checked. header: only a header of our own server (``authserv_id``) counts, and
    it must not say dmarc=fail, nor both spf=fail and dkim=fail. require: such a header must
    say dkim=pass or spf=pass, with dmarc pass or none (or not evaluated)."""
    if mode == "off":
        return None
    results = _results(headers, authserv_id)
    if mode == "require":
        for r in results:
            if "pass" in (r.get("dkim"), r.get("spf")) and r.get("dmarc", "none") in (
                "pass",
                "none",
            ):
                return None
        return "not authenticated (INBOUND_AUTH=require)"
    for r in results:
        if r.get("dmarc") == "fail":
            return "authentication failed: dmarc=fail"
        if r.get("spf") == "fail" and r.get("dkim") == "fail":
            return "authentication failed: spf=fail, dkim=fail"
    return None


def number_in_subject(subject: str | None) -> str | None:
    """The request number (SR-YYYYMMDD-NNN) a subject names, upper-cased, or None."""
    m = _NUMBER_IN_SUBJECT.search(subject or "")
    return m.group(1).upper() if m else None


def title_from(subject: str | None, body: str, limit: int) -> str:
    """A request's title from a mail: the subject without Re:/Fwd: prefixes, else the body's
    first line; on one line and at most ``limit`` characters."""
    title = " ".join(_REPLY_PREFIX.sub("", subject or "").split())
    if not title:
        title = next((" ".join(line.split()) for line in body.splitlines() if line.strip()), "")
    if len(title) > limit:
        title = title[: limit - 1].rstrip() + "…"
    return title or "—"
