"""Who handles a request and what it is (the template's steps 2–3): the supervisor's
classification, the dispatcher's assignment with its notice to the handler and the handler's
confirmation, and the collaborators who work on it with them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale
from flask_babel import lazy_gettext as _
from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import Session

from portal.domain import assignment as ranking
from portal.domain import classification as rules
from portal.domain import lifecycle
from portal.domain.availability import is_available
from portal.domain.vocabulary import Priority, RequestType, Status
from portal.models import (
    Account,
    AccountRole,
    Assignment,
    Classification,
    Collaborator,
    Organisation,
    ServiceRequest,
    Skill,
    StaffSkill,
    utcnow,
)
from portal.presentation.labels import PRIORITY_LABELS
from portal.presentation.presenters import free_text
from portal.services import audit, catalogue, outbox, preferences
from portal.services import lifecycle as lifecycle_service
from portal.services.availability import desk_today
from portal.services.calendars import desk_timezone
from portal.services.desk_settings import assignable_roles
from portal.services.notifications import notify
from portal.services.workflow.checks import CLOCK_SKEW, FieldError, check
from portal.services.workflow.handling import ensure_record

# ---------------------------------------------------------------------------------------------
# Classification (supervisor)


@dataclass
class ClassificationInput:
    type: str
    category: str | None
    impact_scope: str
    urgency: str
    business_importance: str
    confirmed_details: str
    priority: str | None = None  # None: take the suggestion
    expected_completion_at: datetime | None = None


def classify(
    session: Session,
    actor: audit.Actor,
    account: Account,
    sr: ServiceRequest,
    data: ClassificationInput,
    now: datetime,
    action: str | None = None,
    by_plan: bool = False,
) -> Classification:
    """Confirm type, category and priority; the first time moves submitted → pending
    assignment ("classify"), later ones keep the status ("reclassify"). A page passes the
    action it offered, so a request that changed meanwhile is refused, not silently redone.
    ``by_plan``: the scheduler opening a service plan's request ("plan_classify"); ``account``
    is then the plan's author, whose plan set the priority."""
    if by_plan:
        action = "plan_classify"
        caps = {lifecycle.SYSTEM}
        lifecycle.check(action, sr.status, caps)
    else:
        action = action or ("classify" if sr.status == Status.SUBMITTED else "reclassify")
        if action not in ("classify", "reclassify"):
            raise ValueError(action)
        caps = check(session, sr, account, action)
    suggested = rules.suggest_priority(data.impact_scope, data.urgency, data.business_importance)
    priority = Priority(data.priority) if data.priority else suggested
    request_type = RequestType(data.type).value
    # a category of the list, of the confirmed type (or the one the request already has)
    category = catalogue.check_category(
        session, request_type, data.category, keep=(sr.type, sr.category)
    )
    record = Classification(
        request_id=sr.id,
        classified_by_id=account.id,
        type=request_type,
        category=category,
        priority=priority.value,
        impact_scope=rules.ImpactScope(data.impact_scope).value,
        urgency=rules.Level(data.urgency).value,
        business_importance=rules.Level(data.business_importance).value,
        confirmed_details=data.confirmed_details.strip(),
        expected_completion_at=data.expected_completion_at,
        created_at=now,
    )
    before = {"type": sr.type, "category": sr.category, "priority": sr.priority}
    lifecycle_service.apply(
        session,
        actor,
        caps,
        sr,
        action,
        now,
        detail={
            "type": record.type,
            "category": category,
            "priority": record.priority,
            "suggested_priority": suggested.value,
            "previous": before,
        },
    )
    session.add(record)
    sr.type = record.type
    sr.category = category
    sr.priority = record.priority
    sr.classified_at = now
    if data.expected_completion_at is not None:
        sr.expected_completion_at = data.expected_completion_at
    if before["priority"] != record.priority:
        # a confirmed or changed priority recomputes both clocks from submission (docs/product.md §4)
        from portal.services import sla

        with session.no_autoflush:
            sla.recompute(session, sr, now)
    session.flush()
    return record


def latest_classification(session: Session, sr: ServiceRequest) -> Classification | None:
    return session.scalar(
        select(Classification)
        .where(Classification.request_id == sr.id)
        .order_by(Classification.created_at.desc(), Classification.id.desc())
        .limit(1)
    )


# ---------------------------------------------------------------------------------------------
# Assignment (dispatcher) and the handler's confirmation


def candidates(
    session: Session, sr: ServiceRequest, locale: str = "en", now: datetime | None = None
) -> list[ranking.Ranked]:
    """Active staff holding a role that takes requests (the desk setting ``assignable_roles``,
    portal.services.desk_settings), ranked for this request; whoever is on leave today counts
    as unavailable (portal.domain.availability). Four queries whatever the number of people:
    the setting, the people, their skills for the request's type, and their open load in one
    GROUP BY."""
    today = desk_today(now or utcnow(), desk_timezone())
    takes_requests = exists().where(
        AccountRole.account_id == Account.id,
        AccountRole.role.in_(assignable_roles(session)),
    )
    people = session.execute(
        select(Account.id, Account.name, Account.available, Account.on_leave_until)
        .where(Account.kind == "staff", Account.active.is_(True), takes_requests)
        .order_by(Account.name, Account.id)
    ).all()
    ids = [p.id for p in people]
    if not ids:
        return []
    skills: dict[int, list[ranking.SkillLevel]] = {}
    for row in session.execute(
        select(
            StaffSkill.account_id,
            StaffSkill.level,
            Skill.code,
            Skill.name_zh if locale.startswith("zh") else Skill.name_en,
            Skill.request_type,
            Skill.category,
        )
        .join(Skill, Skill.id == StaffSkill.skill_id)
        .where(
            StaffSkill.account_id.in_(ids),
            or_(Skill.request_type.is_(None), Skill.request_type == sr.type),
        )
    ):
        skills.setdefault(row.account_id, []).append(
            ranking.SkillLevel(row[2], row[3], row.request_type, row.category, row.level)
        )
    load = dict(
        session.execute(
            select(ServiceRequest.handler_id, func.count())
            .where(
                ServiceRequest.handler_id.in_(ids),
                ServiceRequest.status.in_([s.value for s in lifecycle.OPEN]),
            )
            .group_by(ServiceRequest.handler_id)
        ).all()
    )
    people_list = [
        ranking.Candidate(
            p.id,
            p.name,
            is_available(bool(p.available), p.on_leave_until, today),
            int(load.get(p.id, 0)),
            tuple(skills.get(p.id, ())),
        )
        for p in people
    ]
    return ranking.rank(people_list, sr.type, sr.category)


def current_assignment(session: Session, sr: ServiceRequest) -> Assignment | None:
    return session.scalar(
        select(Assignment)
        .where(Assignment.request_id == sr.id, Assignment.ended_at.is_(None))
        .order_by(Assignment.assigned_at.desc(), Assignment.id.desc())
        .limit(1)
    )


def assign(
    session: Session,
    actor: audit.Actor,
    account: Account,
    sr: ServiceRequest,
    handler_id: int,
    now: datetime,
    timezone: str,
    reason: str = "",
    briefing: str = "",
    action: str | None = None,
    by_plan: bool = False,
) -> Assignment:
    """Give the request to a handler ("assign"), or to another one ("reassign": the previous
    assignment ends, its row stays as history). The handler is notified in the portal and by
    e-mail (through the outbox, once per assignment). ``by_plan``: the scheduler giving a
    service plan's request to the plan's default handler ("plan_assign"); ``account`` is the
    plan's author."""
    if by_plan:
        action = "plan_assign"
        caps = {lifecycle.SYSTEM}
        lifecycle.check(action, sr.status, caps)
    else:
        action = action or ("assign" if sr.status == Status.PENDING_ASSIGNMENT else "reassign")
        if action not in ("assign", "reassign"):
            raise ValueError(action)
        caps = check(session, sr, account, action)
    handler = session.get(Account, handler_id)
    if handler is None or handler.kind != "staff" or not handler.active:
        raise FieldError("handler_id", _("Choose an active staff member as the handler."))
    if action == "reassign" and sr.handler_id == handler.id:
        raise FieldError(
            "handler_id", _("%(name)s already handles this request.", name=handler.name)
        )
    previous = sr.handler_id
    lifecycle_service.apply(
        session,
        actor,
        caps,
        sr,
        action,
        now,
        detail={"handler_id": handler.id, "previous_handler_id": previous},
    )
    session.execute(
        update(Assignment)
        .where(Assignment.request_id == sr.id, Assignment.ended_at.is_(None))
        .values(ended_at=now)
    )
    record = Assignment(
        request_id=sr.id,
        handler_id=handler.id,
        assigned_by_id=account.id,
        reason=reason.strip(),
        briefing=briefing.strip(),
        assigned_at=now,
    )
    session.add(record)
    sr.handler_id = handler.id
    sr.assigned_at = now
    ir = ensure_record(session, sr, handler.id, now, timezone)
    ir.handler_id = handler.id
    session.flush()
    notify(
        session,
        handler.id,
        "assigned",
        sr.id,
        {"number": sr.number, "title": sr.title, "priority": sr.priority or sr.proposed_urgency},
        dedupe_key=f"assigned:{record.id}",
        mail=False,  # the assignment has its own, fuller mail (below)
    )
    _assignment_mail(session, sr, handler, record)
    return record


def _assignment_mail(
    session: Session, sr: ServiceRequest, handler: Account, record: Assignment
) -> None:
    """The assignment notice by e-mail, in the handler's language: number, title, priority,
    organisation and briefing. Never the contact's details: free text goes out with PII masked
    (a mail is read outside the portal, and logged when no mail server is set)."""
    if not handler.email or preferences.mode_for_kind(session, handler.id, "assigned") != "instant":
        return

    organisation = session.scalar(
        select(Organisation.name).where(Organisation.id == sr.organisation_id)
    )
    priority = sr.priority or sr.proposed_urgency
    title = free_text(sr.title, insider=False)
    briefing = free_text(record.briefing, insider=False)
    with force_locale(handler.locale or "zh_CN"):
        # lazy messages, worded here (str) in the handler's language
        label = PRIORITY_LABELS.get(priority, priority)
        lines = [
            _("%(number)s has been assigned to you.", number=sr.number),
            "",
            _("Title: %(title)s", title=title),
            _("Priority: %(priority)s", priority=str(label) if label else "—"),
            _("Organisation: %(name)s", name=organisation or ""),
            _("Briefing: %(briefing)s", briefing=briefing or "—"),
            "",
            _(
                "Open the request in the service desk portal for its details and the contact, "
                "and confirm when you can start."
            ),
            "",
            _("— Service Desk"),
        ]
        body = "\n".join(str(line) for line in lines)
        subject = str(_("Assigned to you: %(number)s %(title)s", number=sr.number, title=title))
    outbox.add(
        session,
        to_address=handler.email,
        subject=subject,
        body_text=body,
        dedupe_key=f"assigned:{record.id}",
        meta={"request_id": sr.id, "kind": "assigned", "assignment_id": record.id},
    )


def confirm_assignment(
    session: Session,
    actor: audit.Actor,
    account: Account,
    sr: ServiceRequest,
    can_start_at: datetime,
    now: datetime,
) -> Assignment:
    """The handler says when they can start: the customer sees a named engineer has it."""
    caps = check(session, sr, account, "confirm_assignment")
    current = current_assignment(session, sr)
    if current is None or current.handler_id != account.id:
        raise lifecycle.TransitionError("not-allowed", "confirm_assignment", sr.status)
    if can_start_at < current.assigned_at - CLOCK_SKEW:
        raise FieldError("can_start_at", _("The start time cannot be before the assignment."))
    lifecycle_service.apply(
        session,
        actor,
        caps,
        sr,
        "confirm_assignment",
        now,
        detail={"can_start_at": can_start_at.isoformat()},
    )
    current.confirmed_at = now
    current.can_start_at = can_start_at
    session.flush()
    notify(
        session,
        current.assigned_by_id,
        "assignment_confirmed",
        sr.id,
        {"number": sr.number, "handler": account.name, "can_start_at": can_start_at.isoformat()},
        dedupe_key=f"assignment_confirmed:{current.id}:{now.isoformat()}",
    )
    return current


# ---------------------------------------------------------------------------------------------
# Collaborators


def add_collaborator(
    session: Session,
    actor: audit.Actor,
    account: Account,
    sr: ServiceRequest,
    person_id: int,
    interface_person: str,
    scope: str,
    now: datetime,
    department_id: int | None = None,
) -> Collaborator:
    caps = check(session, sr, account, "add_collaborator")
    person = session.get(Account, person_id)
    if person is None or person.kind != "staff" or not person.active:
        raise FieldError("person_id", _("Choose an active staff member."))
    if person.id == sr.handler_id:
        raise FieldError("person_id", _("The handler is not a collaborator of their own request."))
    if session.scalar(
        select(Collaborator.id).where(
            Collaborator.request_id == sr.id,
            Collaborator.account_id == person.id,
            Collaborator.removed_at.is_(None),
        )
    ):
        raise FieldError(
            "person_id", _("%(name)s already collaborates on this request.", name=person.name)
        )
    row = Collaborator(
        request_id=sr.id,
        account_id=person.id,
        department_id=department_id or person.department_id,
        interface_person=interface_person.strip(),
        scope=scope.strip(),
        added_by_id=account.id,
        added_at=now,
    )
    session.add(row)
    session.flush()
    lifecycle_service.apply(
        session,
        actor,
        caps,
        sr,
        "add_collaborator",
        now,
        detail={"collaborator_id": person.id, "department_id": row.department_id},
    )
    notify(
        session,
        person.id,
        "collaborator_added",
        sr.id,
        {"number": sr.number, "title": sr.title, "scope": row.scope},
        dedupe_key=f"collaborator:{row.id}",
    )
    return row
