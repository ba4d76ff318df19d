"""The handling record (IR) of a request (the template's step 4): its timestamped steps with
their hours, the problems met, the workaround and the final result, and the hours in total."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain.vocabulary import FormPrefix
from portal.models import Account, HandlingRecord, HandlingStep, ServiceRequest
from portal.services import audit
from portal.services import lifecycle as lifecycle_service
from portal.services.numbers import next_number
from portal.services.workflow import hours as _hours  # noqa: F401  (steps add their hours)
from portal.services.workflow.checks import CLOCK_SKEW, FieldError, check, check_quality

MAX_STEP_HOURS = Decimal("24")


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
    caps = check(session, sr, account, "log_step")
    check_quality(session, "operation", step.operation, locale)
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
    caps = check(session, sr, account, "update_record")
    if final_result.strip():
        check_quality(session, "final_result", final_result, locale)
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
