"""The working part of a request's lifecycle (the template's steps 2–4): classify, assign and
confirm, collaborators, the handling record (IR) and its steps, asking the customer, messages,
and the customer's cancellation. Every use case checks the transition first, then the input,
then applies the transition with its audit event and SLA effect in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from flask_babel import force_locale
from flask_babel import lazy_gettext as _
from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import Session

from portal.domain import assignment as ranking
from portal.domain import classification as rules
from portal.domain import lifecycle
from portal.domain.vocabulary import FormPrefix, Priority, RequestType, Status
from portal.models import (
    Account,
    AccountRole,
    Assignment,
    Classification,
    Collaborator,
    CooperationRequest,
    HandlingRecord,
    HandlingStep,
    Message,
    Organisation,
    ServiceRequest,
    Skill,
    StaffSkill,
)
from portal.presentation.labels import PRIORITY_LABELS
from portal.presentation.presenters import free_text
from portal.services import audit, outbox, record_quality
from portal.services import lifecycle as lifecycle_service
from portal.services.notifications import notify
from portal.services.numbers import next_number

# a step may be logged a little ahead of the server's clock (a laptop's clock), not more
CLOCK_SKEW = timedelta(minutes=5)
MAX_STEP_HOURS = Decimal("24")


class FieldError(ValueError):
    """Input the form could not judge alone (a vague record, a person who cannot take the
    request); ``field`` names the form field the message belongs to. The message is lazy: it
    is worded in the reader's language when shown (services also run outside a request)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _caps(session: Session, sr: ServiceRequest, account: Account) -> set[str]:
    return lifecycle_service.capacities(session, sr, account)


def _check(session: Session, sr: ServiceRequest, account: Account, action: str) -> set[str]:
    """The transition is checked before the input: someone who may not act, or a request in
    the wrong state, hears that first."""
    caps = _caps(session, sr, account)
    lifecycle.check(action, sr.status, caps)
    return caps


def _quality(session: Session, field: str, text: str | None, locale: str | None) -> None:
    problem = record_quality.check_text(session, text, locale)
    if problem:
        raise FieldError(field, problem)


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
) -> Classification:
    """Confirm type, category and priority; the first time moves submitted → pending
    assignment ("classify"), later ones keep the status ("reclassify"). A page passes the
    action it offered, so a request that changed meanwhile is refused, not silently redone."""
    action = action or ("classify" if sr.status == Status.SUBMITTED else "reclassify")
    if action not in ("classify", "reclassify"):
        raise ValueError(action)
    caps = _check(session, sr, account, action)
    suggested = rules.suggest_priority(data.impact_scope, data.urgency, data.business_importance)
    priority = Priority(data.priority) if data.priority else suggested
    category = (data.category or "").strip() or None
    record = Classification(
        request_id=sr.id,
        classified_by_id=account.id,
        type=RequestType(data.type).value,
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
        # a confirmed or changed priority recomputes both clocks from submission (DESIGN §4)
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


def candidates(session: Session, sr: ServiceRequest, locale: str = "en") -> list[ranking.Ranked]:
    """Active engineers (and anyone in the skill matrix), ranked for this request. Three
    queries whatever the number of people: the people, their skills for the request's type,
    and their open load in one GROUP BY."""
    engineer = exists().where(AccountRole.account_id == Account.id, AccountRole.role == "engineer")
    skilled = exists().where(StaffSkill.account_id == Account.id)
    people = session.execute(
        select(Account.id, Account.name, Account.available)
        .where(Account.kind == "staff", Account.active.is_(True), or_(engineer, skilled))
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
            p.id, p.name, bool(p.available), int(load.get(p.id, 0)), tuple(skills.get(p.id, ()))
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


def ensure_record(
    session: Session, sr: ServiceRequest, handler_id: int | None, now: datetime, timezone: str
) -> HandlingRecord:
    """The request's one handling record (IR), created on first need; its number is taken in
    this transaction."""
    record = session.scalar(select(HandlingRecord).where(HandlingRecord.request_id == sr.id))
    if record is None:
        record = HandlingRecord(
            number=next_number(session, FormPrefix.HANDLING_RECORD, now, timezone),
            request_id=sr.id,
            handler_id=handler_id,
            created_at=now,
        )
        session.add(record)
        session.flush()
    return record


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
) -> Assignment:
    """Give the request to a handler ("assign"), or to another one ("reassign": the previous
    assignment ends, its row stays as history). The handler is notified in the portal and by
    e-mail (through the outbox, once per assignment)."""
    action = action or ("assign" if sr.status == Status.PENDING_ASSIGNMENT else "reassign")
    if action not in ("assign", "reassign"):
        raise ValueError(action)
    caps = _check(session, sr, account, action)
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
    )
    _assignment_mail(session, sr, handler, record)
    return record


def _assignment_mail(
    session: Session, sr: ServiceRequest, handler: Account, record: Assignment
) -> None:
    """The assignment notice by e-mail, in the handler's language: number, title, priority,
    organisation and briefing. Never the contact's details: free text goes out with PII masked
    (a mail is read outside the portal, and logged when no mail server is set)."""
    if not handler.email:
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
    caps = _check(session, sr, account, "confirm_assignment")
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
    caps = _check(session, sr, account, "add_collaborator")
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


# ---------------------------------------------------------------------------------------------
# Handling record (IR)


@dataclass
class StepInput:
    occurred_at: datetime
    operation: str
    hours: Decimal
    visible_to_customer: bool = True


def log_step(
    session: Session,
    actor: audit.Actor,
    account: Account,
    sr: ServiceRequest,
    step: StepInput,
    now: datetime,
    timezone: str,
    locale: str | None = None,
) -> HandlingStep:
    """A timestamped step (time + operation) with its hours, by the handler or a
    collaborator; refused when it says nothing concrete."""
    caps = _check(session, sr, account, "log_step")
    _quality(session, "operation", step.operation, locale)
    if step.occurred_at > now + CLOCK_SKEW:
        raise FieldError("occurred_at", _("A step cannot happen in the future."))
    if step.occurred_at < sr.submitted_at - CLOCK_SKEW:
        raise FieldError("occurred_at", _("A step cannot happen before the request was submitted."))
    hours = Decimal(step.hours).quantize(Decimal("0.01"))
    if hours < 0 or hours > MAX_STEP_HOURS:
        raise FieldError("hours", _("Hours per step are between 0 and 24."))
    record = ensure_record(session, sr, sr.handler_id, now, timezone)
    row = HandlingStep(
        record_id=record.id,
        author_id=account.id,
        occurred_at=step.occurred_at,
        operation=step.operation.strip(),
        hours=hours,
        visible_to_customer=step.visible_to_customer,
        created_at=now,
    )
    session.add(row)
    session.flush()
    if sr.work_started_at is None or step.occurred_at < sr.work_started_at:
        sr.work_started_at = step.occurred_at
    lifecycle_service.apply(
        session,
        actor,
        caps,
        sr,
        "log_step",
        now,
        detail={"record": record.number, "step_id": row.id, "hours": str(hours)},
    )
    return row


def update_record(
    session: Session,
    actor: audit.Actor,
    account: Account,
    sr: ServiceRequest,
    now: datetime,
    timezone: str,
    *,
    problems: str,
    workaround: str,
    final_result: str,
    locale: str | None = None,
) -> HandlingRecord:
    """Problems met, the temporary workaround and the final result of the IR."""
    caps = _check(session, sr, account, "update_record")
    if final_result.strip():
        _quality(session, "final_result", final_result, locale)
    record = ensure_record(session, sr, sr.handler_id, now, timezone)
    before = {
        "problems": record.problems,
        "workaround": record.workaround,
        "final_result": record.final_result,
    }
    record.problems = problems.strip()
    record.workaround = workaround.strip()
    record.final_result = final_result.strip()
    changed = [k for k, v in before.items() if getattr(record, k) != v]
    lifecycle_service.apply(
        session,
        actor,
        caps,
        sr,
        "update_record",
        now,
        detail={"record": record.number, "changed": changed},
    )
    return record


def hours_total(session: Session, sr: ServiceRequest) -> Decimal:
    total = session.scalar(
        select(func.coalesce(func.sum(HandlingStep.hours), 0))
        .join(HandlingRecord, HandlingRecord.id == HandlingStep.record_id)
        .where(HandlingRecord.request_id == sr.id)
    )
    return Decimal(total or 0).quantize(Decimal("0.01"))


# ---------------------------------------------------------------------------------------------
# Customer cooperation


def ask_customer(
    session: Session,
    actor: audit.Actor,
    account: Account,
    sr: ServiceRequest,
    what: str,
    needed_by: datetime | None,
    now: datetime,
) -> CooperationRequest:
    """Ask the customer for something (an account, a test environment): the request waits
    for them and the resolution clock pauses."""
    caps = _check(session, sr, account, "ask_customer")
    if not what.strip():
        raise FieldError("what", _("Say what the customer should provide."))
    if needed_by is not None and needed_by < now:
        raise FieldError("needed_by", _("The date needed cannot be in the past."))
    row = CooperationRequest(
        request_id=sr.id,
        asked_by_id=account.id,
        what=what.strip(),
        needed_by=needed_by,
        asked_at=now,
    )
    session.add(row)
    session.flush()
    lifecycle_service.apply(
        session, actor, caps, sr, "ask_customer", now, detail={"cooperation_id": row.id}
    )
    notify(
        session,
        sr.contact_id,
        "cooperation_requested",
        sr.id,
        {"number": sr.number, "title": sr.title},
        dedupe_key=f"cooperation:{row.id}",
    )
    return row


def open_cooperation(session: Session, sr: ServiceRequest) -> CooperationRequest | None:
    return session.scalar(
        select(CooperationRequest)
        .where(CooperationRequest.request_id == sr.id, CooperationRequest.answered_at.is_(None))
        .order_by(CooperationRequest.asked_at.desc(), CooperationRequest.id.desc())
        .limit(1)
    )


def answer_customer(
    session: Session,
    actor: audit.Actor,
    account: Account,
    sr: ServiceRequest,
    answer: str,
    now: datetime,
) -> CooperationRequest | None:
    """The customer's answer: the request is back in progress and the clock runs again."""
    caps = _check(session, sr, account, "answer_customer")
    if not answer.strip():
        raise FieldError("answer", _("Write your answer."))
    row = open_cooperation(session, sr)
    if row is not None:
        row.answer = answer.strip()
        row.answered_by_id = account.id
        row.answered_at = now
    lifecycle_service.apply(
        session,
        actor,
        caps,
        sr,
        "answer_customer",
        now,
        detail={"cooperation_id": row.id if row else None},
    )
    if sr.handler_id:
        notify(
            session,
            sr.handler_id,
            "customer_answered",
            sr.id,
            {"number": sr.number, "title": sr.title},
            dedupe_key=f"cooperation_answer:{row.id}" if row else None,
        )
    return row


# ---------------------------------------------------------------------------------------------
# Messages


def post_message(
    session: Session,
    actor: audit.Actor,
    account: Account,
    sr: ServiceRequest,
    body: str,
    now: datetime,
    internal: bool = False,
) -> Message:
    """A public reply (either side) or an internal note (staff only: a customer asking for
    one is refused by the state machine)."""
    action = "note_internal" if internal else "reply_public"
    caps = _check(session, sr, account, action)
    if not body.strip():
        raise FieldError("body", _("Write a message."))
    message = Message(
        request_id=sr.id, author_id=account.id, internal=internal, body=body.strip(), created_at=now
    )
    session.add(message)
    session.flush()
    # a customer's own message is not the desk's response (the SLA counts "reply_public"
    # as one): keep the response time as it was
    first_response = sr.first_response_at
    lifecycle_service.apply(
        session, actor, caps, sr, action, now, detail={"message_id": message.id}
    )
    if account.kind == "customer":
        sr.first_response_at = first_response
        if sr.handler_id:
            notify(
                session,
                sr.handler_id,
                "customer_reply",
                sr.id,
                {"number": sr.number, "title": sr.title},
                dedupe_key=f"message:{message.id}",
            )
    elif not internal:
        notify(
            session,
            sr.contact_id,
            "reply",
            sr.id,
            {"number": sr.number, "title": sr.title},
            dedupe_key=f"message:{message.id}",
        )
    return message


# ---------------------------------------------------------------------------------------------
# Cancellation (customer, before work starts)


def cancel(
    session: Session,
    actor: audit.Actor,
    account: Account,
    sr: ServiceRequest,
    reason: str,
    now: datetime,
) -> ServiceRequest:
    caps = _check(session, sr, account, "cancel")
    reason = reason.strip()
    if reason:
        session.add(
            Message(
                request_id=sr.id, author_id=account.id, internal=False, body=reason, created_at=now
            )
        )
    lifecycle_service.apply(session, actor, caps, sr, "cancel", now, detail={"reason": reason})
    sr.cancelled_at = now
    session.flush()
    return sr
