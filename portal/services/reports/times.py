"""Medians and 90th percentiles of the time each target took, picked by rank in SQL.

The values are ``response_seconds`` and ``resolution_seconds``, stored by portal.services.sla:
working time where the target runs on the business calendar, elapsed time on the 24×7 clock,
paused time excluded. One statement per figure and grouping. On PostgreSQL, ``percentile_cont``
(the same linear interpolation); elsewhere a window numbers the values of each group in order,
and only the rows at the two ranks each quantile needs
(``portal.domain.report_stats.rank_bounds``) come back — at most four rows a group. The tests
run both backends against the same exact figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, literal, or_, select
from sqlalchemy.orm import Session

from portal.domain.report_stats import MEDIAN, P90, quantile_from_ranks
from portal.models import ServiceRequest

SR = ServiceRequest
COLUMNS = {"response": SR.response_seconds, "resolution": SR.resolution_seconds}


@dataclass(frozen=True)
class Times:
    key: object
    count: int
    median: float | None  # seconds
    p90: float | None


def _bound(n, tenths: int, upper: bool):
    """``rank_bounds`` in SQL: integer division, the same on SQLite and PostgreSQL."""
    return ((n - 1) * tenths + (9 if upper else 0)) // 10 + 1


def times(session: Session, where, which: str, group=None) -> dict[object, Times]:
    if session.get_bind().dialect.name == "postgresql":
        return _ordered_set(session, where, which, group)
    return _by_rank(session, where, which, group)


def both(session: Session, where, group=None) -> tuple[dict, dict]:
    """The response and the resolution times of each group: (response, resolution). On
    PostgreSQL one statement (``percentile_cont`` leaves out the NULLs of each column)."""
    if session.get_bind().dialect.name != "postgresql":
        return times(session, where, "response", group), times(session, where, "resolution", group)
    key = group if group is not None else literal(0)
    columns = []
    for value in COLUMNS.values():
        columns += [
            func.count(value),
            func.percentile_cont(MEDIAN / 10).within_group(value),
            func.percentile_cont(P90 / 10).within_group(value),
        ]
    stmt = select(key.label("key"), *columns).where(*where)
    if group is not None:
        stmt = stmt.group_by(group)
    response: dict = {}
    resolution: dict = {}
    for row in session.execute(stmt):
        k = None if group is None else row[0]
        for out, (n, median, p90) in ((response, row[1:4]), (resolution, row[4:7])):
            if n:
                out[k] = Times(k, int(n), float(median), float(p90))
    return response, resolution


def _ordered_set(session: Session, where, which: str, group) -> dict[object, Times]:
    """PostgreSQL: ``percentile_cont``, the same interpolation, in one sort per group."""
    value = COLUMNS[which]
    stmt = select(
        (group if group is not None else literal(0)).label("key"),
        func.count(value),
        func.percentile_cont(MEDIAN / 10).within_group(value),
        func.percentile_cont(P90 / 10).within_group(value),
    ).where(*where, value.is_not(None))
    if group is not None:
        stmt = stmt.group_by(group)
    out = {}
    for key, n, median, p90 in session.execute(stmt):
        if not n:
            continue
        k = None if group is None else key
        out[k] = Times(k, int(n), float(median), float(p90))
    return out


def _by_rank(session: Session, where, which: str, group) -> dict[object, Times]:
    """Any database: a window numbers the values, the two ranks of each quantile come back."""
    value = COLUMNS[which]
    key = group if group is not None else literal(0)
    numbered = (
        select(
            key.label("key"),
            value.label("v"),
            func.row_number().over(partition_by=key, order_by=value).label("rn"),
            func.count().over(partition_by=key).label("n"),
        )
        .where(*where, value.is_not(None))
        .subquery()
    )
    n, rn = numbered.c.n, numbered.c.rn
    picked = select(numbered.c.key, n, rn, numbered.c.v).where(
        or_(*(rn == _bound(n, q, upper) for q in (MEDIAN, P90) for upper in (False, True)))
    )
    ranks: dict[object, dict[int, float]] = {}
    counts: dict[object, int] = {}
    for k, count, rank, v in session.execute(picked):
        k = None if group is None else k
        ranks.setdefault(k, {})[int(rank)] = float(v)
        counts[k] = int(count)
    return {
        k: Times(
            k,
            counts[k],
            quantile_from_ranks(counts[k], MEDIAN, ranks[k]),
            quantile_from_ranks(counts[k], P90, ranks[k]),
        )
        for k in counts
    }
