"""sla_views: the staff side's SLA pieces (see portal/web/panels.py): the request page's SLA
panel (staff/_sla_panel.html): policy, clock, and the explainable timeline of the intervals that
counted, were paused or were non-working; the due times moved by calendar changes
(staff/_sla_moves.html); and the template filters they use. The admins' calendar page is in
calendar_views.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.domain import calendar as cal
from portal.domain import sla as rules
from portal.presentation.formatting import holiday_label
from portal.services import sla as sla_service
from portal.staff import bp
from portal.web import panels

# the panel shows the latest intervals; the totals cover the whole life of the request
MAX_INTERVALS = 40

UNIT_LABELS = {
    rules.HOURS: _l("hours (24×7)"),
    rules.WORKING_HOURS: _l("working hours"),
    rules.WORKING_DAYS: _l("working days"),
}
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


# --- the request page's SLA panel ------------------------------------------------------------


@dataclass(frozen=True)
class SlaPanel:
    policy_text: str
    calendar_name: str
    around_the_clock: bool
    explanation: rules.Explanation
    intervals: list[rules.Interval]  # the latest MAX_INTERVALS
    earlier: int  # how many earlier intervals are only in the totals
    until: datetime
    fallback_years: list[int]  # years in the span that run on the fallback calendar
    outcomes: sla_service.Outcomes | None  # a finished request: met or missed, by how much


def _stop_time(sr, now: datetime) -> datetime:
    for value in (sr.completed_at, sr.cancelled_at, sr.closed_at):
        if value is not None:
            return min(value, now)
    return now


def sla_panel(session, sr, now: datetime) -> SlaPanel:
    clocks = sla_service.clocks_for(session, sr)
    clock = clocks.resolution_clock
    until = max(_stop_time(sr, now), sr.submitted_at)
    pauses = [(p.started_at, p.ended_at) for p in sla_service.pauses_of(session, sr)]
    explanation = rules.explain(clock, sr.submitted_at, until, pauses)
    intervals = explanation.intervals[-MAX_INTERVALS:]
    p = clocks.policy
    policy_text = _(
        "%(priority)s: respond within %(ra)s %(ru)s, resolve within %(sa)s %(su)s",
        priority=p.priority,
        ra=p.respond_amount,
        ru=UNIT_LABELS.get(p.respond_unit, p.respond_unit),
        sa=p.resolve_amount,
        su=UNIT_LABELS.get(p.resolve_unit, p.resolve_unit),
    )
    fallback_years: list[int] = []
    if not clock.around_the_clock:
        calendar = clocks.calendar
        end = max(until, sr.resolution_due_at or until)
        years = range(calendar.local_date(sr.submitted_at).year, calendar.local_date(end).year + 1)
        fallback_years = [y for y in years if not calendar.has_official_schedule(y)]
    return SlaPanel(
        policy_text=policy_text,
        calendar_name=clocks.calendar.name,
        around_the_clock=clock.around_the_clock,
        explanation=explanation,
        intervals=intervals,
        earlier=len(explanation.intervals) - len(intervals),
        until=until,
        fallback_years=fallback_years,
        outcomes=sla_service.outcomes(session, sr, clocks),
    )


@panels.provider("staff")
def _sla_panel_provider(session, sr, viewer, now) -> dict:
    return {"sla": sla_panel(session, sr, now)}


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
