"""Sending one outbox row of the "bot" channel to its group bot's webhook (docs/product.md
"Group bots"). Called by the outbox's one sending path (portal/services/outbox.py ``send``),
which claims the row, retries with backoff and marks it failed: a failure here only raises
``BotDeliveryError``. The secret signs the request and goes nowhere else (not into the error,
not into the log)."""

from __future__ import annotations

import logging
from datetime import datetime

import httpx
from sqlalchemy.orm import Session

from portal.domain.group_bots import Message, failure, webhook_request
from portal.models import EmailOutbox, GroupBot

# httpx logs every request's URL at INFO, and a webhook URL carries its key (WeCom), its
# access token and signature (DingTalk): never into the application's log
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)


class BotDeliveryError(Exception):
    """The platform did not take the message; ``permanent`` when retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def transmit(session: Session, row: EmailOutbox, now: datetime, timeout: float) -> None:
    bot = session.get(GroupBot, row.bot_id) if row.bot_id is not None else None
    if bot is None:
        raise BotDeliveryError("the group bot no longer exists", permanent=True)
    if not bot.active:
        raise BotDeliveryError("the group bot is deactivated", permanent=True)
    req = webhook_request(
        bot.platform, bot.webhook_url, bot.secret, Message(row.subject, row.body_text), now
    )
    try:
        resp = httpx.post(
            req.url,
            content=req.content(),
            headers={"Content-Type": "application/json; charset=utf-8"},
            timeout=timeout,
            follow_redirects=False,
        )
    except httpx.HTTPError as exc:
        # the exception's text may carry the URL (with its key or signature): only its kind
        raise BotDeliveryError(type(exc).__name__) from None
    problem = failure(bot.platform, resp.status_code, resp.text)
    if problem is not None:
        raise BotDeliveryError(problem)
