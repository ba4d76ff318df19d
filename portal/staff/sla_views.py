"""sla_views: the staff side's SLA pieces (see portal/web/panels.py): the request page's SLA
panel (staff/_sla_panel.html): policy, clock, and the explainable timeline of the intervals that
counted, were paused or were non-working; the due times moved by calendar changes
(staff/_sla_moves.html); and the template filters they use. The admins' calendar page is in
calendar_views.
"""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.domain import calendar as cal
from portal.domain import sla as rules
from portal.presentation.formatting import holiday_label
from portal.presentation.sla import UNIT_LABELS, target_summary
from portal.services import sla as sla_service
from portal.services import sla_panels
from portal.staff import bp
from portal.web import panels

REASON_LABELS = {
    "hours": _l("outside working hours"),
    "weekend": _l("weekend"),
    "holiday": _l("holiday"),
    "makeup": _l("make-up working day (调休) worked"),
    "workday": _l("working time"),
}
STATE_LABELS = {
    rules.COUNTED: _l("Counted"),
    rules.PAUSED: _l("Paused"),
    rules.NON_WORKING: _l("Not working time"),
}


# --- the request page's SLA panel (data: portal.services.sla_panels) --------------------------


@panels.provider("staff")
def _sla_panel_provider(session, sr, viewer, now) -> dict:
    return {"sla": sla_panels.sla_panel(session, sr, now)}


@panels.provider("staff")
def _sla_moves_provider(session, sr, viewer, now) -> dict:
    """The request's due times moved by calendar changes (staff/_sla_moves.html)."""
    return {"sla_moves": sla_service.calendar_moves(session, sr)}


def move_reason(reason: dict) -> str:
    """What changed on the calendar, for a line of staff/_sla_moves.html."""
    kind = reason.get("reason")
    if kind == "notice_imported":
        return _("the notice for %(year)s was imported", year=reason.get("year"))
    if kind == "override_set":
        if reason.get("kind") == cal.WORKDAY:
            return _("%(day)s was made a working day", day=reason.get("day"))
        return _("%(day)s was made a holiday", day=reason.get("day"))
    if kind == "override_removed":
        return _("the override of %(day)s was removed", day=reason.get("day"))
    return _("the working hours, time zone or country changed")


@bp.app_template_filter("sla_policy")
def policy_text(p) -> str:
    """An SLA policy in words: "P2: respond within 4 working hours, resolve within 2 working
    days"."""
    return _(
        "%(priority)s: respond within %(ra)s %(ru)s, resolve within %(sa)s %(su)s",
        priority=p.priority,
        ra=p.respond_amount,
        ru=UNIT_LABELS.get(p.respond_unit, p.respond_unit),
        sa=p.resolve_amount,
        su=UNIT_LABELS.get(p.resolve_unit, p.resolve_unit),
    )


@bp.app_template_filter("sla_target_summary")
def _sla_target_summary(t) -> str:
    return target_summary(t)


@bp.app_template_filter("sla_unit")
def _sla_unit(unit: str) -> str:
    return str(UNIT_LABELS.get(unit, unit))


@bp.app_template_filter("sla_move_reason")
def _sla_move_reason(reason: dict) -> str:
    return move_reason(reason)


def reason_text(reasons) -> str:
    parts = []
    for kind, name in reasons:
        label = str(REASON_LABELS.get(kind, kind))
        if name and kind in ("holiday", "makeup"):
            label = f"{label}: {holiday_label(name)}"
        if label not in parts:
            parts.append(label)
    return ", ".join(parts)


@bp.app_template_filter("sla_reasons")
def _sla_reasons(reasons) -> str:
    return reason_text(reasons)


@bp.app_template_filter("hours_minutes")
def hours_minutes(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return _("%(h)d h %(m)02d min", h=minutes // 60, m=minutes % 60)
