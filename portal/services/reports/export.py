"""The XLSX of a report: one sheet per section, in the reader's language, audited
(``report.exported``). Text goes through the forms export's text cells (``forms_export``): a
cell beginning with = + - @, a tab or a CR is stored as text, never read as a formula."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.domain.feedback import DIMENSIONS
from portal.models import Account
from portal.presentation import labels
from portal.presentation.report_view import group_label
from portal.services import audit
from portal.services.forms_export import text_cell
from portal.services.reports import trend
from portal.services.reports.filters import ReportFilters
from portal.services.reports.page import ReportPage, report_page


def _cell(ws, value):
    if value is None:
        return text_cell(ws, "")
    if isinstance(value, bool):
        return text_cell(ws, str(value))
    if isinstance(value, int | float | Decimal):
        return float(value)
    return text_cell(ws, str(value))


def _row(ws, *values) -> None:
    ws.append([_cell(ws, v) for v in values])


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _sheet(wb, title, header):
    from openpyxl.styles import Font

    ws = wb.create_sheet(str(title)[:31])
    _row(ws, *[str(h) for h in header])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    return ws


def workbook(page: ReportPage, months: list, timezone: str) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    f = page.filters
    ws = _sheet(wb, _l("Filters"), [_l("Filter"), _l("Value")])
    _row(ws, str(_l("Period")), f"{f.start.isoformat()} – {f.end.isoformat()}")
    for name, value in (
        (_l("Organisation"), f.organisation or f.organisation_id),
        (_l("Type"), labels.TYPE_LABELS.get(f.type, f.type) if f.type else None),
        (_l("Category"), f.category),
        (_l("Priority"), f.priority),
        (_l("Engineer"), f.engineer_id and page.names.get("engineer", {}).get(f.engineer_id)),
        (_l("Department"), f.department_id),
    ):
        if value:
            _row(ws, str(name), str(value))
    _row(ws, str(_l("Times in %(zone)s", zone=timezone)))

    ws = _sheet(
        wb,
        _l("SLA compliance"),
        [_l("Grouped by"), _l("Group"), _l("Requests"), _l("Response met"),
         _l("Response missed"), _l("Response met rate"), _l("Resolution met"),
         _l("Resolution missed"), _l("Resolution met rate")],
    )  # fmt: skip
    rows = [page.total] + [r for by in page.compliance.values() for r in by]
    for r in rows:
        by = labels.REPORT_GROUP_LABELS.get(r.by, "") if r.by else ""
        _row(ws, str(by), group_label(r.by, r.key, r.label), r.requests, r.response_met,
             r.response_missed, r.response_rate, r.resolution_met, r.resolution_missed,
             r.resolution_rate)  # fmt: skip
    ws = _sheet(wb, _l("Escalations"), [_l("Escalation level"), _l("Requests")])
    for level, n in page.breaches.items():
        _row(ws, level, n)

    ws = _sheet(
        wb,
        _l("Times"),
        [_l("Priority"), _l("Responses"), _l("Response median (h)"), _l("Response p90 (h)"),
         _l("Resolutions"), _l("Resolution median (h)"), _l("Resolution p90 (h)")],
    )  # fmt: skip
    for t in page.times:
        _row(ws, group_label(t.by, t.key),
             t.response.count if t.response else 0,
             _hours(t.response.median) if t.response else None,
             _hours(t.response.p90) if t.response else None,
             t.resolution.count if t.resolution else 0,
             _hours(t.resolution.median) if t.resolution else None,
             _hours(t.resolution.p90) if t.resolution else None)  # fmt: skip

    ws = _sheet(wb, _l("Hours"), [_l("Grouped by"), _l("Group"), _l("Hours")])
    for by, hours in page.hours.items():
        for h in hours:
            _row(ws, str(labels.REPORT_GROUP_LABELS[by]), group_label(by, h.key, h.label), h.hours)
    _row(ws, str(_l("All")), "", page.hours_total)

    ws = _sheet(wb, _l("Rework"), [_l("Deliveries"), _l("Failed acceptances"), _l("Rework rate")])
    _row(ws, page.deliveries, page.failed, page.rework_ratio)

    sat = page.satisfaction
    ws = _sheet(
        wb,
        _l("Satisfaction"),
        [_l("Dimension"), _l("Mean score"), *[str(s) for s in range(1, 6)]],
    )
    for d in DIMENSIONS:
        _row(ws, str(labels.DIMENSION_LABELS[d]), sat.means[d],
             *[sat.distribution[d][s] for s in range(1, 6)])  # fmt: skip
    _row(ws, str(_l("Mean of the three dimensions")), sat.mean)
    _row(ws, str(_l("Invited to rate")), sat.invited)
    _row(ws, str(_l("Rated")), sat.rated)
    _row(ws, str(_l("Feedback response rate")), sat.response_rate)

    ws = _sheet(
        wb,
        _l("Trend"),
        [_l("Month"), _l("Requests"), _l("Response met rate"), _l("Resolution met rate"),
         _l("Response median (h)"), _l("Resolution median (h)"), _l("Hours"),
         _l("Rework rate"), _l("Satisfaction"), _l("Feedback response rate")],
    )  # fmt: skip
    for m in months:
        _row(ws, m.month.key(), m.requests, m.response_rate, m.resolution_rate,
             _hours(m.response_median), _hours(m.resolution_median), m.hours, m.rework_ratio,
             m.satisfaction, m.feedback_rate)  # fmt: skip
    for sheet in wb.worksheets:
        sheet.column_dimensions["A"].width = 28
        sheet.column_dimensions["B"].width = 22
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def export(
    session: Session,
    actor: audit.Actor,
    viewer: Account,
    filters: ReportFilters,
    timezone: str,
    now: datetime,
) -> bytes:
    page = report_page(session, viewer, filters, timezone, now)
    own = viewer.id if page.own_figures else None
    data = workbook(page, trend.trend(session, filters, timezone, now, own), timezone)
    audit.record(
        session,
        actor,
        now,
        "report.exported",
        "report",
        f"{filters.start.isoformat()}/{filters.end.isoformat()}",
        after={**filters.as_args(), "format": "xlsx", "requests": page.total.requests},
    )
    return data
