"""The staff request page: header, contact card, files, timeline, histories, cost."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.models import (
    Assignment,
    Classification,
    Collaborator,
    CooperationRequest,
    HandlingRecord,
    HandlingStep,
    Message,
    utcnow,
)
from portal.services import attachments as attachment_service
from portal.services.audit import Actor


@pytest.fixture
def case(factory, db_session):
    org = factory.organisation("Acme Steel")
    contact = factory.customer(
        org, name="王小明", phone="13912341234", email="wang@acme.example.com"
    )
    handler = factory.staff("engineer", name="Handler Han", locale="en")
    supervisor = factory.staff("supervisor", name="Supervisor Su", locale="en")
    outsider = factory.staff("agent", name="Agent Nosy", locale="en")
    sr = factory.request(
        contact, title="Database timeouts", description="Timeouts since the upgrade."
    )
    now = sr.submitted_at
    sr.status = "in_progress"
    sr.priority = "P1"
    sr.handler_id = handler.id
    sr.resolution_due_at = now + timedelta(hours=4)
    sr.response_due_at = now + timedelta(hours=2)
    sr.escalation_level = 1
    sr.rework_count = 2
    db_session.add(
        Classification(
            request_id=sr.id,
            classified_by_id=supervisor.id,
            type="fault",
            priority="P1",
            impact_scope="core",
            urgency="high",
            business_importance="high",
            confirmed_details="Confirmed with 王小明: production ERP down.",
            created_at=now,
        )
    )
    db_session.add(
        Assignment(
            request_id=sr.id,
            handler_id=handler.id,
            assigned_by_id=supervisor.id,
            reason="Database skill level 5",
            assigned_at=now + timedelta(minutes=5),
        )
    )
    db_session.flush()
    return {
        "sr": sr,
        "contact": contact,
        "handler": handler,
        "supervisor": supervisor,
        "outsider": outsider,
        "now": now,
    }


def _add_timeline(db_session, case, n):
    sr, now = case["sr"], case["now"]
    record = HandlingRecord(
        number=f"IR-{sr.number[3:]}",
        request_id=sr.id,
        handler_id=case["handler"].id,
        workaround="Restarted the pool as a stopgap.",
    )
    db_session.add(record)
    db_session.flush()
    for i in range(n):
        author = case["contact"] if i % 3 == 0 else case["handler"]
        db_session.add(
            Message(
                request_id=sr.id,
                author_id=author.id,
                internal=i % 3 == 2,
                body=f"message body {i}",
                created_at=now + timedelta(minutes=10 + i),
            )
        )
        db_session.add(
            HandlingStep(
                record_id=record.id,
                author_id=case["handler"].id,
                occurred_at=now + timedelta(minutes=10 + i),
                operation=f"Checked connection pool setting {i}: max 20",
                hours=Decimal("0.5"),
            )
        )
    db_session.add(
        CooperationRequest(
            request_id=sr.id,
            asked_by_id=case["handler"].id,
            what="Please give us a test account",
            asked_at=now + timedelta(minutes=9),
        )
    )
    db_session.flush()


def test_request_page_shows_header_histories_and_timeline(client, case, db_session):
    _add_timeline(db_session, case, 3)
    client.login(case["outsider"])
    resp = client.get(f"/staff/requests/{case['sr'].number}")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    for text in (
        "Database timeouts",
        case["sr"].number,
        "In progress",
        "P1 urgent",
        "P2 important",
        "Handler Han",
        "Timeouts since the upgrade.",
        "Supervisor Su",
        "Database skill level 5",
        "Checked connection pool setting 2: max 20",
        "Restarted the pool as a stopgap.",
        "Please give us a test account",
        "message body 0",
        "message body 1",
        # the classification record in words, not its stored codes
        "Impact: Affects core business · urgency: High · importance: High",
    ):
        assert text in body, text
    # escalation level and rework count are in the header
    assert "Escalation level</dt><dd>1</dd>" in body
    assert "Rework count</dt><dd>2</dd>" in body


def test_internal_notes_are_marked_apart_from_public_messages(client, case, db_session):
    _add_timeline(db_session, case, 3)  # message 2 is internal
    client.login(case["handler"])
    body = client.get(f"/staff/requests/{case['sr'].number}").get_data(as_text=True)
    note_start = body.index("message body 2")
    entry = body.rfind('<li class="entry', 0, note_start)
    assert body[entry:note_start].count("Internal note") == 1
    assert "entry-note" in body[entry:note_start]
    public = body.rfind('<li class="entry', 0, body.index("message body 1"))
    assert "Internal note" not in body[public : body.index("message body 1")]
    assert body.count(">Internal note<") == 1


def test_contact_card_masked_for_outsider_full_for_handler_and_collaborator(
    client, make_client, case, db_session
):
    url = f"/staff/requests/{case['sr'].number}"
    client.login(case["outsider"])
    body = client.get(url).get_data(as_text=True)
    assert "****1234" in body and "13912341234" not in body
    assert "w***@acme.example.com" in body and "wang@acme.example.com" not in body
    assert "王小明" not in body.split("Classification history")[0]  # contact card and header

    handler = make_client()
    handler.login(case["handler"])
    body = handler.get(url).get_data(as_text=True)
    assert "13912341234" in body and "wang@acme.example.com" in body and "王小明" in body

    db_session.add(
        Collaborator(
            request_id=case["sr"].id,
            account_id=case["outsider"].id,
            interface_person="Li",
            scope="database tuning",
            added_by_id=case["supervisor"].id,
        )
    )
    db_session.flush()
    body = client.get(url).get_data(as_text=True)
    assert "13912341234" in body and "database tuning" in body


def test_customer_authors_are_masked_for_outsiders(client, case, db_session):
    _add_timeline(db_session, case, 1)  # message 0 is by the customer
    client.login(case["outsider"])
    body = client.get(f"/staff/requests/{case['sr'].number}").get_data(as_text=True)
    timeline = body[body.index('class="timeline"') :]
    assert "王*" in timeline and "王小明" not in timeline.split("</ol>")[0]


def test_unknown_number_is_404(client, case):
    client.login(case["handler"])
    assert client.get("/staff/requests/SR-20000101-999").status_code == 404


def test_request_page_runs_the_same_number_of_queries_for_3_and_40_entries(
    client, case, db_session, count_queries, factory
):
    client.login(case["handler"])
    url = f"/staff/requests/{case['sr'].number}"
    _add_timeline(db_session, case, 3)
    client.get(url)
    with count_queries() as small:
        assert client.get(url).status_code == 200
    sr = case["sr"]
    record = db_session.scalars(
        select(HandlingRecord).where(HandlingRecord.request_id == sr.id)
    ).one()
    for i in range(37):
        db_session.add(
            Message(
                request_id=sr.id,
                author_id=case["contact"].id,
                body=f"more {i}",
                internal=i % 2 == 0,
            )
        )
        db_session.add(
            HandlingStep(
                record_id=record.id,
                author_id=case["handler"].id,
                occurred_at=utcnow(),
                operation=f"Step {i}: tuned index",
            )
        )
        db_session.add(
            Collaborator(
                request_id=sr.id,
                account_id=factory.staff().id,
                interface_person="p",
                scope="s",
                added_by_id=case["supervisor"].id,
            )
        )
    db_session.flush()
    with count_queries() as large:
        body = client.get(url).get_data(as_text=True)
    assert "more 36" in body and "Step 36: tuned index" in body
    assert len(small) == len(large), (small, large)


def test_staff_download_sends_the_file_as_an_attachment(client, case, db_session, app, factory):
    att = attachment_service.save(
        db_session,
        Actor(case["contact"].id),
        utcnow(),
        attachment_service.Upload("error log.txt", io.BytesIO(b"ERROR pool exhausted\n")),
        request_id=case["sr"].id,
        folder=app.config["UPLOAD_FOLDER"],
        max_bytes=1_000_000,
    )
    db_session.flush()
    client.login(case["outsider"])  # any staff member may download
    page = client.get(f"/staff/requests/{case['sr'].number}").get_data(as_text=True)
    url = f"/staff/requests/{case['sr'].number}/files/{att.id}"
    assert url in page and "error log.txt" in page
    resp = client.get(url)
    assert resp.status_code == 200
    assert resp.data == b"ERROR pool exhausted\n"
    assert resp.headers["Content-Disposition"].startswith("attachment")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    # the same id under another request's number is not found
    other = factory.request(case["contact"]).number
    assert client.get(f"/staff/requests/{other}/files/{att.id}").status_code == 404
    assert client.get(f"/staff/requests/{case['sr'].number}/files/999999").status_code == 404
