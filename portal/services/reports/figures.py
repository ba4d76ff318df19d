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
from portal.models import Delivery, Feedback, HandlingRecord, HandlingStep, ServiceRequest

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
class Compliance:
    key: object
    requests: int
    response_met: int
    response_missed: int
    resolution_met: int
    resolution_missed: int


def compliance(session: Session, where, now: datetime, group=None) -> dict[object, Compliance]:
    stmt = select(
        _key(group),
        func.count(),
        _count(response_met()),
        _count(response_missed(now)),
        _count(resolution_met()),
        _count(resolution_missed(now)),
    ).where(*where)
    return {
        row[0]: Compliance(row[0], *(int(v) for v in row[1:]))
        for row in session.execute(_grouped(stmt, group))
    }


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


@dataclass(frozen=True)
class Rework:
    key: object
    deliveries: int  # decided: passed or failed
    failed: int


def rework(session: Session, where, group=None) -> dict[object, Rework]:
    """Failed acceptances per decided delivery."""
    stmt = (
        select(
            _key(group),
            _count(Delivery.result.is_not(None)),
            _count(Delivery.result == "fail"),
        )
        .select_from(Delivery)
        .join(SR, SR.id == Delivery.request_id)
        .where(*where)
    )
    return {
        row[0]: Rework(row[0], int(row[1]), int(row[2]))
        for row in session.execute(_grouped(stmt, group))
    }


@dataclass(frozen=True)
class Satisfaction:
    key: object
    invited: int  # requests whose acceptance passed: invited to rate
    rated: int
    means: dict[str, float | None]  # dimension → unrounded mean


def satisfaction(session: Session, where, group=None) -> dict[object, Satisfaction]:
    """One statement: the requests invited (acceptance passed) and, joined outward, their
    feedback's count and dimension means."""
    stmt = (
        select(
            _key(group),
            _count(SR.completed_at.is_not(None)),
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
            for dim, value in zip(DIMENSIONS, row[3:], strict=True)
        }
        out[row[0]] = Satisfaction(row[0], int(row[1]), int(row[2]), means)
    return out


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
