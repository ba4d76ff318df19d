"""An organisation admin's monthly service report (customer side, docs/product.md §12): their
own organisation's SLA met, times and satisfaction for a month, and the improvement measures
taken on their feedback. Never another organisation, never an engineer's figure or name, never
an internal note: the organisation comes from the viewer's account, not from the URL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain.feedback import MEASURE_DONE
from portal.domain.report_stats import Month
from portal.models import Account, Feedback, ImprovementMeasure, ServiceRequest
from portal.services.reports import figures, times
from portal.services.reports.filters import ReportFilters, bounds, clauses
from portal.services.reports.page import ComplianceRow, SatisfactionFigures, satisfaction_figures

SR = ServiceRequest


@dataclass(frozen=True)
class MeasureLine:
    measure: str
    deadline: date
    status: str
    overdue: bool


@dataclass(frozen=True)
class OrganisationReport:
    month: Month
    total: ComplianceRow
    response: times.Times | None
    resolution: times.Times | None
    satisfaction: SatisfactionFigures
    measures: list[MeasureLine]


def organisation_report(
    session: Session, viewer: Account, month: Month, timezone: str, now: datetime
) -> OrganisationReport | None:
    """The viewer's organisation's report; None unless they are its admin."""
    if viewer.kind != "customer" or not viewer.is_org_admin or viewer.organisation_id is None:
        return None
    f = ReportFilters(
        start=month.first_day,
        end=month.next_first_day - timedelta(days=1),
        organisation_id=viewer.organisation_id,
    )
    where = clauses(f, timezone)
    c = figures.compliance(session, where, now).get(None) or figures.Compliance(None, 0, 0, 0, 0, 0)
    M = ImprovementMeasure
    rows = session.execute(
        select(M.measure, M.deadline, M.status)
        .join(Feedback, Feedback.id == M.feedback_id)
        .join(SR, SR.id == Feedback.request_id)
        .where(SR.organisation_id == viewer.organisation_id)
        .where((M.status != MEASURE_DONE) | (M.done_at >= bounds(f.start, f.end, timezone)[0]))
        .order_by(M.deadline, M.id)
        .limit(50)
    )
    today = now.date()
    return OrganisationReport(
        month=month,
        total=ComplianceRow(
            None,
            None,
            "",
            c.requests,
            c.response_met,
            c.response_missed,
            c.resolution_met,
            c.resolution_missed,
        ),
        response=times.times(session, where, "response").get(None),
        resolution=times.times(session, where, "resolution").get(None),
        satisfaction=satisfaction_figures(session, where, c),
        measures=[
            MeasureLine(text, deadline, status, status != MEASURE_DONE and deadline < today)
            for text, deadline, status in rows
        ],
    )
