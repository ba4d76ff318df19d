"""Service requests: intake (the template's step 1)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session

from portal.domain.vocabulary import Channel, FormPrefix, Priority, RequestType, Status
from portal.models import Account, AccountRole, Notification, Organisation, ServiceRequest
from portal.queue import enqueue_after_commit
from portal.services import audit, catalogue, group_bots, sla
from portal.services.notifications import notify
from portal.services.numbers import next_number
from portal.services.workflow.checks import FieldError


@dataclass
class Intake:
    """What the 服务请求登记表 asks for at submission."""

    type: RequestType
    proposed_urgency: Priority
    title: str
    description: str
    expected_completion_at: datetime | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    category: str | None = None


def submit(
    session: Session,
    actor: audit.Actor,
    contact: Account,
    intake: Intake,
    now: datetime,
    timezone: str,
    channel: Channel = Channel.PORTAL,
    service_plan_id: int | None = None,
    sla_policy_version_id: int | None = None,
    created_by_id: int | None = None,
) -> ServiceRequest:
    """Register a request for ``contact``; the SR number is taken in this same transaction.
    A service plan's request names its plan and may be measured against the plan's SLA policy
    (``sla_policy_version_id``; else the organisation's) and is created by the plan's author
    (``created_by_id``) while the scheduler (the system actor) submits it."""
    if contact.kind != "customer" or contact.organisation_id is None:
        raise ValueError("a request is made for a customer contact")
    if not session.scalar(
        select(Organisation.active).where(Organisation.id == contact.organisation_id)
    ):
        # a deactivated organisation keeps its requests but gets no new one
        raise FieldError(
            "contact",
            _l("This organisation is deactivated: no new request can be registered for it."),
        )
    category = catalogue.check_category(session, RequestType(intake.type).value, intake.category)
    sr = ServiceRequest(
        number=next_number(session, FormPrefix.SERVICE_REQUEST, now, timezone),
        organisation_id=contact.organisation_id,
        contact_id=contact.id,
        created_by_id=created_by_id or actor.account_id or contact.id,
        channel=Channel(channel).value,
        contact_name=(intake.contact_name or contact.name).strip(),
        contact_phone=(intake.contact_phone or contact.phone or None),
        contact_email=(intake.contact_email or contact.email),
        title=intake.title.strip(),
        description=intake.description.strip(),
        type=RequestType(intake.type).value,
        category=category,
        proposed_urgency=Priority(intake.proposed_urgency).value,
        expected_completion_at=intake.expected_completion_at,
        status=Status.SUBMITTED.value,
        submitted_at=now,
        updated_at=now,
        service_plan_id=service_plan_id,
        sla_policy_version_id=sla_policy_version_id,
    )
    session.add(sr)
    session.flush()
    sla.on_submitted(session, sr, now)
    audit.record(
        session,
        actor,
        now,
        "request.submitted",
        "service_request",
        sr.number,
        after={
            "status": sr.status,
            "type": sr.type,
            "urgency": sr.proposed_urgency,
            "channel": sr.channel,
        },
    )
    # a P1 is told to the group chats subscribed to it (sent after commit)
    group_bots.tell_new_p1(session, sr)
    enqueue_after_commit(session, "portal.jobs.request_submitted", sr.id)
    return sr


def tell_supervisors(session: Session, sr: ServiceRequest) -> int:
    """Tell every active supervisor that ``sr`` awaits classification (the job after intake
    does it; once per supervisor). Returns how many were told."""
    supervisors = session.scalars(
        select(Account.id)
        .join(AccountRole, AccountRole.account_id == Account.id)
        .where(AccountRole.role == "supervisor", Account.active.is_(True))
    ).all()
    told = 0
    for staff_id in supervisors:
        told += notify(
            session,
            staff_id,
            "request_submitted",
            sr.id,
            {"number": sr.number},
            dedupe_key=f"submitted:{sr.id}:{staff_id}",
        )
    return told


def untold_submissions(
    session: Session, since: datetime, before: datetime, limit: int = 200
) -> list[ServiceRequest]:
    """Requests still awaiting classification, submitted between ``since`` and ``before``, of
    which no supervisor was told: their job after intake never ran (Redis was away when they
    were committed). The sweep tells them (portal/jobs_sla.py); one query."""
    told = exists().where(
        Notification.request_id == ServiceRequest.id, Notification.kind == "request_submitted"
    )
    a_supervisor = exists().where(
        AccountRole.account_id == Account.id,
        AccountRole.role == "supervisor",
        Account.active.is_(True),
    )
    return list(
        session.scalars(
            select(ServiceRequest)
            .where(
                ServiceRequest.status == "submitted",
                ServiceRequest.submitted_at >= since,
                ServiceRequest.submitted_at < before,
                ~told,
                a_supervisor,  # nobody to tell: nothing was lost
            )
            .order_by(ServiceRequest.id)
            .limit(limit)
        )
    )


# --- finding the customer contact a call or an e-mail is about --------------------------------


@dataclass(frozen=True)
class ContactMatch:
    """A customer contact the desk may register a request for. Raw values: pages show them
    through portal.presentation.presenters (masked)."""

    id: int
    name: str
    phone: str | None
    email: str
    organisation: str


CONTACT_SEARCH_LIMIT = 20
_PHONE_LIKE = re.compile(r"^\+?[0-9][0-9 ()\-]*$")


def _contacts(session: Session, condition: ColumnElement[bool], limit: int) -> list[ContactMatch]:
    rows = session.execute(
        select(Account.id, Account.name, Account.phone, Account.email, Organisation.name)
        .join(Organisation, Organisation.id == Account.organisation_id)
        .where(
            condition,
            Account.kind == "customer",
            Account.active.is_(True),
            Organisation.active.is_(True),
        )
        .order_by(Organisation.name, Account.name, Account.id)
        .limit(limit)
    ).all()
    return [ContactMatch(*row) for row in rows]


def contact_search_condition(text: str) -> ColumnElement[bool] | None:
    """What a search for ``text`` matches: an e-mail address or a phone number only whole
    (so the search says nothing about fragments of them), a name or an organisation's name or
    code in part. None for an empty search."""
    text = " ".join((text or "").split())[:100]
    if not text:
        return None
    if "@" in text:
        return func.lower(Account.email) == text.lower()
    if _PHONE_LIKE.match(text):
        digits = "".join(ch for ch in text if ch.isdigit())
        numbers = {text, digits}
        if len(digits) == 13 and digits.startswith("86"):  # +86 138 1234 5678
            numbers.add(digits[2:])
        return Account.phone.in_(sorted(numbers))
    return or_(
        Account.name.icontains(text, autoescape=True),
        Organisation.name.icontains(text, autoescape=True),
        Organisation.code.icontains(text, autoescape=True),
    )


def find_contacts(
    session: Session, text: str, limit: int = CONTACT_SEARCH_LIMIT
) -> list[ContactMatch]:
    """Active customer contacts of active organisations that match ``text`` (one query)."""
    condition = contact_search_condition(text)
    if condition is None:
        return []
    return _contacts(session, condition, limit)


def registrable_contact(session: Session, account_id: int | None) -> ContactMatch | None:
    """The contact chosen on the Register screen, if a request may be registered for them."""
    if not account_id:
        return None
    found = _contacts(session, Account.id == account_id, 1)
    return found[0] if found else None
