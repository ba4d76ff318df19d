"""The requests behind a number: each figure of a report names a condition (``FIGURES``), and a
group (``by`` and its ``value``) narrows it, so that the drill-down lists exactly the requests
the number counted, through the queue's listing (same masking, same keyset pages)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.orm import Session

from portal.domain.report_stats import Month
from portal.models import Feedback, HandlingRecord, HandlingStep, ServiceRequest
from portal.services.reports import figures
from portal.services.reports.filters import ReportFilters, clauses

SR = ServiceRequest
SCORE_COLUMNS = {
    "response": Feedback.score_response,
    "effect": Feedback.score_effect,
    "attitude": Feedback.score_attitude,
}
BY = ("priority", "type", "organisation", "engineer", "level", "month", "score")


def _has_steps(author_id: int | None) -> ColumnElement[bool]:
    steps = (
        select(HandlingStep.id)
        .join(HandlingRecord, HandlingRecord.id == HandlingStep.record_id)
        .where(HandlingRecord.request_id == SR.id)
    )
    if author_id is not None:
        steps = steps.where(HandlingStep.author_id == author_id)
    return exists(steps)


def _failed_delivery() -> ColumnElement[bool]:
    return SR.rework_count > 0  # the rework count goes up with each failed acceptance


def _rated() -> ColumnElement[bool]:
    return exists(select(Feedback.id).where(Feedback.request_id == SR.id))


def figure_clause(figure: str, now: datetime) -> ColumnElement[bool] | None:
    """The condition of a figure; None for an unknown name."""
    table = {
        "requests": lambda: SR.id.is_not(None),
        "response_met": figures.response_met,
        "response_missed": lambda: figures.response_missed(now),
        "resolution_met": figures.resolution_met,
        "resolution_missed": lambda: figures.resolution_missed(now),
        "escalated": lambda: SR.escalation_level > 0,
        "response_timed": lambda: SR.response_seconds.is_not(None),
        "resolution_timed": lambda: SR.resolution_seconds.is_not(None),
        "rework": _failed_delivery,
        "invited": lambda: figures.RESOLVED,
        "rated": _rated,
    }
    make = table.get(figure)
    return make() if make else None


FIGURES = (
    "requests",
    "response_met",
    "response_missed",
    "resolution_met",
    "resolution_missed",
    "escalated",
    "response_timed",
    "resolution_timed",
    "hours",
    "rework",
    "invited",
    "rated",
)


@dataclass(frozen=True)
class Drill:
    figure: str
    by: str | None = None
    value: str | None = None


class DrillError(ValueError):
    pass


def parse(args) -> Drill:
    figure = (args.get("figure") or "").strip()
    by = (args.get("by") or "").strip() or None
    value = (args.get("value") or "").strip() or None
    if figure not in FIGURES or (by is not None and by not in BY):
        raise DrillError(figure)
    if by is not None and (value is None or len(value) > 60):
        raise DrillError(by)
    return Drill(figure, by, value)


def clauses_for(
    session: Session,
    drill: Drill,
    filters: ReportFilters,
    timezone: str,
    now: datetime,
    author_id: int | None = None,
) -> list[ColumnElement[bool]]:
    """The conditions on service_requests of the requests behind ``drill``."""
    if drill.by == "month":
        month = Month.parse(drill.value)
        if month is None:
            raise DrillError(drill.value)
        last = month.next_first_day - timedelta(days=1)
        filters = replace(filters, start=month.first_day, end=last)
    where = list(clauses(filters, timezone))
    engineer = None
    if drill.by == "priority":
        where.append(SR.priority == drill.value)
    elif drill.by == "type":
        where.append(SR.type == drill.value)
    elif drill.by in ("organisation", "engineer", "level"):
        if not (drill.value or "").isdigit():
            raise DrillError(drill.value)
        number = int(drill.value)
        if drill.by == "organisation":
            where.append(SR.organisation_id == number)
        elif drill.by == "level":
            where.append(SR.escalation_level == number)
        elif drill.figure == "hours":
            engineer = number  # hours by engineer: the steps they logged
        else:
            where.append(SR.handler_id == number)
    elif drill.by == "score":
        dimension, _, score = (drill.value or "").partition(":")
        if dimension not in SCORE_COLUMNS or score not in {"1", "2", "3", "4", "5"}:
            raise DrillError(drill.value)
        where.append(
            exists(
                select(Feedback.id).where(
                    Feedback.request_id == SR.id, SCORE_COLUMNS[dimension] == int(score)
                )
            )
        )
    if drill.figure == "hours":
        where.append(_has_steps(engineer if engineer is not None else author_id))
    else:
        condition = figure_clause(drill.figure, now)
        if condition is None:
            raise DrillError(drill.figure)
        where.append(condition)
    return [and_(*where)]
