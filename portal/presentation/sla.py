"""SLA policies in words, in the reader's language: units, a policy's name (the built-in one is
标准 / Standard), one priority's targets, and the changed targets of an edit as display text
("P1 response 2 h → 1 h") for the audit log."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.domain import sla as rules

UNIT_LABELS = {
    rules.HOURS: _l("hours (24×7)"),
    rules.WORKING_HOURS: _l("working hours"),
    rules.WORKING_DAYS: _l("working days"),
}
# short forms after a number: "2 h", "8 working h", "3 working days"
UNIT_SHORT = {
    rules.HOURS: _l("h"),
    rules.WORKING_HOURS: _l("working h"),
    rules.WORKING_DAYS: _l("working days"),
}


BUILTIN_NAME = _l("Standard")


def policy_name(name: str, builtin: bool):
    """A policy's name as shown: the built-in one in the reader's language (a lazy string,
    so that a page builder may call this outside a request; it becomes text when shown)."""
    return BUILTIN_NAME if builtin else name


def amount_text(amount: int, unit: str) -> str:
    return f"{amount} {UNIT_SHORT.get(unit, unit)}"


def target_summary(t) -> str:
    """One priority's targets in a line: "P1 2 h / 4 h"."""
    return _(
        "%(priority)s %(respond)s / %(resolve)s",
        priority=t.priority,
        respond=amount_text(t.respond_amount, t.respond_unit),
        resolve=amount_text(t.resolve_amount, t.resolve_unit),
    )


def target_fields(t) -> dict[str, str]:
    """One priority's targets as display values keyed by what they are ("P1 response": "2 h"),
    for the before and after of an audit entry."""
    p = t.priority
    return {
        _("%(priority)s response", priority=p): amount_text(t.respond_amount, t.respond_unit),
        _("%(priority)s resolution", priority=p): amount_text(t.resolve_amount, t.resolve_unit),
        _("%(priority)s warning", priority=p): f"{t.warn_percent} %",
        _("%(priority)s escalation interval", priority=p): _(
            "%(minutes)d min", minutes=t.escalate_after_minutes
        ),
    }
