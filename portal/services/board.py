"""The dispatcher's board (SCREENS: Board) and the escalation panel of the staff request page:
what each shows, in a fixed number of queries whatever the number of requests or events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from portal.models import (
    Account,
    AccountRole,
    HandlingStep,
    Organisation,
    ServiceRequest,
    SlaEvent,
)
from portal.services import plan_pages
from portal.services.availability import desk_today, unavailable_clause
from portal.services.queue import warned
from portal.services.timers import OPEN, RUNNING

BOARD_LIMIT = 50


@dataclass(frozen=True)
class BoardRow:
    id: int
    number: str
    title: str
    organisation: str
    priority: str | None
    status: str
    handler: str | None
    due_at: datetime | None
    escalation_level: int


@dataclass
class EngineerLoad:
    id: int
    name: str
    open_by_priority: dict[str, int]
    hours_this_week: Decimal

    @property
    def open_total(self) -> int:
        return sum(self.open_by_priority.values())


@dataclass
class Board:
    breached: list[BoardRow]
    at_risk: list[BoardRow]
    not_started: list[BoardRow]
    awaiting_customer: list[BoardRow]
    engineers: list[EngineerLoad]
    # open requests whose handler is deactivated or on leave: someone must take them over
    handler_unavailable: list[BoardRow]
    # the periodic service plans' occurrences due this week, opened or still to open
    plans_this_week: list = field(default_factory=list)
    limit: int = BOARD_LIMIT


def _board_rows(session: Session, where, due, order) -> list[BoardRow]:
    SR = ServiceRequest
    Handler = aliased(Account)
    rows = session.execute(
        select(
            SR.id,
            SR.number,
            SR.title,
            Organisation.name,
            SR.priority,
            SR.status,
            Handler.name,
            due.label("due_at"),
            SR.escalation_level,
        )
        .join(Organisation, Organisation.id == SR.organisation_id)
        .outerjoin(Handler, Handler.id == SR.handler_id)
        .where(where)
        .order_by(order, SR.id)
        .limit(BOARD_LIMIT + 1)
    ).all()
    return [BoardRow(*r) for r in rows]


def board(session: Session, now: datetime, timezone: str) -> Board:
    """Ten queries whatever the number of requests: five lists of at most 50 (+1 to say
    "more"), the engineers, their open load and their hours this week, and the service plans'
    occurrences due this week (two, and one per organisation calendar)."""
    SR = ServiceRequest
    resolution_running = and_(
        SR.status.in_(RUNNING), SR.paused_since.is_(None), SR.resolution_due_at.is_not(None)
    )
    response_running = and_(
        SR.status.in_(OPEN), SR.first_response_at.is_(None), SR.response_due_at.is_not(None)
    )
    res_breached = and_(resolution_running, SR.resolution_due_at < now)
    resp_breached = and_(response_running, SR.response_due_at < now)
    # the due time that matters: the response's while it is outstanding, else the resolution's
    due = case(
        (and_(response_running, SR.response_due_at < SR.resolution_due_at), SR.response_due_at),
        (response_running & SR.resolution_due_at.is_(None), SR.response_due_at),
        else_=SR.resolution_due_at,
    )

    breached = _board_rows(session, or_(res_breached, resp_breached), due, due.asc())
    # at risk: a running clock whose stored warning instant has come, as on the queue's badge
    at_risk = _board_rows(
        session,
        and_(
            ~or_(res_breached, resp_breached),
            or_(
                and_(resolution_running, warned(SR.resolution_warn_at, now)),
                and_(response_running, warned(SR.response_warn_at, now)),
            ),
        ),
        due,
        due.asc(),
    )
    not_started = _board_rows(
        session,
        and_(
            SR.status == "in_progress",
            SR.work_started_at.is_(None),
            exists().where(SlaEvent.request_id == SR.id, SlaEvent.kind == "not_started"),
        ),
        SR.assigned_at,
        SR.assigned_at.asc(),
    )
    awaiting = _board_rows(
        session, SR.status == "awaiting_customer", SR.paused_since, SR.paused_since.asc()
    )

    Handler = aliased(Account)
    handler_unavailable = _board_rows(
        session,
        and_(
            SR.status.in_(OPEN),
            SR.handler_id.in_(
                select(Handler.id).where(unavailable_clause(Handler, desk_today(now, timezone)))
            ),
        ),
        due,
        due.asc(),
    )

    engineers = session.execute(
        select(Account.id, Account.name)
        .join(AccountRole, AccountRole.account_id == Account.id)
        .where(AccountRole.role == "engineer", Account.active.is_(True))
        .order_by(Account.name, Account.id)
    ).all()
    load: dict[int, dict[str, int]] = {}
    for handler_id, priority, n in session.execute(
        select(SR.handler_id, SR.priority, func.count())
        .where(SR.status.in_(OPEN), SR.handler_id.is_not(None))
        .group_by(SR.handler_id, SR.priority)
    ):
        load.setdefault(handler_id, {})[priority or "-"] = n
    local = now.astimezone(ZoneInfo(timezone))
    week_start = datetime.combine(
        local.date() - timedelta(days=local.weekday()), clock_time(0), ZoneInfo(timezone)
    )
    hours = dict(
        session.execute(
            select(HandlingStep.author_id, func.coalesce(func.sum(HandlingStep.hours), 0))
            .where(HandlingStep.occurred_at >= week_start, HandlingStep.occurred_at <= now)
            .group_by(HandlingStep.author_id)
        ).all()
    )
    return Board(
        breached=breached,
        at_risk=at_risk,
        not_started=not_started,
        awaiting_customer=awaiting,
        handler_unavailable=handler_unavailable,
        engineers=[
            EngineerLoad(eid, name, load.get(eid, {}), Decimal(hours.get(eid, 0) or 0))
            for eid, name in engineers
        ],
        plans_this_week=plan_pages.due_this_week(session, now, timezone),
    )


# --- the escalation panel of the staff request page ---------------------------------------------

EXPLAIN_ROLES = ("supervisor",)  # who explains a late request to the customer (向客户说明原因)


@dataclass(frozen=True)
class SlaEventRow:
    kind: str
    due_at: datetime
    fired_at: datetime


@dataclass(frozen=True)
class EscalationPanel:
    level: int
    events: list[SlaEventRow]  # the warnings, breaches and escalations fired, oldest first
    may_explain: bool  # the viewer may send the customer an explanation


def escalation_panel(
    session: Session, sr: ServiceRequest, viewer: Account
) -> EscalationPanel | None:
    """The request's escalation level and its SLA events, for staff; None (no panel) for a
    request never escalated, except to supervisors and admins. One query."""
    if sr.escalation_level == 0 and not viewer.has_role("supervisor", "admin"):
        return None
    events = [
        SlaEventRow(*row)
        for row in session.execute(
            select(SlaEvent.kind, SlaEvent.due_at, SlaEvent.fired_at)
            .where(SlaEvent.request_id == sr.id)
            .order_by(SlaEvent.fired_at)
        )
    ]
    return EscalationPanel(sr.escalation_level, events, viewer.has_role(*EXPLAIN_ROLES))
