"""The reports in words and pictures: numbers as the reader's locale writes them, durations in
hours, group labels, and the charts of a report page (``portal.presentation.charts``)."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import format_decimal
from flask_babel import gettext as _

from portal.presentation import charts, labels


def hours(seconds: float | None) -> str:
    """A duration in hours to one decimal ("2.5 h"); a dash for none."""
    if seconds is None:
        return "—"
    return _("%(hours)s h", hours=format_decimal(round(seconds / 3600, 1), format="0.0"))


def percent(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return _("%(percent)s%%", percent=format_decimal(value, format="0.0"))


def number(value: Decimal | float | int | None, pattern: str = "0.##") -> str:
    if value is None:
        return "—"
    return format_decimal(value, format=pattern)


def group_label(by: str | None, key, label: str = "") -> str:
    """The label of a group's value: names for organisations and engineers, the vocabulary's
    labels for priorities and types."""
    if by is None:
        return _("All")
    if key is None:
        return _("Not set") if by != "engineer" else _("Unassigned")
    if by == "type":
        return str(labels.TYPE_LABELS.get(key, key))
    if by == "priority":
        return str(key)
    return label or str(key)


def _float(value):
    return None if value is None else float(value)


def page_charts(page) -> dict:
    """The charts of a report page (``portal.services.reports.page.ReportPage``)."""
    by_priority = page.compliance["priority"]
    met_response, met_resolution = _("Response met rate"), _("Resolution met rate")
    dims = list(labels.DIMENSION_LABELS)
    return {
        "compliance": charts.bar(
            _("SLA compliance by priority"),
            [group_label("priority", r.key) for r in by_priority],
            [
                (met_response, [_float(r.response_rate) for r in by_priority]),
                (met_resolution, [_float(r.resolution_rate) for r in by_priority]),
            ],
            maximum=100,
        ),
        "times": charts.bar(
            _("Median time by priority (hours)"),
            [group_label(row.by, row.key) for row in page.times],
            [
                (
                    _("Response"),
                    [row.response.median / 3600 if row.response else None for row in page.times],
                ),
                (
                    _("Resolution"),
                    [
                        row.resolution.median / 3600 if row.resolution else None
                        for row in page.times
                    ],
                ),
            ],
        ),
        "satisfaction": charts.bar(
            _("Satisfaction by dimension"),
            [str(labels.DIMENSION_LABELS[d]) for d in dims],
            [(_("Mean score"), [_float(page.satisfaction.means[d]) for d in dims])],
            maximum=5,
        ),
    }


def trend_charts(trend) -> dict:
    """The charts of the 12-month trend (``portal.services.reports.trend.TrendMonth`` list)."""
    met_response, met_resolution = _("Response met rate"), _("Resolution met rate")
    months = [m.month.key() for m in trend]
    return {
        "trend": charts.line(
            _("SLA compliance by month"),
            months,
            [
                (met_response, [_float(m.response_rate) for m in trend]),
                (met_resolution, [_float(m.resolution_rate) for m in trend]),
            ],
            maximum=100,
        ),
        "trend_satisfaction": charts.line(
            _("Satisfaction by month"),
            months,
            [(_("Mean score"), [_float(m.satisfaction) for m in trend])],
            maximum=5,
        ),
    }
