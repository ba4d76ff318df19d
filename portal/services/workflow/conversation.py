"""What the desk and the customer say to each other on a request: public replies and internal
notes, asking the customer for something (the request waits for them) and their answer, and the
customer's cancellation with its reason."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Account, CooperationRequest, Message, ServiceRequest
from portal.services import audit, handoffs
from portal.services import lifecycle as lifecycle_service
from portal.services.notifications import notify
from portal.services.workflow.checks import FieldError, check

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
    caps = check(session, sr, account, "ask_customer")
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
    handoffs.tell_customer(
        session,
        sr,
        "cooperation_requested",
        {"number": sr.number, "title": sr.title},
        f"cooperation:{row.id}",
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
    caps = check(session, sr, account, "answer_customer")
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
    caps = check(session, sr, account, action)
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
        handoffs.tell_customer(
            session,
            sr,
            "reply",
            {"number": sr.number, "title": sr.title},
            f"message:{message.id}",
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
    caps = check(session, sr, account, "cancel")
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
