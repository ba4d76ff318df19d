"""What a group bot says about an event (docs/product.md "Group bots"), in the language of the
current locale (the caller forces the bot's): the request's number, title, priority and a link,
and no contact data (a group chat is not on the request). The title comes in redacted."""

from __future__ import annotations

from flask_babel import gettext as _

from portal.domain.group_bots import BotEvent, Message
from portal.domain.vocabulary import Priority
from portal.presentation.formatting import desk_time
from portal.presentation.labels import PRIORITY_LABELS


def _headline(event: str, kind: str | None, number: str) -> str:
    if event == BotEvent.NEW_P1.value:
        return _("New P1 request %(number)s", number=number)
    if event == BotEvent.SLA_WARNING.value:
        if kind and kind.startswith("response"):
            return _("SLA warning %(number)s: the response time runs out", number=number)
        return _("SLA warning %(number)s: the resolution time runs out", number=number)
    if kind and kind.startswith("response"):
        return _("SLA escalation %(number)s: the response target was missed", number=number)
    return _("SLA escalation %(number)s: the resolution target was missed", number=number)


def priority_label(code: str | None) -> str:
    try:
        return str(PRIORITY_LABELS[Priority(code)])
    except ValueError:
        return code or "—"


def bot_message(
    event: str,
    *,
    number: str,
    title: str,
    priority: str | None,
    link: str,
    kind: str | None = None,
    due=None,
    level: int | None = None,
) -> Message:
    headline = _headline(event, kind, number)
    lines = [f"### {headline}", f"**{number}** {title}"]
    lines.append(_("Priority: %(priority)s", priority=priority_label(priority)))
    if due is not None:
        lines.append(_("Due: %(due)s", due=desk_time(due)))
    if level:
        lines.append(_("Escalation level: %(level)d", level=level))
    lines.append(f"[{_('Open the request')}]({link})")
    return Message(title=headline, text="\n".join(lines))


def check_message(name: str) -> Message:
    headline = _("Test message from the service desk")
    text = _("This group bot (%(name)s) is set up: the desk's notices will arrive here.", name=name)
    return Message(title=headline, text=f"### {headline}\n{text}")
