"""The demo's requests carry the workflow data the services would have left."""

from __future__ import annotations

from sqlalchemy import select

from portal import demo
from portal.domain import record_quality
from portal.domain.classification import suggest_priority
from portal.models import (
    Account,
    Classification,
    CooperationRequest,
    HandlingRecord,
    HandlingStep,
    Notification,
    ServiceRequest,
    utcnow,
)
from portal.services import workflow

from .helpers import panel, text

WORKED = ("in_progress", "awaiting_customer", "pending_acceptance", "completed", "closed")


def test_demo_requests_are_consistent_with_the_workflow(db_session, app, make_client):
    demo.seed(db_session, utcnow(), app.config["PORTAL_TIMEZONE"])
    requests = db_session.scalars(select(ServiceRequest)).all()
    records = {r.request_id: r for r in db_session.scalars(select(HandlingRecord))}
    phrases = [p for group in record_quality.DEFAULT_PHRASES.values() for p in group]
    for c in db_session.scalars(select(Classification)):
        assert suggest_priority(c.impact_scope, c.urgency, c.business_importance) == c.priority
    for sr in requests:
        if sr.status in WORKED:
            assert sr.id in records and records[sr.id].number.startswith("IR-"), sr.number
            assert db_session.scalar(
                select(Notification.id).where(
                    Notification.request_id == sr.id,
                    Notification.kind == "assigned",
                    Notification.recipient_id == sr.handler_id,
                )
            ), sr.number
        if sr.status == "awaiting_customer":
            question = workflow.open_cooperation(db_session, sr)
            assert question is not None and sr.paused_since == question.asked_at
    for step in db_session.scalars(select(HandlingStep)):
        assert record_quality.check(step.operation, phrases) is None, step.operation
    assert db_session.scalar(
        select(CooperationRequest.id).where(CooperationRequest.answered_at.is_not(None))
    )

    # the handler of an in-progress demo request sees the panels to work on it
    sr = next(r for r in requests if r.status == "in_progress")
    handler = db_session.get(Account, sr.handler_id)
    client = make_client()
    client.login(handler, password=demo.DEMO_PASSWORD)
    page = text(client.get(f"/staff/requests/{sr.number}"))
    assert panel(page, "step") and panel(page, "ask") and panel(page, "record")
