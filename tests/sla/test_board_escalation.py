"""The supervisor's explanation to the customer on an escalated request (向客户说明原因): a public
message, audited, the customer told; errors inline for htmx; supervisors only."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.models import AuditEvent, Message, Notification, utcnow
from portal.staff.board_views import _escalation_panel


def _escalated(factory, db_session):
    contact = factory.customer()
    sr = factory.request(contact)
    sr.status, sr.priority, sr.escalation_level = "in_progress", "P1", 1
    sr.resolution_due_at = utcnow() - timedelta(minutes=5)
    db_session.commit()
    return sr, contact


def test_a_supervisor_sends_the_customer_an_explanation(client, factory, db_session):
    sr, contact = _escalated(factory, db_session)
    supervisor = factory.staff("supervisor")
    client.login(supervisor)
    text = "The database vendor's patch is late; we expect it tomorrow morning and will apply it."
    resp = client.post(
        f"/staff/requests/{sr.number}/sla-explanation",
        data={"explanation": text},
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 200
    assert "The explanation was sent to the customer." in resp.get_data(as_text=True)
    message = db_session.scalar(select(Message).where(Message.request_id == sr.id))
    assert (message.body, message.internal, message.author_id) == (text, False, supervisor.id)
    assert (
        db_session.scalar(select(Notification.kind).where(Notification.recipient_id == contact.id))
        == "sla_explanation"
    )
    audit = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "sla.explanation"))
    assert audit.actor_id == supervisor.id and audit.object_id == sr.number


def test_too_short_an_explanation_is_refused_inline_keeping_the_text(client, factory, db_session):
    sr, _contact = _escalated(factory, db_session)
    client.login(factory.staff("supervisor"))
    resp = client.post(
        f"/staff/requests/{sr.number}/sla-explanation",
        data={"explanation": "sorry"},
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "Write at least a sentence" in html and ">sorry</textarea>" in html
    assert db_session.scalar(select(Message).where(Message.request_id == sr.id)) is None


def test_only_supervisors_may_explain(client, factory, db_session):
    sr, _contact = _escalated(factory, db_session)
    client.login(factory.staff("engineer", "dispatcher"))
    resp = client.post(
        f"/staff/requests/{sr.number}/sla-explanation",
        data={"explanation": "A long enough explanation of the delay for the customer."},
    )
    assert resp.status_code == 403


def test_the_panel_shows_the_level_and_offers_the_explanation_to_supervisors(
    app, factory, db_session
):
    sr, _contact = _escalated(factory, db_session)
    supervisor = factory.staff("supervisor")
    context = _escalation_panel(db_session, sr, supervisor, utcnow())
    assert context["escalation"]["level"] == 1
    assert context["escalation"]["may_explain"] is True
    engineer = factory.staff("engineer")
    assert (
        _escalation_panel(db_session, sr, engineer, utcnow())["escalation"]["may_explain"] is False
    )
    with app.test_request_context():
        from flask import render_template

        html = render_template("staff/_escalation_panel.html", sr=sr, **context)
    assert "Level 1" in html and "Send the customer an explanation" in html
