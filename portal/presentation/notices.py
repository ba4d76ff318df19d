"""The sentences of timed notices and notifications (warnings, escalations, feedback
invitations…), in the reader's language, from a notification's kind and parameters. The
notifications page, the board and the e-mails say them the same way (docs/product.md §4)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.domain.sla import family
from portal.presentation.formatting import desk_time

# notification texts by kind, rendered in the reader's language from Notification.params
MESSAGES = {
    "response_warn": _l(
        "%(number)s: %(percent)s%% of the response time has gone; respond by %(due)s."
    ),
    "resolution_warn": _l(
        "%(number)s: %(percent)s%% of the resolution time has gone; resolve by %(due)s."
    ),
    "response_breach": _l(
        "%(number)s: the response target was missed (due %(due)s). Escalated to you (level 1)."
    ),
    "resolution_breach": _l(
        "%(number)s: the resolution target was missed (due %(due)s). Escalated to you (level 1)."
    ),
    "response_escalation": _l(
        "%(number)s: still no response after the target of %(due)s. Escalated to you (level 2)."
    ),
    "resolution_escalation": _l(
        "%(number)s: still not resolved after the target of %(due)s. Escalated to you (level 2)."
    ),
    "not_started": _l(
        "%(number)s: assigned, but no step logged by %(due)s (overdue, not started)."
    ),
    "feedback_invite": _l(
        "%(number)s was accepted. Please rate our service by %(due)s: it takes a minute."
    ),
    "feedback_reminder": _l("%(number)s: a reminder to rate our service; the window ends %(due)s."),
    "measure_overdue": _l(
        "%(number)s: the improvement measure \u201c%(measure)s\u201d passed its deadline %(due)s."
    ),
    "request_submitted": _l("%(number)s was submitted and awaits classification."),
    "sla_explanation": _l("%(number)s: the service desk explains a delay."),
}
SUBJECTS = {
    "warn": _l("[%(number)s] SLA warning"),
    "breach": _l("[%(number)s] SLA breached: escalation level 1"),
    "escalation": _l("[%(number)s] SLA breached: escalation level 2"),
    "not_started": _l("[%(number)s] Overdue, not started"),
    "feedback_invite": _l("[%(number)s] How did we do?"),
    "feedback_reminder": _l("[%(number)s] Reminder: how did we do?"),
    "measure_overdue": _l("[%(number)s] Improvement measure overdue"),
}


def describe(kind: str, params: dict) -> str:
    """A notification's text in the current locale."""
    values = dict(params or {})
    if values.get("due"):
        try:
            values["due"] = desk_time(datetime.fromisoformat(values["due"]))
        except (TypeError, ValueError):
            pass
    message = MESSAGES.get(kind.split(":", 1)[0])
    if message is None:
        return _("%(number)s: %(kind)s", number=values.get("number", ""), kind=kind)
    try:
        return str(message) % {k: v for k, v in values.items()}
    except (KeyError, TypeError, ValueError):
        return _("%(number)s: %(kind)s", number=values.get("number", ""), kind=kind)


def subject(kind: str, params: dict) -> str:
    text = SUBJECTS.get(family(kind))
    return str(text) % {"number": params.get("number", "")} if text else str(params.get("number"))
