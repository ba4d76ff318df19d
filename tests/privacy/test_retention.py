"""Retention (issue 5, done-when 5): with the clock frozen, deleting a record younger than three
years is refused with the date it becomes possible; archiving then purging an older one works
and is audited, and the audit chain stays whole."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime

from freezegun import freeze_time
from sqlalchemy import func, select

from portal.models import (
    Attachment,
    AuditEvent,
    HandlingRecord,
    HandlingStep,
    Message,
    Notification,
    ServiceRequest,
)
from portal.services import audit, retention
from tests.privacy.conftest import LOG_TEXT, PHONE, build_scene

CLOSED_AT = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 on 10 March 2026 in Shanghai


def _closed_scene(factory, db_session, app):
    scene = build_scene(factory, db_session, app)
    sr = scene.sr
    sr.status = "closed"
    sr.closed_at = CLOSED_AT
    db_session.flush()
    return scene


def _count(session, model, **where) -> int:
    stmt = select(func.count()).select_from(model)
    for k, v in where.items():
        stmt = stmt.where(getattr(model, k) == v)
    return session.scalar(stmt)


def test_eligibility_is_three_years_after_closure():
    class SR:
        status = "closed"
        closed_at = datetime(2024, 2, 29, 12, 0, tzinfo=UTC)
        updated_at = closed_at

    assert retention.eligible_at(SR) == datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    SR.status = "in_progress"
    assert retention.eligible_at(SR) is None


def test_deleting_a_younger_record_is_refused_with_the_date(app, client, factory, db_session):
    scene = _closed_scene(factory, db_session, app)
    admin = factory.staff("admin")
    number = scene.sr.number
    with freeze_time("2029-03-09 12:00:00"):  # a day short of three years
        client.login(admin)
        assert scene.sr.number not in client.get("/staff/admin/retention").get_data(as_text=True)
        for action in ("purge", "archive"):
            resp = client.post(f"/staff/admin/retention/{number}/{action}")
            assert resp.status_code == 303
            page = client.get(resp.location).get_data(as_text=True)
            assert "can be deleted from 2029-03-10" in page
    assert _count(db_session, ServiceRequest, number=number) == 1
    assert _count(db_session, AuditEvent, action=retention.PURGED, object_id=number) == 0
    # an open request can never be purged
    open_sr = factory.request(scene.contact)
    with freeze_time("2040-01-01"):
        client.login(admin)
        resp = client.post(f"/staff/admin/retention/{open_sr.number}/purge")
        assert "is not closed" in client.get(resp.location).get_data(as_text=True)


def test_archive_then_purge_an_older_record(app, client, factory, db_session):
    scene = _closed_scene(factory, db_session, app)
    sr_id, number = scene.sr.id, scene.sr.number
    record_id = db_session.scalar(
        select(HandlingRecord.id).where(HandlingRecord.request_id == sr_id)
    )
    stored = app.config["UPLOAD_FOLDER"] + "/" + scene.log_file.stored_name
    admin = factory.staff("admin")
    with freeze_time("2029-03-10 12:00:00"):
        client.login(admin)
        listing = client.get("/staff/admin/retention").get_data(as_text=True)
        assert number in listing and "Archive first" in listing

        # purge before the archive is refused
        resp = client.post(f"/staff/admin/retention/{number}/purge")
        assert "Export the archive" in client.get(resp.location).get_data(as_text=True)

        resp = client.post(f"/staff/admin/retention/{number}/archive")
        assert resp.status_code == 200
        assert resp.mimetype == "application/zip"
        with zipfile.ZipFile(io.BytesIO(resp.get_data())) as zf:
            names = set(zf.namelist())
            records = json.loads(zf.read("records.json"))
            events = json.loads(zf.read("audit.json"))
            assert zf.read(f"files/{scene.log_file.id}-server.log").decode() == LOG_TEXT
            forms = sorted(n for n in names if n.startswith("forms/") and n.endswith(".html"))
            assert "forms/sr.html" in forms and "forms/ir.html" in forms  # the printable forms
            assert forms
            assert number in zf.read(forms[0]).decode()
        assert {"manifest.json", "records.json", "audit.json"} <= names
        assert records["service_requests"][0]["number"] == number
        assert records["service_requests"][0]["contact_phone"] == PHONE  # the full record
        assert len(records["messages"]) == 1 and len(records["handling_steps"]) == 1
        assert any(e["action"] == "request.submitted" for e in events)

        resp = client.post(f"/staff/admin/retention/{number}/purge")
        assert resp.status_code == 303
        assert "was purged" in client.get(resp.location).get_data(as_text=True)

    assert _count(db_session, ServiceRequest, id=sr_id) == 0
    for model in (Message, Attachment, HandlingRecord, Notification):
        assert _count(db_session, model, request_id=sr_id) == 0
    assert _count(db_session, HandlingStep, record_id=record_id) == 0
    # the contact's other request and its steps are untouched
    assert _count(db_session, ServiceRequest, id=scene.closed.id) == 1
    assert _count(db_session, HandlingStep, author_id=scene.handler.id) == 1
    assert not __import__("os").path.exists(stored)
    # both audited, by the admin; the request's older audit rows are kept and the chain is whole
    actions = db_session.execute(
        select(AuditEvent.action, AuditEvent.actor_id)
        .where(AuditEvent.object_type == "service_request", AuditEvent.object_id == number)
        .order_by(AuditEvent.id)
    ).all()
    assert (retention.ARCHIVED, admin.id) in actions and (retention.PURGED, admin.id) in actions
    assert actions[0].action == "request.submitted"
    assert audit.verify(db_session) is None


def test_retention_pages_are_for_admins_only(client, factory, db_session, app):
    scene = _closed_scene(factory, db_session, app)
    client.login(factory.staff("agent", "supervisor", "dispatcher", "engineer"))
    assert client.get("/staff/admin/retention").status_code == 403
    with freeze_time("2030-01-01"):
        client.login(factory.staff("agent", "supervisor", "dispatcher", "engineer"))
        assert client.post(f"/staff/admin/retention/{scene.sr.number}/purge").status_code == 403
    assert _count(db_session, ServiceRequest, id=scene.sr.id) == 1
