"""The XLSX of a monthly feedback analysis report, from its frozen figures; audited
(``feedback_report.exported``). Text is written through the forms export's text cells, so a
customer's "=…" stays text."""

from __future__ import annotations

import io
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.domain.feedback import DIMENSIONS
from portal.models import FeedbackReport
from portal.presentation import labels
from portal.services import audit
from portal.services.reports.export import _row, _sheet


def _type(item: dict) -> str:
    text = str(labels.TYPE_LABELS.get(item.get("type"), item.get("type") or ""))
    return f"{text} / {item['category']}" if item.get("category") else text


def workbook(report: FeedbackReport) -> bytes:
    from openpyxl import Workbook

    fig = report.figures
    wb = Workbook()
    wb.remove(wb.active)
    ws = _sheet(wb, _l("Summary"), [_l("Item"), _l("Value")])
    sla = fig["sla"]
    for name, value in (
        (_l("Report number"), report.number),
        (_l("Period"), f"{fig['start']} – {fig['end']}"),
        (_l("Content hash (SHA-256)"), report.content_hash),
        (_l("Requests"), fig["requests"]),
        (_l("Response met rate"), sla["response_rate"]),
        (_l("Resolution met rate"), sla["resolution_rate"]),
        (_l("Response median (h)"), sla["response_median_h"]),
        (_l("Resolution median (h)"), sla["resolution_median_h"]),
        (_l("Hours"), fig["hours"]),
        (_l("Rework rate"), fig["rework_ratio"]),
    ):
        _row(ws, str(name), value)
    sat = fig["satisfaction"]
    ws = _sheet(
        wb, _l("Satisfaction"), [_l("Dimension"), _l("Mean score"), _l("Last month"), _l("Change")]
    )
    for d in DIMENSIONS:
        _row(ws, str(labels.DIMENSION_LABELS[d]), sat["means"][d], sat["previous"]["means"][d],
             sat["change"][d])  # fmt: skip
    _row(ws, str(_l("Mean of the three dimensions")), sat["mean"], sat["previous"]["mean"],
         sat["change"]["mean"])  # fmt: skip
    ws = _sheet(
        wb, _l("Lowest scores"), [_l("Number"), _l("Title"), _l("Scores"), _l("Suggestions")]
    )
    for item in fig["lowest"]:
        _row(ws, item["number"], item["title"], "/".join(str(s) for s in item["scores"]),
             item["suggestions"])  # fmt: skip
    ws = _sheet(wb, _l("Common problems"), [_l("Kind"), _l("Type / category"), _l("Figure")])
    problems = fig["problems"]
    for item in problems["most_requests"]:
        _row(ws, str(_l("Most requests")), _type(item), item["count"])
    for item in problems["most_rework"]:
        _row(ws, str(_l("Most rework")), _type(item), item["failed"])
    for item in problems["slowest"]:
        _row(ws, str(_l("Longest resolution (median, h)")), _type(item), item["median_h"])
    for term, n in problems["terms"]:
        _row(ws, str(_l("Recurring term")), term, n)
    ws = _sheet(wb, _l("Measures"), [_l("Kind"), _l("Improvement measure"), _l("Owner"),
                                     _l("Deadline"), _l("Overdue")])  # fmt: skip
    kinds = {"new": _l("New"), "done": _l("Done"), "open": _l("Open")}
    for kind, title in kinds.items():
        for m in fig["measures"][kind]:
            _row(ws, str(title), m["measure"], m["owner"], m["deadline"],
                 str(_l("Yes")) if m["overdue"] else "")  # fmt: skip
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def export(session: Session, actor: audit.Actor, report: FeedbackReport, now: datetime) -> bytes:
    data = workbook(report)
    audit.record(
        session,
        actor,
        now,
        "feedback_report.exported",
        "feedback_report",
        report.number,
        after={"format": "xlsx"},
    )
    return data
