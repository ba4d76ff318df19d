"""The sentences of timed notices and notifications (warnings, escalations, feedback
invitations…), in the reader's language, from a notification's kind and parameters. The
notifications page, the board and the e-mails say them the same way (docs/product.md §4)."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import format_date
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
    "measure_assigned": _l(
        "%(number)s: the improvement measure \u201c%(measure)s\u201d is yours, due %(day)s."
    ),
    "measure_due_soon": _l(
        "%(number)s: the improvement measure \u201c%(measure)s\u201d is due on %(day)s."
    ),
    "request_submitted": _l("%(number)s was submitted and awaits classification."),
    "sla_explanation": _l("%(number)s: the service desk explains a delay."),
    # the conversation and the hand-offs between people
    "reply": _l("%(number)s: the service desk replied to you."),
    "cooperation_requested": _l(
        "%(number)s: the service desk needs something from you to go on. Please answer."
    ),
    "customer_reply": _l("%(number)s: the customer wrote a new message."),
    "customer_answered": _l("%(number)s: the customer answered; the work can go on."),
    "collaborator_added": _l("%(number)s: you were added as a collaborator (%(scope)s)."),
    "assigned": _l("%(number)s (%(priority)s) was assigned to you."),
    "assignment_confirmed": _l("%(number)s: %(handler)s can start at %(can_start_at)s."),
    # delivery, acceptance and closing
    "delivery_ready": _l(
        "%(number)s: delivery %(sd)s is ready for your acceptance. Please accept it by %(due)s."
    ),
    "acceptance_reminder": _l(
        "%(number)s: a delivery still waits for your acceptance. Please accept it by %(due)s."
    ),
    "acceptance_failed": _l("%(signer)s's acceptance of %(sd)s failed: %(unmet)s not met."),
    "acceptance_passed": _l("%(signer)s accepted %(sd)s; please countersign it."),
    "request_closed": _l("%(number)s is closed. Thank you for working with us."),
    # feedback
    "feedback_received": _l(
        "%(number)s was rated: response timeliness %(response)s, handling effect %(effect)s,"
        " service attitude %(attitude)s (mean %(mean)s)."
    ),
    "low_score": _l(
        "%(number)s got a low score: response timeliness %(response)s, handling effect"
        " %(effect)s, service attitude %(attitude)s."
    ),
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
# parameters holding an instant or a day, shown in the reader's zone and language
INSTANTS = ("due", "can_start_at")


def describe(kind: str, params: dict) -> str:
    """A notification's text in the current locale."""
    values = dict(params or {})
    for name in INSTANTS:
        if values.get(name):
            try:
                values[name] = desk_time(datetime.fromisoformat(values[name]))
            except (TypeError, ValueError):
                pass
    if values.get("day"):
        try:
            values["day"] = format_date(date.fromisoformat(values["day"]))
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
