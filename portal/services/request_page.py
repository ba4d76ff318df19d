"""The request page of either side, loaded in a fixed number of queries.

Both sides show the same two things, built here once: the header (the request as this viewer
may see it, its contact, handler and organisation) and the timeline (the conversation, each
message with its files). What differs is a parameter, a ``Side``:

- the customer reads the public messages only, and the history starts with the submission;
- staff read the internal notes too (kind "note", apart from the public replies) and the
  questions put to the customer; desk names are shown in full to staff, masked (张*) to
  customers; the customer's names are masked for anyone not on the request.

Masked or full is decided per viewer by ``portal.presentation.presenters``. The staff page adds
its records (collaborators, classifications, assignments, the handling record and its steps).

One query per kind of thing, never one per row: a long history costs the same number of round
trips as a short one (customer page three; staff page nine, ten for someone not on the request).
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
from portal.presentation import presenters
from portal.services import attachments as attachment_service
from portal.services import listing, privacy
from portal.services.queue import DueState, resolution_risk


@dataclass(frozen=True)
class Side:
    """What one side's request page shows of the conversation."""

    name: str
    public_only: bool  # public messages and files only (no internal note, no internal file)
    submission_entry: bool  # the history opens with the submission
    questions: bool  # the questions put to the customer stand in the timeline
    desk_names: bool  # staff names in full (else masked: 张*)


CUSTOMER = Side(
    "customer", public_only=True, submission_entry=True, questions=False, desk_names=False
)
STAFF = Side("staff", public_only=False, submission_entry=False, questions=True, desk_names=True)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "submitted", "message", "note" (internal), "cooperation" (a question asked)
    author: str  # as this viewer may see the name
    from_desk: bool  # written by staff (or, for "submitted", registered by the desk)
    body: str = ""  # redacted for people outside the request
    internal: bool = False
    files: tuple[Attachment, ...] = ()  # the files posted with a message
    answer: str | None = None
    answered_at: datetime | None = None
    needed_by: datetime | None = None

    @property
    def author_is_customer(self) -> bool:
        return not self.from_desk


@dataclass(frozen=True)
class RequestHeader:
    sr: presenters.RequestPresenter  # contact fields and free text as this viewer may see them
    request: ServiceRequest  # the row itself, for the panels (never rendered as it is)
    access: presenters.Access
    contact: presenters.ContactView
    handler: str  # "" when unassigned
    organisation: str
    registered_by: str | None  # to staff: who registered it for the customer (a call, an e-mail)


@dataclass(frozen=True)
class RequestPage:
    header: RequestHeader
    timeline: list[TimelineEntry]
    # the customer: the request's own files (not those of messages, steps or deliveries);
    # staff: every file of the request
    files: list[Attachment]


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


@dataclass(frozen=True)
class StaffRequestPage(RequestPage):
    staff_on_request: bool
    due: DueState
    collaborators: list[CollaboratorRow]
    classifications: list[ClassificationRow]
    assignments: list[AssignmentRow]
    handling_record: presenters.HandlingRecordPresenter | None
    steps: list[StepRow]


# --- the two pages -------------------------------------------------------------------------------


def customer_page(
    session: Session, viewer: Account, number: str, now: datetime
) -> RequestPage | None:
    """The request with this number as the customer ``viewer`` sees it, or None when they may
    not see it. Three queries."""
    row = _find(session, ServiceRequest.number == number, listing.customer_scope(viewer))
    if row is None:
        return None
    sr = row[0]
    # colleagues (organisation setting "colleagues may view") see masks and redacted text
    access = privacy.access_for(session, sr, viewer, now)
    files = attachment_service.of_request(session, sr.id, attachment_service.customer_visible())
    header, timeline = build(session, CUSTOMER, row, viewer, access, files)
    own = [f for f in files if f.message_id is None and f.step_id is None and f.delivery_id is None]
    return RequestPage(header, timeline, own)


def staff_page(
    session: Session, viewer: Account, number: str, now: datetime, locale: str = "en"
) -> StaffRequestPage | None:
    """The request with this number as the staff member ``viewer`` sees it, or None."""
    row = _find(session, ServiceRequest.number == number)
    if row is None:
        return None
    sr = row[0]
    collaborators, on_request = _collaborators(session, sr, viewer.id, locale)
    access = privacy.staff_access(session, sr, viewer.id, now, on_request=on_request)
    # the request's files are loaded once; each message and step has its own from that list
    files = attachment_service.of_request(session, sr.id)
    header, timeline = build(session, STAFF, row, viewer, access, files)
    insider = access.insider
    by = aliased(Account)
    classifications = [
        ClassificationRow(presenters.redacted(c, ("confirmed_details",), insider), name)
        for c, name in session.execute(
            select(Classification, Account.name)
            .join(Account, Account.id == Classification.classified_by_id)
            .where(Classification.request_id == sr.id)
            .order_by(Classification.created_at, Classification.id)
        )
    ]
    assignments = [
        AssignmentRow(presenters.redacted(a, ("reason", "briefing"), insider), handler, by_name)
        for a, handler, by_name in session.execute(
            select(Assignment, Account.name, by.name)
            .join(Account, Account.id == Assignment.handler_id)
            .join(by, by.id == Assignment.assigned_by_id)
            .where(Assignment.request_id == sr.id)
            .order_by(Assignment.assigned_at, Assignment.id)
        )
    ]
    record = session.scalar(select(HandlingRecord).where(HandlingRecord.request_id == sr.id))
    by_step = _grouped(files, "step_id")
    steps = [
        StepRow(presenters.redacted(step, ("operation",), insider), name, by_step.get(step.id, ()))
        for step, name in session.execute(
            select(HandlingStep, Account.name)
            .join(HandlingRecord, HandlingRecord.id == HandlingStep.record_id)
            .join(Account, Account.id == HandlingStep.author_id)
            .where(HandlingRecord.request_id == sr.id)
            .order_by(HandlingStep.occurred_at, HandlingStep.id)
        )
    ]
    return StaffRequestPage(
        header=header,
        timeline=timeline,
        files=files,
        staff_on_request=on_request,
        due=resolution_risk(sr, now),
        collaborators=collaborators,
        classifications=classifications,
        assignments=assignments,
        handling_record=presenters.handling_record_for(record, access),
        steps=steps,
    )


# --- what both share: the header and the timeline ----------------------------------------------


def _find(session: Session, *where):
    """The request with its organisation's, handler's and registering person's names."""
    handler = aliased(Account)
    creator = aliased(Account)
    return session.execute(
        select(ServiceRequest, Organisation.name, handler.name, creator.name, creator.kind)
        .join(Organisation, Organisation.id == ServiceRequest.organisation_id)
        .outerjoin(handler, handler.id == ServiceRequest.handler_id)
        .outerjoin(creator, creator.id == ServiceRequest.created_by_id)
        .where(*where)
    ).first()


def build(
    session: Session,
    side: Side,
    row,
    viewer: Account,
    access: presenters.Access,
    files: list[Attachment],
) -> tuple[RequestHeader, list[TimelineEntry]]:
    """The header and the timeline of the request in ``row`` (from ``_find``) for ``viewer``
    on ``side``; ``files``: the request's files this viewer may see. One or two queries (the
    messages; the questions to the customer)."""
    sr, organisation, handler_name, creator_name, creator_kind = row
    header = RequestHeader(
        sr=presenters.request_for(sr, access),
        request=sr,
        access=access,
        contact=presenters.contact_for(sr, access),
        handler=presenters.person_name(handler_name, side.desk_names) if handler_name else "",
        organisation=organisation,
        registered_by=creator_name if side.desk_names and creator_kind == "staff" else None,
    )
    return header, _timeline(session, side, sr, viewer, access, header.contact, files)


def _timeline(
    session: Session,
    side: Side,
    sr: ServiceRequest,
    viewer: Account,
    access: presenters.Access,
    contact: presenters.ContactView,
    files: list[Attachment],
) -> list[TimelineEntry]:
    by_message = _grouped(files, "message_id")
    stmt = (
        select(
            Message.id,
            Message.created_at,
            Message.body,
            Message.internal,
            Message.author_id,
            Account.name,
            Account.kind,
            Account.organisation_id,
        )
        .join(Account, Account.id == Message.author_id)
        .where(Message.request_id == sr.id)
        .order_by(Message.created_at, Message.id)
    )
    if side.public_only:
        stmt = stmt.where(Message.internal.is_(False))
    entries = [
        TimelineEntry(
            at=m.created_at,
            kind="note" if m.internal else "message",
            author=presenters.person_name(m.name, _name_in_full(side, viewer, access, m)),
            from_desk=m.kind == "staff",
            body=presenters.free_text(m.body, access.insider),
            internal=m.internal,
            files=by_message.get(m.id, ()),
        )
        for m in session.execute(stmt)
    ]
    if side.questions:
        for coop, name in session.execute(
            select(CooperationRequest, Account.name)
            .join(Account, Account.id == CooperationRequest.asked_by_id)
            .where(CooperationRequest.request_id == sr.id)
        ):
            entries.append(
                TimelineEntry(
                    at=coop.asked_at,
                    kind="cooperation",
                    author=presenters.person_name(name, side.desk_names),
                    from_desk=True,
                    body=presenters.free_text(coop.what, access.insider),
                    answer=(
                        presenters.free_text(coop.answer, access.insider)
                        if coop.answer is not None
                        else None
                    ),
                    answered_at=coop.answered_at,
                    needed_by=coop.needed_by,
                )
            )
        entries.sort(key=lambda e: e.at)
    if side.submission_entry:
        submitted = TimelineEntry(
            sr.submitted_at, "submitted", contact.name, from_desk=sr.channel != "portal"
        )
        entries.insert(0, submitted)
    return entries


def _name_in_full(side: Side, viewer: Account, access: presenters.Access, author) -> bool:
    """Whether this viewer reads the author's name in full. A staff author: on the staff side.
    A customer's name is contact data: in full to staff on the request, and to the customer
    themself and their organisation's admins."""
    if author.kind == "staff":
        return side.desk_names
    if viewer.kind == "staff":
        return access.insider
    return author.author_id == viewer.id or (
        viewer.is_org_admin and author.organisation_id == viewer.organisation_id
    )


def _grouped(files: list[Attachment], key: str) -> dict[int, tuple[Attachment, ...]]:
    grouped: dict[int, list[Attachment]] = {}
    for f in files:
        owner = getattr(f, key)
        if owner is not None:
            grouped.setdefault(owner, []).append(f)
    return {owner: tuple(items) for owner, items in grouped.items()}


def _collaborators(
    session: Session, sr: ServiceRequest, viewer_id: int, locale: str
) -> tuple[list[CollaboratorRow], bool]:
    """The request's collaborators (removed ones too), and whether the viewer is on the request
    (its handler or an active collaborator). One query."""
    dept_name = Department.name_zh if locale.startswith("zh") else Department.name_en
    rows = []
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
        rows.append(
            CollaboratorRow(
                name, dept, collab.interface_person, collab.scope, collab.added_at, active
            )
        )
    return rows, on_request
