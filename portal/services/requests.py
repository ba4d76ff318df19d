"""Service requests: intake (the template's step 1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from portal.domain.vocabulary import Channel, FormPrefix, Priority, RequestType, Status
from portal.models import Account, ServiceRequest
from portal.queue import enqueue_after_commit
from portal.services import audit, sla
from portal.services.numbers import next_number


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
) -> ServiceRequest:
    """Register a request for ``contact``; the SR number is taken in this same transaction."""
    if contact.kind != "customer" or contact.organisation_id is None:
        raise ValueError("a request is made for a customer contact")
    sr = ServiceRequest(
        number=next_number(session, FormPrefix.SERVICE_REQUEST, now, timezone),
        organisation_id=contact.organisation_id,
        contact_id=contact.id,
        created_by_id=actor.account_id or contact.id,
        channel=Channel(channel).value,
        contact_name=(intake.contact_name or contact.name).strip(),
        contact_phone=(intake.contact_phone or contact.phone or None),
        contact_email=(intake.contact_email or contact.email),
        title=intake.title.strip(),
        description=intake.description.strip(),
        type=RequestType(intake.type).value,
        category=intake.category,
        proposed_urgency=Priority(intake.proposed_urgency).value,
        expected_completion_at=intake.expected_completion_at,
        status=Status.SUBMITTED.value,
        submitted_at=now,
        updated_at=now,
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
    enqueue_after_commit(session, "portal.jobs.request_submitted", sr.id)
    return sr
