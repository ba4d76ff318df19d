"""The report page's data: every figure of the filters' period, grouped, with the 12-month
trend. A fixed number of statements whatever the number of requests (tested)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain.feedback import DIMENSIONS
from portal.domain.report_stats import mean_of_means, one_decimal, rate, ratio
from portal.models import Account, Department, HandlingStep, Organisation, ServiceRequest
from portal.services.reports import figures, times
from portal.services.reports.filters import ReportFilters, clauses, sees_all

SR = ServiceRequest
GROUPS = {
    "priority": SR.priority,
    "type": SR.type,
    "organisation": SR.organisation_id,
    "engineer": SR.handler_id,
}


@dataclass(frozen=True)
class ComplianceRow:
    by: str | None
    key: object  # the group's value (None: the total)
    label: str  # a name for organisations and engineers; the code otherwise
    requests: int
    response_met: int
    response_missed: int
    resolution_met: int
    resolution_missed: int

    @property
    def response_rate(self) -> Decimal | None:
        return rate(self.response_met, self.response_met + self.response_missed)

    @property
    def resolution_rate(self) -> Decimal | None:
        return rate(self.resolution_met, self.resolution_met + self.resolution_missed)


@dataclass(frozen=True)
class TimesRow:
    by: str | None
    key: object
    response: times.Times | None
    resolution: times.Times | None


@dataclass(frozen=True)
class HoursRow:
    by: str
    key: object
    label: str
    hours: Decimal


@dataclass(frozen=True)
class SatisfactionFigures:
    invited: int
    rated: int
    means: dict[str, Decimal | None]
    mean: Decimal | None
    distribution: dict[str, dict[int, int]]

    @property
    def response_rate(self) -> Decimal | None:
        return rate(self.rated, self.invited)


@dataclass
class ReportPage:
    filters: ReportFilters
    own_figures: bool  # an engineer's own report
    total: ComplianceRow
    compliance: dict[str, list[ComplianceRow]]
    breaches: dict[int, int]
    times: list[TimesRow]
    hours: dict[str, list[HoursRow]]
    hours_total: Decimal
    deliveries: int
    failed: int
    satisfaction: SatisfactionFigures
    names: dict[str, dict[int, str]] = field(default_factory=dict)

    @property
    def rework_ratio(self) -> Decimal | None:
        return ratio(self.failed, self.deliveries)


def _names(session: Session, model, ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    rows = session.execute(select(model.id, model.name).where(model.id.in_(ids)))
    return {i: name for i, name in rows}


def satisfaction_figures(session: Session, where, total: figures.Summary) -> SatisfactionFigures:
    """The satisfaction of a summary, with the distribution of scores (one statement more)."""
    dist = figures.distribution(session, where)
    means = {d: one_decimal(total.means[d]) for d in DIMENSIONS}
    mean = mean_of_means([total.means[d] for d in DIMENSIONS]) if total.rated else None
    return SatisfactionFigures(total.invited, total.rated, means, mean, dist)


def _row(by: str | None, s: figures.Summary, label: str) -> ComplianceRow:
    return ComplianceRow(
        by,
        s.key,
        label,
        s.requests,
        s.response_met,
        s.response_missed,
        s.resolution_met,
        s.resolution_missed,
    )


def report_page(
    session: Session, viewer: Account, filters: ReportFilters, timezone: str, now: datetime
) -> ReportPage:
    """The report for ``filters`` (already scoped to the viewer: ``filters.scoped``)."""
    own = not sees_all(viewer)
    author_id = viewer.id if own else None
    where = clauses(filters, timezone)

    total = figures.summary(session, where, now).get(None) or figures.EMPTY
    raw = {by: figures.summary(session, where, now, col) for by, col in GROUPS.items()}
    if own:  # an engineer's hours are the steps they logged, not their collaborators'
        by_type = figures.hours(session, where, SR.type, author_id)
        by_org = figures.hours(session, where, SR.organisation_id, author_id)
    else:
        by_type = {k: v.hours for k, v in raw["type"].items() if v.hours}
        by_org = {k: v.hours for k, v in raw["organisation"].items() if v.hours}
    hours_raw = {
        "engineer": figures.hours(session, where, HandlingStep.author_id, author_id),
        "type": by_type,
        "organisation": by_org,
    }
    org_names = _names(session, Organisation, set(raw["organisation"]) | set(by_org))
    staff_names = _names(session, Account, set(raw["engineer"]) | set(hours_raw["engineer"]))
    labels = {"organisation": org_names, "engineer": staff_names}

    def label(by: str, key) -> str:
        if key is None:
            return ""
        return labels.get(by, {}).get(key, str(key))

    compliance = {
        by: sorted(
            (_row(by, c, label(by, c.key)) for c in rows.values()),
            key=lambda r, by=by: (r.key is None, r.label if by in labels else str(r.key)),
        )
        for by, rows in raw.items()
    }
    resp, resol = times.both(session, where, SR.priority)
    resp_all, resol_all = (found.get(None) for found in times.both(session, where))
    priorities = sorted(set(resp) | set(resol), key=lambda k: (k is None, k or ""))
    times_rows = [TimesRow("priority", p, resp.get(p), resol.get(p)) for p in priorities]
    times_rows.append(TimesRow(None, None, resp_all, resol_all))

    hours = {
        by: sorted(
            (HoursRow(by, k, label(by, k), v) for k, v in rows.items()),
            key=lambda r: (-r.hours, r.label),
        )
        for by, rows in hours_raw.items()
    }
    return ReportPage(
        filters=filters,
        own_figures=own,
        total=_row(None, total, ""),
        compliance=compliance,
        breaches=figures.breaches_by_level(session, where),
        times=times_rows,
        hours=hours,
        hours_total=sum((r.hours for r in hours["type"]), Decimal("0.00")),
        deliveries=total.deliveries,
        failed=total.failed,
        satisfaction=satisfaction_figures(session, where, total),
        names=labels,
    )


def filter_choices(session: Session) -> dict[str, list[tuple]]:
    """Staff and departments for the filter form: two statements. Organisations are typed
    (their code or name), as in the queue, not chosen from a list of thousands."""
    staff = session.execute(
        select(Account.id, Account.name)
        .where(Account.kind == "staff", Account.active.is_(True))
        .order_by(Account.name)
    )
    departments = session.execute(
        select(Department.id, Department.name_zh, Department.name_en).order_by(Department.code)
    )
    return {
        "engineers": [tuple(row) for row in staff],
        "departments": [tuple(row) for row in departments],
    }
