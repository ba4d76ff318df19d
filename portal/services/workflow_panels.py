"""What the workflow panels of a request page need, for one viewer, in a fixed number of queries
whatever the length of the history.

- ``customer_work``: what the customer may do on the request now, and what the desk asked and
  did (the questions, the steps the handler marked for the customer and their files);
- ``staff_panels``: the staff panels this viewer may use now (classify, assign, confirm,
  collaborators, step, record, ask, composer) and the data each one shows.

The views attach their forms (``forms``) and the outcome of a post (``errors``, ``notices``);
nothing here knows a form or a request context.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import classification as rules
from portal.domain import lifecycle
from portal.models import (
    Account,
    Assignment,
    Attachment,
    CooperationRequest,
    Department,
    HandlingRecord,
    HandlingStep,
    ServiceRequest,
)
from portal.presentation import presenters
from portal.presentation.formatting import candidate_reason
from portal.services import attachments as attachment_service
from portal.services import catalogue, workflow
from portal.services import lifecycle as lifecycle_service

# --- the customer's side -------------------------------------------------------------------------


@dataclass
class CustomerWork:
    actions: set[str]
    questions: list[CooperationRequest]  # oldest first; redacted for colleagues of the contact
    steps: list[HandlingStep]  # only the steps marked for the customer
    step_files: dict[int, list[Attachment]]  # the customer-visible files of those steps
    forms: dict[str, object] = field(default_factory=dict)  # the view's, for the actions offered

    @property
    def open_question(self) -> CooperationRequest | None:
        open_ = [q for q in self.questions if q.answered_at is None]
        return open_[-1] if open_ else None

    @property
    def answered(self) -> list[CooperationRequest]:
        return [q for q in self.questions if q.answered_at is not None]


def customer_work(session: Session, sr: ServiceRequest, viewer: Account) -> CustomerWork:
    """What the customer ``viewer`` may do on ``sr`` now and what the desk asked and did; three
    queries at most (four for a colleague of the contact)."""
    actions = lifecycle_service.customer_actions(session, sr, viewer)
    questions = list(
        session.scalars(
            select(CooperationRequest)
            .where(CooperationRequest.request_id == sr.id)
            .order_by(CooperationRequest.asked_at, CooperationRequest.id)
        )
    )
    # the steps the handler marked for the customer; never the others
    steps = list(
        session.scalars(
            select(HandlingStep)
            .join(HandlingRecord, HandlingRecord.id == HandlingStep.record_id)
            .where(HandlingRecord.request_id == sr.id, HandlingStep.visible_to_customer.is_(True))
            .order_by(HandlingStep.occurred_at, HandlingStep.id)
        )
    )
    step_files: dict[int, list[Attachment]] = {}
    if steps:
        # the files of those steps, in one query (customer_visible: never an internal file)
        for f in session.scalars(
            select(Attachment)
            .where(
                Attachment.request_id == sr.id,
                Attachment.step_id.in_([s.id for s in steps]),
                attachment_service.customer_visible(),
            )
            .order_by(Attachment.created_at, Attachment.id)
        ):
            step_files.setdefault(f.step_id, []).append(f)
    if not lifecycle_service.customer_principal(sr, viewer):
        # colleagues of the contact read the free text with its personal data redacted
        questions = [presenters.redacted(q, ("what", "answer"), False) for q in questions]
        steps = [presenters.redacted(s, ("operation",), False) for s in steps]
    return CustomerWork(actions, questions, steps, step_files)


# --- the staff side ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CandidateRow:
    id: int
    name: str
    available: bool
    reason: str  # in the reader's language: "Skill 数据库 level 4 · 3 open · available"


@dataclass
class StaffPanels:
    """The panels this viewer may use on one request now, and what each shows."""

    actions: set[str]
    classify_action: str | None = None  # "classify" or "reclassify" when the panel is offered
    classify_defaults: dict | None = None  # the classify form's starting values
    assign_action: str | None = None  # "assign" or "reassign"
    candidates: list[CandidateRow] = field(default_factory=list)
    assignment: Assignment | None = None  # the current assignment, the viewer's to confirm
    staff_choices: list[tuple[int, str]] = field(default_factory=list)
    department_choices: list[tuple[str, str]] = field(default_factory=list)
    record: HandlingRecord | None = None
    hours_total: Decimal = Decimal("0")
    composer_kind: str | None = None  # "reply" when the viewer may reply, else "note"
    # the view's: the forms of the panels shown, the suggested priority, a post's outcome
    forms: dict[str, object] = field(default_factory=dict)
    suggestion: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    notices: dict[str, str] = field(default_factory=dict)

    def shows(self, panel: str) -> bool:
        return panel in self.forms


def staff_panels(
    session: Session,
    sr: ServiceRequest,
    viewer: Account,
    locale: str = "en",
    bound: Collection[str] = (),
) -> StaffPanels:
    """The panels ``viewer`` may use on ``sr`` now, with their data: at most eleven queries,
    whatever the number of people, steps or assignments. ``bound``: the panels whose form the
    view has already (a post shown again with its errors): their starting values are not
    looked up."""
    actions = lifecycle.allowed_actions(
        sr.status, lifecycle_service.capacities(session, sr, viewer)
    )
    panels = StaffPanels(actions=actions)
    for action in ("classify", "reclassify"):
        if action in actions:
            panels.classify_action = action
    if panels.classify_action and "classify" not in bound:
        panels.classify_defaults = classify_defaults(session, sr)
    for action in ("assign", "reassign"):
        if action in actions:
            panels.assign_action = action
            panels.candidates = candidates(session, sr, locale)
    if "confirm_assignment" in actions:
        current = workflow.current_assignment(session, sr)
        if current is not None and current.handler_id == viewer.id:
            panels.assignment = current
    if "add_collaborator" in actions:
        panels.staff_choices, panels.department_choices = collaborator_choices(session, locale)
    if actions & {"log_step", "update_record"}:
        panels.record = session.scalar(
            select(HandlingRecord).where(HandlingRecord.request_id == sr.id)
        )
        panels.hours_total = workflow.hours_total(session, sr)
    if actions & {"reply_public", "note_internal"}:
        panels.composer_kind = "reply" if "reply_public" in actions else "note"
    return panels


def classify_defaults(session: Session, sr: ServiceRequest) -> dict:
    """Where a classification starts: the last one's answers, else what the customer proposed.
    What is confirmed is written anew each time (and may hold contact data this viewer would
    see redacted): never copied from the last record. One query."""
    last = workflow.latest_classification(session, sr)
    if last is not None:
        values = dict(
            type=last.type,
            category=catalogue.option_value(last.type, last.category),
            impact_scope=last.impact_scope,
            urgency=last.urgency,
            business_importance=last.business_importance,
        )
    else:
        values = dict(
            type=sr.type,
            category=catalogue.option_value(sr.type, sr.category),
            impact_scope=rules.impact_from_proposal(sr.proposed_urgency).value,
            urgency=rules.urgency_from_proposal(sr.proposed_urgency).value,
            business_importance=rules.Level.MEDIUM.value,
        )
    return values


def candidates(session: Session, sr: ServiceRequest, locale: str = "en") -> list[CandidateRow]:
    """The ranked candidate handlers with the reason of each rank. Four queries."""
    return [
        CandidateRow(
            r.candidate.account_id, r.candidate.name, r.candidate.available, candidate_reason(r)
        )
        for r in workflow.candidates(session, sr, locale)
    ]


def collaborator_choices(
    session: Session, locale: str = "en"
) -> tuple[list[tuple[int, str]], list[tuple[str, str]]]:
    """The active staff ("name · department") and the departments a collaborator may be added
    from. Two queries."""
    dept = Department.name_zh if locale.startswith("zh") else Department.name_en
    people = session.execute(
        select(Account.id, Account.name, dept)
        .outerjoin(Department, Department.id == Account.department_id)
        .where(Account.kind == "staff", Account.active.is_(True))
        .order_by(Account.name, Account.id)
    ).all()
    departments = session.execute(select(Department.id, dept).order_by(Department.code)).all()
    return (
        [(r.id, f"{r.name} · {r[2]}" if r[2] else r.name) for r in people],
        [(str(r[0]), r[1]) for r in departments],
    )
