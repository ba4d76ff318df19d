"""The aggregates of a report, each one statement grouped in the database.

``where`` is the list of conditions on service_requests (``filters.clauses``); ``group`` a SQL
expression to group by (a column of service_requests, the month of submission, or None for one
total). Every function returns plain rows keyed by the group's value (None for the total).

The rules of compliance, read from the instants stored on the request by portal.services.sla:
- response met: the first response came at or before its due time; missed: it came later, or
  never came and the due time passed while the request was still open (or before it was
  cancelled); otherwise undecided (not counted);
- resolution met: the accepted delivery came at or before its due time (``delivered_at`` of a
  completed request); missed: it came later, or the due time passed with the clock running
  (before a pause began, before cancellation); otherwise undecided.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from portal.domain.feedback import DIMENSIONS
from portal.models import Feedback, HandlingRecord, HandlingStep, ServiceRequest

SR = ServiceRequest
RESOLVED = and_(SR.completed_at.is_not(None), SR.status != "cancelled")


def _instant(now: datetime):
    # bound as the columns are (UTC, the zone put back on SQLite)
    return literal(now, type_=SR.submitted_at.type)


def response_met() -> ColumnElement[bool]:
    return and_(
        SR.response_due_at.is_not(None),
        SR.first_response_at.is_not(None),
        SR.first_response_at <= SR.response_due_at,
    )


def response_missed(now: datetime) -> ColumnElement[bool]:
    return and_(
        SR.response_due_at.is_not(None),
        or_(
            and_(SR.first_response_at.is_not(None), SR.first_response_at > SR.response_due_at),
            and_(
                SR.first_response_at.is_(None),
                SR.response_due_at < func.coalesce(SR.cancelled_at, SR.closed_at, _instant(now)),
            ),
        ),
    )


def resolution_met() -> ColumnElement[bool]:
    return and_(
        RESOLVED, SR.resolution_due_at.is_not(None), SR.delivered_at <= SR.resolution_due_at
    )


def resolution_missed(now: datetime) -> ColumnElement[bool]:
    return and_(
        SR.resolution_due_at.is_not(None),
        or_(
            and_(RESOLVED, SR.delivered_at > SR.resolution_due_at),
            and_(
                ~RESOLVED,
                SR.resolution_due_at
                < func.coalesce(SR.cancelled_at, SR.paused_since, _instant(now)),
            ),
        ),
    )


def _count(condition) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _key(group):
    return (group if group is not None else literal(None)).label("key")


def _grouped(stmt, group):
    return stmt.group_by(group) if group is not None else stmt


@dataclass(frozen=True)
class Summary:
    """The counts of one group, from one scan of its requests (joined outward to their
    feedback): SLA compliance, rework, hours and satisfaction."""

    key: object
    requests: int = 0
    response_met: int = 0
    response_missed: int = 0
    resolution_met: int = 0
    resolution_missed: int = 0
    failed: int = 0  # failed acceptances (the rework count)
    passed: int = 0  # accepted deliveries: the requests invited to rate
    hours: Decimal = Decimal("0.00")
    rated: int = 0
    means: dict = None  # dimension → unrounded mean (None without ratings)

    @property
    def deliveries(self) -> int:
        """Decided deliveries: each failed acceptance and the one that passed."""
        return self.failed + self.passed

    @property
    def invited(self) -> int:
        return self.passed


Compliance = Summary  # the compliance counts are a summary's


def summary(session: Session, where, now: datetime, group=None) -> dict[object, Summary]:
    """One statement per grouping: every count of the report for the requests of ``where``."""
    stmt = (
        select(
            _key(group),
            func.count(SR.id),
            _count(response_met()),
            _count(response_missed(now)),
            _count(resolution_met()),
            _count(resolution_missed(now)),
            func.coalesce(func.sum(SR.rework_count), 0),
            _count(RESOLVED),
            func.coalesce(func.sum(SR.hours_logged), 0),
            func.count(Feedback.id),
            func.avg(Feedback.score_response),
            func.avg(Feedback.score_effect),
            func.avg(Feedback.score_attitude),
        )
        .select_from(SR)
        .outerjoin(Feedback, Feedback.request_id == SR.id)
        .where(*where)
    )
    out = {}
    for row in session.execute(_grouped(stmt, group)):
        means = {
            dim: (float(value) if value is not None else None)
            for dim, value in zip(DIMENSIONS, row[10:], strict=True)
        }
        out[row[0]] = Summary(
            row[0],
            *(int(v) for v in row[1:8]),
            hours=Decimal(str(row[8])).quantize(Decimal("0.01")),
            rated=int(row[9]),
            means=means,
        )
    return out


def compliance(session: Session, where, now: datetime, group=None) -> dict[object, Summary]:
    return summary(session, where, now, group)


EMPTY = Summary(None, means=dict.fromkeys(DIMENSIONS))


def breaches_by_level(session: Session, where) -> dict[int, int]:
    """How many requests escalated, by the highest escalation level each reached (1: the
    supervisor at the breach, 2 and up: one level up after each further interval)."""
    stmt = (
        select(SR.escalation_level, func.count())
        .where(*where, SR.escalation_level > 0)
        .group_by(SR.escalation_level)
        .order_by(SR.escalation_level)
    )
    return {int(level): int(n) for level, n in session.execute(stmt)}


def hours(session: Session, where, group, author_id: int | None = None) -> dict[object, Decimal]:
    """Hours logged in the IR steps of the requests, by ``group`` (``HandlingStep.author_id``:
    by engineer); ``author_id``: only that person's steps."""
    stmt = (
        select(_key(group), func.coalesce(func.sum(HandlingStep.hours), 0))
        .select_from(HandlingStep)
        .join(HandlingRecord, HandlingRecord.id == HandlingStep.record_id)
        .join(SR, SR.id == HandlingRecord.request_id)
        .where(*where)
    )
    if author_id is not None:
        stmt = stmt.where(HandlingStep.author_id == author_id)
    return {
        key: Decimal(str(total)).quantize(Decimal("0.01"))
        for key, total in session.execute(_grouped(stmt, group))
    }


def distribution(session: Session, where) -> dict[str, dict[int, int]]:
    """dimension → score → how many ratings gave it; one statement."""
    columns = {
        "response": Feedback.score_response,
        "effect": Feedback.score_effect,
        "attitude": Feedback.score_attitude,
    }
    parts = [
        select(literal(dim).label("dim"), col.label("score"), func.count().label("n"))
        .select_from(Feedback)
        .join(SR, SR.id == Feedback.request_id)
        .where(*where)
        .group_by(col)
        for dim, col in columns.items()
    ]
    out: dict[str, dict[int, int]] = {dim: {s: 0 for s in range(1, 6)} for dim in DIMENSIONS}
    for dim, score, n in session.execute(union_all(*parts)):
        out[dim][int(score)] = int(n)
    return out
