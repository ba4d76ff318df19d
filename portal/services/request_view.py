"""Everything the staff request page shows, loaded in a fixed number of queries.

One query per kind of thing (the request with its names, collaborators, messages, cooperation
requests, attachments, classifications, assignments, handling record, handling steps), never one
per row, so a long timeline costs the same number of round trips as a short one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from portal.models import (
    Account,
    Assignment,
    Attachment,
    Classification,
    Collaborator,
    CooperationRequest,
    Department,
    HandlingRecord,
    HandlingStep,
    Message,
    Organisation,
    ServiceRequest,
)
from portal.presentation.presenters import (
    Access,
    free_text,
    handling_record_for,
    person_name,
    redacted,
)
from portal.services import attachments as attachment_service
from portal.services import privacy


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "message", "note" (internal), "cooperation"
    author: str
    author_is_customer: bool
    body: str
    internal: bool
    answer: str | None = None
    answered_at: datetime | None = None
    needed_by: datetime | None = None


@dataclass(frozen=True)
class CollaboratorRow:
    name: str
    department: str | None
    interface_person: str
    scope: str
    added_at: datetime
    active: bool


@dataclass(frozen=True)
class ClassificationRow:
    record: Classification
    by: str


@dataclass(frozen=True)
class AssignmentRow:
    record: Assignment
    handler: str
    by: str


@dataclass(frozen=True)
class StepRow:
    step: HandlingStep
    author: str
    files: tuple[Attachment, ...] = ()


@dataclass
class StaffRequestView:
    sr: ServiceRequest
    organisation_name: str
    handler_name: str | None
    staff_on_request: bool
    collaborators: list[CollaboratorRow]
    timeline: list[TimelineEntry]
    attachments: list[Attachment]
    classifications: list[ClassificationRow]
    assignments: list[AssignmentRow]
    handling_record: HandlingRecord | None  # a presenter: free text and confirmation as seen
    steps: list[StepRow]
    # what the viewer is to the request (on it, or holding an audited reveal, or neither)
    access: Access
    # the staff member who registered it for the customer (a call, an e-mail), else None
    registered_by: str | None = None


def _author(name: str, kind: str, on_request: bool) -> str:
    # a customer's name is contact data: full only to staff on the request
    return person_name(name, on_request) if kind == "customer" else name


def load(
    session: Session, number: str, viewer_id: int, now: datetime, locale: str = "en"
) -> StaffRequestView | None:
    handler = aliased(Account)
    creator = aliased(Account)
    row = session.execute(
        select(ServiceRequest, Organisation.name, handler.name, creator.name, creator.kind)
        .join(Organisation, Organisation.id == ServiceRequest.organisation_id)
        .outerjoin(handler, handler.id == ServiceRequest.handler_id)
        .outerjoin(creator, creator.id == ServiceRequest.created_by_id)
        .where(ServiceRequest.number == number)
    ).first()
    if row is None:
        return None
    sr, org_name, handler_name, creator_name, creator_kind = row

    dept_name = Department.name_zh if locale.startswith("zh") else Department.name_en
    collaborators = []
    on_request = sr.handler_id == viewer_id
    for collab, name, dept in session.execute(
        select(Collaborator, Account.name, dept_name)
        .join(Account, Account.id == Collaborator.account_id)
        .outerjoin(Department, Department.id == Collaborator.department_id)
        .where(Collaborator.request_id == sr.id)
        .order_by(Collaborator.added_at, Collaborator.id)
    ):
        active = collab.removed_at is None
        if active and collab.account_id == viewer_id:
            on_request = True
        collaborators.append(
            CollaboratorRow(
                name, dept, collab.interface_person, collab.scope, collab.added_at, active
            )
        )

    timeline: list[TimelineEntry] = []
    for msg, name, kind in session.execute(
        select(Message, Account.name, Account.kind)
        .join(Account, Account.id == Message.author_id)
        .where(Message.request_id == sr.id)
        .order_by(Message.created_at, Message.id)
    ):
        timeline.append(
            TimelineEntry(
                at=msg.created_at,
                kind="note" if msg.internal else "message",
                author=_author(name, kind, on_request),
                author_is_customer=kind == "customer",
                body=free_text(msg.body, on_request),
                internal=msg.internal,
            )
        )
    for coop, name in session.execute(
        select(CooperationRequest, Account.name)
        .join(Account, Account.id == CooperationRequest.asked_by_id)
        .where(CooperationRequest.request_id == sr.id)
    ):
        timeline.append(
            TimelineEntry(
                at=coop.asked_at,
                kind="cooperation",
                author=name,
                author_is_customer=False,
                body=free_text(coop.what, on_request),
                internal=False,
                answer=free_text(coop.answer, on_request) if coop.answer is not None else None,
                answered_at=coop.answered_at,
                needed_by=coop.needed_by,
            )
        )
    timeline.sort(key=lambda e: e.at)

    by = aliased(Account)
    classifications = [
        ClassificationRow(redacted(c, ("confirmed_details",), on_request), name)
        for c, name in session.execute(
            select(Classification, Account.name)
            .join(Account, Account.id == Classification.classified_by_id)
            .where(Classification.request_id == sr.id)
            .order_by(Classification.created_at, Classification.id)
        )
    ]
    assignments = [
        AssignmentRow(redacted(a, ("reason", "briefing"), on_request), handler_name_, by_name)
        for a, handler_name_, by_name in session.execute(
            select(Assignment, Account.name, by.name)
            .join(Account, Account.id == Assignment.handler_id)
            .join(by, by.id == Assignment.assigned_by_id)
            .where(Assignment.request_id == sr.id)
            .order_by(Assignment.assigned_at, Assignment.id)
        )
    ]
    record = session.scalar(select(HandlingRecord).where(HandlingRecord.request_id == sr.id))
    # the request's files are loaded once; each step shows its own from that list
    files = attachment_service.of_request(session, sr.id)
    by_step: dict[int, list[Attachment]] = {}
    for f in files:
        if f.step_id is not None:
            by_step.setdefault(f.step_id, []).append(f)
    steps = [
        StepRow(redacted(step, ("operation",), on_request), name, tuple(by_step.get(step.id, ())))
        for step, name in session.execute(
            select(HandlingStep, Account.name)
            .join(HandlingRecord, HandlingRecord.id == HandlingStep.record_id)
            .join(Account, Account.id == HandlingStep.author_id)
            .where(HandlingRecord.request_id == sr.id)
            .order_by(HandlingStep.occurred_at, HandlingStep.id)
        )
    ]
    access = privacy.staff_access(session, sr, viewer_id, now, on_request=on_request)
    return StaffRequestView(
        sr=sr,
        organisation_name=org_name,
        handler_name=handler_name,
        staff_on_request=on_request,
        collaborators=collaborators,
        timeline=timeline,
        attachments=files,
        classifications=classifications,
        assignments=assignments,
        handling_record=handling_record_for(record, access),
        steps=steps,
        access=access,
        registered_by=creator_name if creator_kind == "staff" else None,
    )
