"""The pages of the periodic service plans (docs/product.md §10): the staff list and plan page
(preview, occurrences with their status and requests), the board's "due this week" and the
customer's plans. Each in a fixed number of queries whatever the number of occurrences.

An occurrence's status: upcoming (not opened yet), open, delivered on time (the first delivery
by the end of the due day's working time), delivered late, missed (the due day is over with
nothing delivered, or the request was cancelled).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from portal.domain import plans as rules
from portal.domain.masking import mask_name
from portal.domain.vocabulary import Status
from portal.models import (
    Account,
    Delivery,
    Department,
    Organisation,
    PlanOccurrence,
    ServicePlan,
    ServiceRequest,
    SlaPolicy,
)
from portal.presentation import plans as words
from portal.services.plan_opener import due_end
from portal.services.plans import calendar_of, preview, schedule_of

OCCURRENCES_LIMIT = 60
CUSTOMER_UPCOMING = 3


@dataclass(frozen=True)
class OccurrenceRow:
    plan_id: int
    occurs_on: date
    due_on: date
    status: str  # presentation.plans: upcoming / open / on_time / late / missed
    number: str | None = None
    opened_late: bool = False
    note: str = ""
    plan_title: str = ""
    organisation: str = ""
    contact_id: int | None = None  # the request's contact (who may open it on the customer side)


def _status(sr_status: str | None, first_delivery, due_at, now) -> str:
    if sr_status == Status.CANCELLED.value:
        return words.MISSED
    if first_delivery is not None:
        return words.ON_TIME if first_delivery <= due_at else words.LATE
    return words.MISSED if now > due_at else words.OPEN


def _opened_rows(session: Session, where, now: datetime, limit: int) -> list[OccurrenceRow]:
    """Opened occurrences with their request's number, status and first delivery (one query;
    one more per organisation calendar not loaded yet)."""
    first_delivery = (
        select(func.min(Delivery.delivered_at))
        .where(Delivery.request_id == PlanOccurrence.request_id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            PlanOccurrence,
            ServiceRequest.number,
            ServiceRequest.status,
            ServiceRequest.contact_id,
            first_delivery,
            ServicePlan.title,
            ServicePlan.organisation_id,
            Organisation.name,
        )
        .join(ServicePlan, ServicePlan.id == PlanOccurrence.plan_id)
        .join(Organisation, Organisation.id == ServicePlan.organisation_id)
        .outerjoin(ServiceRequest, ServiceRequest.id == PlanOccurrence.request_id)
        .where(where)
        .order_by(PlanOccurrence.due_on.desc(), PlanOccurrence.id.desc())
        .limit(limit)
    ).all()
    out = []
    calendars: dict = {}
    for occ, number, sr_status, contact_id, delivered, title, org_id, org_name in rows:
        due_at = due_end(calendar_of(session, org_id, calendars), occ.due_on)
        out.append(
            OccurrenceRow(
                plan_id=occ.plan_id,
                occurs_on=occ.occurs_on,
                due_on=occ.due_on,
                status=_status(sr_status, delivered, due_at, now),
                number=number,
                opened_late=occ.status == "opened_late",
                note=occ.note,
                plan_title=title,
                organisation=org_name,
                contact_id=contact_id,
            )
        )
    return out


# --- the staff list ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanRow:
    id: int
    title: str
    organisation: str
    rule: str
    paused: bool
    next_due: date | None
    handler: str | None


def plan_list(session: Session, now: datetime) -> list[PlanRow]:
    """Every plan with its organisation, default handler and next due day (two queries, and
    one per organisation calendar)."""
    Handler = aliased(Account)
    rows = session.execute(
        select(ServicePlan, Organisation.name, Handler.name)
        .join(Organisation, Organisation.id == ServicePlan.organisation_id)
        .outerjoin(Handler, Handler.id == ServicePlan.handler_id)
        .order_by(Organisation.name, ServicePlan.title, ServicePlan.id)
    ).all()
    out = []
    calendars: dict = {}
    for plan, organisation, handler in rows:
        upcoming = [] if plan.paused_at else preview(session, plan, now, calendars)[:1]
        out.append(
            PlanRow(
                id=plan.id,
                title=plan.title,
                organisation=organisation,
                rule=plan.rule,
                paused=plan.paused_at is not None,
                next_due=upcoming[0].due_on if upcoming else None,
                handler=handler,
            )
        )
    return out


# --- the plan page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewRow:
    occurrence: rules.Occurrence
    number: str | None  # the request, when this occurrence was opened already


@dataclass
class PlanPage:
    plan: ServicePlan
    organisation: str
    contact: str  # masked
    handler: str | None
    department: Department | None
    sla_policy: str | None
    checklist: list[str]
    preview: list[PreviewRow]
    occurrences: list[OccurrenceRow]
    fallback_years: list[int] = field(default_factory=list)

    @property
    def opened(self) -> int:
        return len(self.occurrences)


def plan_page(session: Session, plan: ServicePlan, now: datetime) -> PlanPage:
    """Five queries whatever the number of occurrences (plus the calendar once)."""
    organisation = session.get(Organisation, plan.organisation_id)
    contact = session.get(Account, plan.contact_id)
    handler = session.get(Account, plan.handler_id) if plan.handler_id else None
    department = session.get(Department, plan.department_id) if plan.department_id else None
    policy = session.get(SlaPolicy, plan.sla_policy_id) if plan.sla_policy_id else None
    occurrences = _opened_rows(session, PlanOccurrence.plan_id == plan.id, now, OCCURRENCES_LIMIT)
    opened = {row.occurs_on: row.number for row in occurrences}
    upcoming = preview(session, plan, now)
    return PlanPage(
        plan=plan,
        organisation=organisation.name if organisation else "",
        contact=mask_name(contact.name) if contact else "",
        handler=handler.name if handler else None,
        department=department,
        sla_policy=policy.name if policy else None,
        checklist=[line for line in plan.checklist.splitlines() if line.strip()],
        preview=[PreviewRow(o, opened.get(o.occurs_on)) for o in upcoming],
        occurrences=occurrences,
        fallback_years=sorted({o.occurs_on.year for o in upcoming if o.fallback}),
    )


# --- the board: due this week ------------------------------------------------------------------


def week_of(today: date) -> tuple[date, date]:
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


def due_this_week(session: Session, now: datetime, timezone: str) -> list[OccurrenceRow]:
    """The occurrences due this week (Monday to Sunday, desk time): those opened, with their
    request and status, and those still to open (two queries, and one per calendar)."""
    from zoneinfo import ZoneInfo

    today = now.astimezone(ZoneInfo(timezone)).date()
    monday, sunday = week_of(today)
    opened = _opened_rows(
        session,
        PlanOccurrence.due_on.between(monday, sunday),
        now,
        OCCURRENCES_LIMIT,
    )
    keys = {(r.plan_id, r.occurs_on) for r in opened}
    running = session.execute(
        select(ServicePlan, Organisation.name)
        .join(Organisation, Organisation.id == ServicePlan.organisation_id)
        .where(ServicePlan.paused_at.is_(None))
    ).all()
    upcoming = []
    calendars: dict = {}
    for plan, organisation in running:
        calendar = calendar_of(session, plan.organisation_id, calendars)
        for occ in rules.occurrences_to_open(calendar, schedule_of(plan), monday, sunday):
            if occ.due_on > sunday or (plan.id, occ.occurs_on) in keys:
                continue
            upcoming.append(
                OccurrenceRow(
                    plan_id=plan.id,
                    occurs_on=occ.occurs_on,
                    due_on=occ.due_on,
                    status=words.UPCOMING,
                    plan_title=plan.title,
                    organisation=organisation,
                )
            )
    return sorted(opened + upcoming, key=lambda r: (r.due_on, r.plan_title, r.plan_id))


# --- the customer's plans ----------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerPlan:
    id: int
    title: str
    service_item: str
    rule: str
    paused: bool
    upcoming: list[rules.Occurrence]
    recent: list[OccurrenceRow]  # numbers only where the viewer may open the request


def customer_plans(session: Session, viewer: Account, now: datetime) -> list[CustomerPlan]:
    """The plans of the viewer's organisation that concern them: their own (they accept the
    deliveries), all of them for an organisation admin or where colleagues may see each
    other's requests. A request's number is shown only where the viewer may open it."""
    if viewer.kind != "customer" or viewer.organisation_id is None:
        return []
    organisation = session.get(Organisation, viewer.organisation_id)
    sees_all = viewer.is_org_admin or bool(organisation and organisation.colleagues_may_view)
    query = select(ServicePlan).where(ServicePlan.organisation_id == viewer.organisation_id)
    if not sees_all:
        query = query.where(ServicePlan.contact_id == viewer.id)
    plans = list(session.scalars(query.order_by(ServicePlan.title, ServicePlan.id)))
    if not plans:
        return []
    recent = _opened_rows(
        session, PlanOccurrence.plan_id.in_([p.id for p in plans]), now, OCCURRENCES_LIMIT
    )
    out = []
    calendars: dict = {}
    for plan in plans:
        mine = [
            r if sees_all or r.contact_id == viewer.id else replace(r, number=None)
            for r in recent
            if r.plan_id == plan.id
        ][:CUSTOMER_UPCOMING]
        out.append(
            CustomerPlan(
                id=plan.id,
                title=plan.title,
                service_item=plan.service_item,
                rule=plan.rule,
                paused=plan.paused_at is not None,
                upcoming=[]
                if plan.paused_at
                else preview(session, plan, now, calendars)[:CUSTOMER_UPCOMING],
                recent=mine,
            )
        )
    return out
