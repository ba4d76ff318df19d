"""Masked logs (docs/product.md §5): every log record loses its contact values and PII before any
handler sees it.

``PiiFilter`` rewrites a record's message (with its args merged in), its exception text and its
stack text: PII patterns are redacted (portal.domain.pii) and the contact values the presenters
handled during the current request or job (names too, which no pattern finds) are masked.
Percent- and plus-encoded text (a query string in an access log line) is decoded and masked
too. ``install`` puts it on the app's and the root logger's handlers and, so that handlers added
later (gunicorn's, pytest's) are covered as well, into the log record factory.
"""

from __future__ import annotations

import logging
import re
import traceback
from contextvars import ContextVar
from urllib.parse import unquote_plus

from flask import Flask

from portal.domain import pii
from portal.domain.masking import mask_email, mask_name, mask_phone

_sensitive: ContextVar[dict[str, str] | None] = ContextVar("portal_sensitive", default=None)
_MASKED = "_portal_masked"


def remember_sensitive(*values: str | None) -> None:
    """Values to mask in this context's log records (raw value → its mask)."""
    known = _sensitive.get()
    if known is None:
        known = {}
        _sensitive.set(known)
    for value in values:
        value = (value or "").strip()
        if len(value) < 2 or value in known:
            continue
        if "@" in value:
            known[value] = mask_email(value)
        elif sum(ch.isdigit() for ch in value) >= 5:
            known[value] = mask_phone(value)
        else:
            known[value] = mask_name(value)


def forget_sensitive() -> None:
    _sensitive.set(None)


# a run of URL text holding a percent escape or a plus: a query string as an access log shows it
_ENCODED = re.compile(r"[^\s\"'<>]*(?:%[0-9A-Fa-f]{2}|\+)[^\s\"'<>]*")


def _mask_plain(text: str) -> str:
    known = _sensitive.get()
    if known:
        for raw in sorted(known, key=len, reverse=True):
            if raw in text:
                text = text.replace(raw, known[raw])
    return pii.redact(text)


def _mask_encoded(match: re.Match) -> str:
    """A percent- or plus-encoded run (``li.ming%40acme.example.com``, ``%E6%9D%8E+明``) is
    decoded and masked when the decoded text holds a contact value; otherwise it stays as it
    was."""
    token = match.group()
    decoded = unquote_plus(token, errors="replace")
    if decoded == token:
        return token
    masked = _mask_plain(decoded)
    return token if masked == decoded else masked


def mask_text(text: str) -> str:
    if not text:
        return text
    text = _mask_plain(text)
    if "%" in text or "+" in text:
        text = _ENCODED.sub(_mask_encoded, text)
    return text


class PiiFilter(logging.Filter):
    """Masks the message, args, exception and stack text of every record; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, _MASKED, False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what there is, masked
            message = f"{record.msg!r} {record.args!r}"
        record.msg = mask_text(str(message))
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            formatted = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_text = mask_text(formatted)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        setattr(record, _MASKED, True)
        return True


FILTER = PiiFilter()
_factory_installed = False


def _install_factory() -> None:
    global _factory_installed
    if _factory_installed:
        return
    original = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = original(*args, **kwargs)
        FILTER.filter(record)
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


def install(app: Flask) -> None:
    _install_factory()
    for logger in (logging.getLogger(), app.logger):
        if FILTER not in logger.filters:
            logger.addFilter(FILTER)
        for handler in logger.handlers:
            if FILTER not in handler.filters:
                handler.addFilter(FILTER)

    @app.before_request
    def _fresh_values() -> None:
        forget_sensitive()
