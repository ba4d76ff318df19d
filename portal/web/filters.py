"""Template filters: dates in the desk's time zone (zone shown), file sizes in the reader's
language, vocabulary labels, the outcome of a finished request's SLA targets."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _

from portal.domain import sla as sla_rules
from portal.services.attachments import format_size
from portal.web import labels

# Numeric patterns are the same in every locale: strftime renders them without Babel's cost,
# which matters in a 50-row table with three times per row.
_NUMERIC = {
    "yyyy-MM-dd HH:mm": "%Y-%m-%d %H:%M",
    "MM-dd HH:mm": "%m-%d %H:%M",
    "yyyy-MM-dd": "%Y-%m-%d",
}


def desk_time(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(current_app.config["PORTAL_TIMEZONE"]))
    numeric = _NUMERIC.get(fmt)
    text = local.strftime(numeric) if numeric else format_datetime(local, fmt, rebase=False)
    return f"{text} {local.tzname()}"


_label_cache: dict[str, SimpleNamespace] = {}


def localized_labels() -> SimpleNamespace:
    """The vocabulary labels as plain strings in the current locale, translated once per locale
    per process (the catalogues do not change while it runs)."""
    locale = str(get_locale() or "")
    cached = _label_cache.get(locale)
    if cached is None:
        cached = SimpleNamespace(
            **{
                name: {key: str(text) for key, text in value.items()}
                for name, value in vars(labels).items()
                if name.isupper() and isinstance(value, dict)
            }
        )
        _label_cache[locale] = cached
    return cached


class _Labels:
    """``labels`` in templates (macros imported without context see globals only)."""

    def __getattr__(self, name: str) -> dict[str, str]:
        return getattr(localized_labels(), name)


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


def init_app(app: Flask) -> None:
    app.add_template_filter(desk_time, "desk_time")
    app.add_template_filter(format_size, "filesize")
    app.add_template_filter(sla_outcome, "sla_outcome")
    app.add_template_global(_Labels(), "labels")
    app.add_template_global(lambda: current_app.config["PORTAL_TIMEZONE"], "desk_timezone")
