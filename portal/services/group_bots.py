"""Group bots (docs/product.md "Group bots"): administering them (audited, the secret never
shown or audited), and queuing their messages in the outbox, once per bot and event, in the
caller's transaction. Sending is the outbox's (portal/services/outbox.py, channel "bot")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import group_bots as rules
from portal.domain import pii
from portal.domain.masking import mask_name
from portal.domain.sla import family
from portal.models import EmailOutbox, GroupBot, ServiceRequest
from portal.presentation.group_bot_text import bot_message, check_message
from portal.presentation.notice_links import notice_link
from portal.services import audit, outbox
from portal.services.invitations import base_url
from portal.services.mail import recipient_locale

NAME_MAX = 80


class BotError(ValueError):
    """A refused change: ``field`` and a code the page words (portal/staff/admin/group_bots.py)."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


@dataclass
class BotInput:
    name: str
    platform: str
    webhook_url: str
    secret: str | None  # None or empty: keep the stored one (a new bot: none)
    events: list[str]
    language: str
    clear_secret: bool = False


# --- administration ----------------------------------------------------------------------------


def all_bots(session: Session) -> list[GroupBot]:
    return list(session.scalars(select(GroupBot).order_by(GroupBot.active.desc(), GroupBot.name)))


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


def _shown(bot: GroupBot) -> dict:
    """What the audit keeps of a bot: never the secret nor the webhook's key (only its host)."""
    return {
        "name": bot.name,
        "platform": bot.platform,
        "webhook_host": _host(bot.webhook_url),
        "events": list(bot.events or []),
        "language": bot.language,
        "secret_set": bool(bot.secret),
    }


def _check(session: Session, data: BotInput, bot: GroupBot | None) -> BotInput:
    name = " ".join((data.name or "").split())
    if not name:
        raise BotError("name", "empty")
    if len(name) > NAME_MAX:
        raise BotError("name", "too-long")
    taken = session.scalar(select(GroupBot.id).where(func.lower(GroupBot.name) == name.lower()))
    if taken is not None and (bot is None or taken != bot.id):
        raise BotError("name", "duplicate")
    if data.platform not in rules.PLATFORMS:
        raise BotError("platform", "unknown")
    url = (data.webhook_url or "").strip()
    problem = rules.url_problem(
        url, allow_http=bool(current_app.config.get("GROUP_BOT_ALLOW_HTTP"))
    )
    if problem:
        raise BotError("webhook_url", problem)
    events = list(data.events or [])
    if any(e not in rules.EVENTS for e in events):
        raise BotError("events", "unknown")
    if data.language not in rules.LANGUAGES:
        raise BotError("language", "unknown")
    secret = (data.secret or "").strip() or None
    if secret is not None and len(secret) > rules.SECRET_MAX:
        raise BotError("secret", "too-long")
    return BotInput(
        name, data.platform, url, secret, rules.events_of(events), data.language, data.clear_secret
    )


def create(session: Session, actor: audit.Actor, now: datetime, data: BotInput) -> GroupBot:
    data = _check(session, data, None)
    bot = GroupBot(
        name=data.name,
        platform=data.platform,
        webhook_url=data.webhook_url,
        secret=data.secret,
        events=data.events,
        language=data.language,
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(bot)
    session.flush()
    audit.record(session, actor, now, "group_bot.created", "group_bot", bot.id, after=_shown(bot))
    return bot


def update(
    session: Session, actor: audit.Actor, now: datetime, bot: GroupBot, data: BotInput
) -> bool:
    """Save the changes; an empty secret keeps the stored one. False when nothing changed."""
    data = _check(session, data, bot)
    before = _shown(bot)
    old_secret, old_url = bot.secret, bot.webhook_url
    bot.name, bot.platform, bot.webhook_url = data.name, data.platform, data.webhook_url
    bot.events, bot.language = data.events, data.language
    if data.clear_secret:
        bot.secret = None
    elif data.secret:
        bot.secret = data.secret
    after = _shown(bot)
    changed_before = {k: v for k, v in before.items() if after[k] != v}
    changed_after = {k: after[k] for k in changed_before}
    if bot.secret != old_secret and "secret_set" not in changed_after:
        changed_before["secret"], changed_after["secret"] = "…", "…"  # a new secret: no value
    if bot.webhook_url != old_url and "webhook_host" not in changed_after:
        changed_before["webhook_url"], changed_after["webhook_url"] = "…", "…"  # a new key
    if not changed_after:
        return False
    bot.updated_at = now
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "group_bot.updated",
        "group_bot",
        bot.id,
        before=changed_before,
        after=changed_after,
    )
    return True


def set_active(
    session: Session, actor: audit.Actor, now: datetime, bot: GroupBot, active: bool
) -> bool:
    if bot.active == active:
        return False
    bot.active = active
    bot.updated_at = now
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "group_bot.reactivated" if active else "group_bot.deactivated",
        "group_bot",
        bot.id,
        before={"active": not active},
        after={"active": active},
    )
    return True


# --- messages ------------------------------------------------------------------------------------


def _queue(
    session: Session,
    bot: GroupBot,
    message: rules.Message,
    key: str | None,
    meta: dict,
    mails: list[int] | None,
) -> EmailOutbox | None:
    row = outbox.add(
        session,
        to_address=f"bot:{bot.id}",
        subject=message.title,
        body_text=message.text,
        dedupe_key=key,
        meta=meta,
        channel="bot",
        bot_id=bot.id,
        enqueue=mails is None,
    )
    if row is not None and mails is not None:
        mails.append(row.id)
    return row


def shown_title(sr: ServiceRequest) -> str:
    """The request's title for a group chat: personal data redacted (phones, addresses, ids),
    and the contact's own name masked where the title repeats it."""
    title = pii.redact(sr.title or "")
    name = (sr.contact_name or "").strip()
    if len(name) > 1:
        title = title.replace(name, mask_name(name))
    return title


def subscribed(session: Session, event: str) -> list[GroupBot]:
    """The active bots told of ``event`` (the list is short: read whole, filtered here)."""
    bots = session.scalars(select(GroupBot).where(GroupBot.active.is_(True)).order_by(GroupBot.id))
    return [b for b in bots if event in (b.events or [])]


def tell(
    session: Session,
    event: str,
    sr: ServiceRequest,
    key: str,
    *,
    kind: str | None = None,
    due=None,
    mails: list[int] | None = None,
) -> int:
    """Queue one message about ``sr`` to each active bot subscribed to ``event``; ``key`` names
    the event (a retried caller queues nothing twice). Returns how many were queued."""
    queued = 0
    link = notice_link(kind or "request_submitted", sr.number, staff=True, base_url=base_url())
    for bot in subscribed(session, event):
        with force_locale(recipient_locale(bot.language)):
            message = bot_message(
                event,
                number=sr.number,
                title=shown_title(sr),
                priority=sr.priority or sr.proposed_urgency,
                link=link,
                kind=kind,
                due=due,
                level=sr.escalation_level if event == rules.BotEvent.SLA_ESCALATION else None,
            )
        meta = {"number": sr.number, "request_id": sr.id, "event": event}
        if _queue(session, bot, message, f"bot:{bot.id}:{key}"[:120], meta, mails) is not None:
            queued += 1
    return queued


def tell_sla(
    session: Session, sr: ServiceRequest, kind: str, due_epoch: int, due, mails: list[int]
) -> int:
    """From escalation.fire: a warning or an escalation, to the bots subscribed to it."""
    event = rules.SLA_FAMILY_EVENTS.get(family(kind))
    if event is None:
        return 0
    return tell(
        session, event, sr, f"sla:{sr.id}:{kind}:{due_epoch}", kind=kind, due=due, mails=mails
    )


def tell_new_p1(session: Session, sr: ServiceRequest) -> int:
    """From intake: a request submitted as P1."""
    if (sr.priority or sr.proposed_urgency) != "P1":
        return 0
    return tell(session, rules.BotEvent.NEW_P1.value, sr, f"new_p1:{sr.id}")


@dataclass(frozen=True)
class TestResult:
    outcome: str  # sent / retry / failed / skipped
    error: str | None


def send_test(
    session: Session,
    actor: audit.Actor,
    now: datetime,
    bot: GroupBot,
    settings: outbox.MailSettings,
) -> TestResult:
    """Queue a test message to ``bot`` (audited), commit, and make its first attempt now through
    the outbox (a failure is retried there like any message). Commits."""
    with force_locale(recipient_locale(bot.language)):
        message = check_message(bot.name)
    row = _queue(session, bot, message, None, {"event": "test"}, [])
    audit.record(session, actor, now, "group_bot.test_sent", "group_bot", bot.id)
    session.commit()
    # the row's own due time was taken as it was written, an instant after ``now``
    outcome, _retry_at = outbox.send(session, row.id, max(now, row.next_attempt_at), settings)
    session.refresh(row)
    return TestResult(outcome, row.last_error if outcome != "sent" else None)
