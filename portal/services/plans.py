"""Periodic service plans (定期技术服务, docs/product.md §10): creating and changing them
(audited, checked against the organisation's business calendar), pausing and resuming, and the
schedule of one plan. The dates are portal/domain/plans.py's; the requests are opened by
portal/services/plan_opener.py; the pages are built by portal/services/plan_pages.py.

A change never reaches back: a plan's ``effective_from`` moves to the moment its schedule was
changed (or it was resumed), and only occurrences that open from that day on follow it. The
requests already opened stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import plans as rules
from portal.domain.masking import mask_email, mask_name
from portal.domain.vocabulary import Priority
from portal.models import Account, Department, Organisation, ServicePlan, SlaPolicy
from portal.services import audit, calendars

TITLE_MAX = 200
SERVICE_ITEM_MAX = 200


class PlanInputError(ValueError):
    """A refused plan: ``field`` is the form field, ``code`` what is wrong (worded by
    portal.presentation.plans)."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


@dataclass(frozen=True)
class PlanInput:
    title: str
    service_item: str
    checklist: str
    contact_id: int | None
    rule: rules.RuleChoice
    shift: str
    lead_days: int
    priority: str
    starts_on: date | None
    ends_on: date | None = None
    handler_id: int | None = None
    department_id: int | None = None
    sla_policy_id: int | None = None


@dataclass(frozen=True)
class Checked:
    """A plan's input after the checks: what the row gets."""

    values: dict
    preview: list[rules.Occurrence]


def schedule_of(plan: ServicePlan) -> rules.Schedule:
    return rules.Schedule(plan.rule, plan.starts_on, plan.ends_on, plan.shift, plan.lead_days)


def calendar_of(session: Session, organisation_id: int | None, cache: dict | None = None):
    """The organisation's business calendar (its own, else the desk's default); with ``cache``
    (a dict the caller keeps for one page or one run), read once per organisation."""
    if cache is None:
        return calendars.for_organisation(session, organisation_id)
    if organisation_id not in cache:
        cache[organisation_id] = calendars.for_organisation(session, organisation_id)
    return cache[organisation_id]


def check(session: Session, data: PlanInput, now: datetime) -> Checked:
    """Every check a plan's input gets, in the order of the form; PlanInputError at the first
    field that cannot be."""
    title = " ".join((data.title or "").split())
    if not title:
        raise PlanInputError("title", "missing")
    if len(title) > TITLE_MAX:
        raise PlanInputError("title", "too-long")
    service_item = " ".join((data.service_item or "").split())
    if not service_item:
        raise PlanInputError("service_item", "missing")
    if len(service_item) > SERVICE_ITEM_MAX:
        raise PlanInputError("service_item", "too-long")
    contact = session.get(Account, data.contact_id) if data.contact_id else None
    if contact is None or contact.kind != "customer" or not contact.active:
        raise PlanInputError("contact_id", "unknown")
    organisation = session.get(Organisation, contact.organisation_id)
    if organisation is None or not organisation.active:
        raise PlanInputError("contact_id", "organisation-inactive")
    try:
        items = rules.checklist_items(data.checklist)
    except rules.PlanError as exc:
        raise PlanInputError(exc.field, exc.code) from None
    if data.handler_id:
        handler = session.get(Account, data.handler_id)
        if handler is None or handler.kind != "staff" or not handler.active:
            raise PlanInputError("handler_id", "unknown")
    if data.department_id:
        department = session.get(Department, data.department_id)
        if department is None or not department.active:
            raise PlanInputError("department_id", "unknown")
    if data.priority not in {p.value for p in Priority}:
        raise PlanInputError("priority", "unknown")
    if data.sla_policy_id:
        policy = session.get(SlaPolicy, data.sla_policy_id)
        if policy is None or not policy.active:
            raise PlanInputError("sla_policy_id", "unknown")
    if data.starts_on is None:
        raise PlanInputError("starts_on", "missing")
    try:
        rule = data.rule.to_rrule()
        schedule = rules.Schedule(rule, data.starts_on, data.ends_on, data.shift, data.lead_days)
        calendar = calendar_of(session, organisation.id)
        preview = rules.check_schedule(calendar, schedule, calendar.local_date(now))
    except rules.PlanError as exc:
        raise PlanInputError(exc.field, exc.code) from None
    values = {
        "title": title,
        "service_item": service_item,
        "checklist": "\n".join(items),
        "contact_id": contact.id,
        "organisation_id": organisation.id,
        "handler_id": data.handler_id or None,
        "department_id": data.department_id or None,
        "rule": rule,
        "shift": data.shift,
        "lead_days": data.lead_days,
        "priority": data.priority,
        "sla_policy_id": data.sla_policy_id or None,
        "starts_on": data.starts_on,
        "ends_on": data.ends_on,
    }
    return Checked(values, preview)


# the columns whose change moves the dates: a change of them starts from now
SCHEDULE_FIELDS = ("rule", "shift", "lead_days", "starts_on", "ends_on")


def _display(session: Session, values: dict) -> dict:
    """Audit values as a reader says them: names, not ids (the contact's masked)."""
    out = {}
    for key, value in values.items():
        if key == "contact_id":
            account = session.get(Account, value) if value else None
            out["contact"] = mask_name(account.name) if account else None
        elif key == "handler_id":
            account = session.get(Account, value) if value else None
            out["handler"] = account.name if account else None
        elif key == "department_id":
            department = session.get(Department, value) if value else None
            out["department"] = department.name_zh if department else None
        elif key == "sla_policy_id":
            policy = session.get(SlaPolicy, value) if value else None
            out["sla_policy"] = policy.name if policy else None
        elif key == "organisation_id":
            organisation = session.get(Organisation, value) if value else None
            out["organisation"] = organisation.name if organisation else None
        elif isinstance(value, date):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out


def create(
    session: Session, actor: audit.Actor, account: Account, data: PlanInput, now: datetime
) -> ServicePlan:
    checked = check(session, data, now)
    plan = ServicePlan(
        **checked.values,
        effective_from=now,
        created_by_id=account.id,
        created_at=now,
        updated_at=now,
    )
    session.add(plan)
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "service_plan.created",
        "service_plan",
        plan.id,
        after=_display(session, checked.values),
    )
    return plan


def update(
    session: Session, actor: audit.Actor, plan: ServicePlan, data: PlanInput, now: datetime
) -> bool:
    """Change a plan; False when nothing changed. A changed schedule applies from now on."""
    checked = check(session, data, now)
    changed = {k: v for k, v in checked.values.items() if getattr(plan, k) != v}
    if not changed:
        return False
    before = {k: getattr(plan, k) for k in changed}
    for key, value in changed.items():
        setattr(plan, key, value)
    if any(k in changed for k in SCHEDULE_FIELDS):
        plan.effective_from = now
    plan.updated_at = now
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "service_plan.updated",
        "service_plan",
        plan.id,
        before=_display(session, before),
        after=_display(session, changed),
    )
    return True


def pause(session: Session, actor: audit.Actor, plan: ServicePlan, now: datetime) -> bool:
    """No request opens while a plan is paused (those due meanwhile are not opened later)."""
    if plan.paused_at is not None:
        return False
    plan.paused_at = now
    plan.updated_at = now
    session.flush()
    audit.record(session, actor, now, "service_plan.paused", "service_plan", plan.id)
    return True


def resume(session: Session, actor: audit.Actor, plan: ServicePlan, now: datetime) -> bool:
    """The plan opens its requests again, from today's on."""
    if plan.paused_at is None:
        return False
    plan.paused_at = None
    plan.effective_from = now
    plan.updated_at = now
    session.flush()
    audit.record(session, actor, now, "service_plan.resumed", "service_plan", plan.id)
    return True


def preview(
    session: Session, plan: ServicePlan, now: datetime, cache: dict | None = None
) -> list[rules.Occurrence]:
    """The next 12 occurrences from today (the organisation's calendar as it is now)."""
    calendar = calendar_of(session, plan.organisation_id, cache)
    return rules.occurrences(calendar, schedule_of(plan), calendar.local_date(now))


def preview_input(session: Session, data: PlanInput, now: datetime) -> list[rules.Occurrence]:
    """The preview of a form's values (the form's "Preview" button): PlanInputError as
    ``check``."""
    return check(session, data, now).preview


def input_of(plan: ServicePlan) -> PlanInput:
    """A plan's values as the form shows them."""
    return PlanInput(
        title=plan.title,
        service_item=plan.service_item,
        checklist=plan.checklist,
        contact_id=plan.contact_id,
        rule=rules.choice_of(plan.rule),
        shift=plan.shift,
        lead_days=plan.lead_days,
        priority=plan.priority,
        starts_on=plan.starts_on,
        ends_on=plan.ends_on,
        handler_id=plan.handler_id,
        department_id=plan.department_id,
        sla_policy_id=plan.sla_policy_id,
    )


# --- the form's choices ------------------------------------------------------------------------


@dataclass(frozen=True)
class Choices:
    # "organisation · 李* (l***@acme.example.com)": masked, as the admin area shows contacts
    contacts: list[tuple[int, str]]
    handlers: list[tuple[int, str]]
    departments: list[Department]
    policies: list[tuple[int, str]]


def choices(session: Session) -> Choices:
    """The form's lists (four queries): active customer contacts of active organisations (their
    names masked), active staff, departments and SLA policies."""
    contacts = session.execute(
        select(Account.id, Account.name, Account.email, Organisation.name)
        .join(Organisation, Organisation.id == Account.organisation_id)
        .where(Account.kind == "customer", Account.active.is_(True), Organisation.active.is_(True))
        .order_by(Organisation.name, Account.name, Account.id)
    ).all()
    handlers = session.execute(
        select(Account.id, Account.name)
        .where(Account.kind == "staff", Account.active.is_(True))
        .order_by(Account.name, Account.id)
    ).all()
    departments = list(
        session.scalars(
            select(Department).where(Department.active.is_(True)).order_by(Department.code)
        )
    )
    policies = session.execute(
        select(SlaPolicy.id, SlaPolicy.name)
        .where(SlaPolicy.active.is_(True))
        .order_by(SlaPolicy.name)
    ).all()
    return Choices(
        contacts=[
            (i, f"{org} · {mask_name(name)} ({mask_email(email)})")
            for i, name, email, org in contacts
        ],
        handlers=[(i, name) for i, name in handlers],
        departments=departments,
        policies=[(i, name) for i, name in policies],
    )
