"""Times, sizes, holidays, SLA outcomes and candidates' rankings as people read them, in their
language.

Services (e-mails, exports, notices) and templates (through the filters portal.web.filters
registers) format the same way because they call these functions. Nothing here reads the
request: the desk's time zone is the app's setting ``PORTAL_TIMEZONE``, or is given; the
language is the one Flask-Babel has in force (the reader's, or a recipient's under
``force_locale``).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.domain import sla as sla_rules
from portal.domain.assignment import Ranked

# Numeric patterns are the same in every locale: strftime renders them without Babel's cost,
# which matters in a 50-row table with three times per row.
_NUMERIC = {
    "yyyy-MM-dd HH:mm": "%Y-%m-%d %H:%M",
    "MM-dd HH:mm": "%m-%d %H:%M",
    "yyyy-MM-dd": "%Y-%m-%d",
}


def desk_zone() -> ZoneInfo:
    """The desk's time zone (``PORTAL_TIMEZONE``)."""
    return ZoneInfo(current_app.config["PORTAL_TIMEZONE"])


def desk_time(
    value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm", zone: str | None = None
) -> str:
    """An instant in the desk's time zone (or ``zone``), with the zone named: 2026-10-08 11:00 CST."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(zone) if zone else desk_zone())
    numeric = _NUMERIC.get(fmt)
    text = local.strftime(numeric) if numeric else format_datetime(local, fmt, rebase=False)
    return f"{text} {local.tzname()}"


def format_size(n: int) -> str:
    """A byte count for people, in the reader's language: 20 MB, 1.5 KB, 156 bytes (156 字节)."""
    if n >= 1024 * 1024:
        value, unit = n / (1024 * 1024), "MB"
    elif n >= 1024:
        value, unit = n / 1024, "KB"
    else:
        return ngettext("%(num)d byte", "%(num)d bytes", n)
    return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"


def sla_outcome(outcome: sla_rules.Outcome | None) -> str:
    """A finished request's target in words: met and how long before the due time, or missed
    and by how much; the time is working time for a target on the business calendar."""
    if outcome is None:  # the target had no due time
        return ""
    if outcome.state == sla_rules.ENDED:
        return _("Not reached: the request ended before it was due")
    minutes = int(outcome.margin.total_seconds() // 60)
    amount = _("%(h)d h %(m)02d min", h=minutes // 60, m=minutes % 60)
    if outcome.state == sla_rules.MET:
        if outcome.working_time:
            return _("Met — %(time)s of working time before due", time=amount)
        return _("Met — %(time)s before due", time=amount)
    if outcome.working_time:
        return _("Missed by %(time)s of working time", time=amount)
    return _("Missed by %(time)s", time=amount)


# the holiday names of chinesecalendar, in the reader's language
HOLIDAY_LABELS = {
    "New Year's Day": _l("New Year's Day"),
    "Spring Festival": _l("Spring Festival"),
    "Tomb-sweeping Day": _l("Tomb-sweeping Day"),
    "Labour Day": _l("Labour Day"),
    "Dragon Boat Festival": _l("Dragon Boat Festival"),
    "National Day": _l("National Day"),
    "Mid-autumn Festival": _l("Mid-autumn Festival"),
    "Anti-Fascist 70th Day": _l("Anti-Fascist 70th Day"),
}


def holiday_label(name: str | None) -> str:
    """A holiday's name for the reader: chinesecalendar's English names are translated; names an
    admin typed (or the notice's 国庆节) are shown as they are."""
    if not name:
        return ""
    label = HOLIDAY_LABELS.get(name)
    return str(label) if label is not None else name


def candidate_reason(ranked: Ranked) -> str:
    """Why a candidate handler ranks where they do: "Skill 数据库 level 4 · 3 open · available"."""
    parts = []
    if ranked.best_skill is not None:
        parts.append(
            _(
                "Skill %(skill)s level %(level)s",
                skill=ranked.best_skill.skill_name,
                level=ranked.level,
            )
        )
    else:
        parts.append(_("no matching skill"))
    parts.append(ngettext("%(num)s open", "%(num)s open", ranked.candidate.open_load))
    parts.append(_("available") if ranked.candidate.available else _("unavailable"))
    return " · ".join(parts)
