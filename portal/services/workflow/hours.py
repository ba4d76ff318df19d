"""The hours a request's steps logged, kept on the request (``ServiceRequest.hours_logged``) for
the reports (``portal.services.reports``): every handling step flushed adds its hours to its
request in the same transaction, whatever code path inserted it. Steps are never edited or
deleted one by one (a purge removes the whole request), so the sum stays exact; tests compare it
with a recomputation from the steps."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from portal.models import HandlingRecord, HandlingStep, ServiceRequest


@event.listens_for(Session, "before_flush")
def _steps_add_their_hours(session: Session, flush_context, instances) -> None:
    added: dict[int, Decimal] = {}
    for obj in session.new:
        if isinstance(obj, HandlingStep) and obj.hours:
            added[obj.record_id] = added.get(obj.record_id, Decimal("0")) + Decimal(obj.hours)
    for record_id, hours in added.items():
        session.execute(
            update(ServiceRequest)
            .where(
                ServiceRequest.id
                == select(HandlingRecord.request_id)
                .where(HandlingRecord.id == record_id)
                .scalar_subquery()
            )
            .values(hours_logged=ServiceRequest.hours_logged + hours)
            .execution_options(synchronize_session=False)
        )


def recomputed(session: Session, request_id: int) -> Decimal:
    """The hours of a request's steps summed from scratch (for the check against the column)."""
    total = session.scalar(
        select(func.coalesce(func.sum(HandlingStep.hours), 0))
        .select_from(HandlingStep)
        .join(HandlingRecord, HandlingRecord.id == HandlingStep.record_id)
        .where(HandlingRecord.request_id == request_id)
    )
    return Decimal(str(total or 0)).quantize(Decimal("0.01"))
