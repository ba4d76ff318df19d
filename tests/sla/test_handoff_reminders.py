"""The timed hand-off notices (docs/product.md §9): a delivery waiting for acceptance reminds
the customer side a working day before its 3-working-day window ends, and an improvement
measure's owner hears it is due at 09:00 of the working day before its deadline — each once,
from the sweep."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from portal import jobs_sla
from portal.models import (
    Calendar,
    EmailOutbox,
    Feedback,
    ImprovementMeasure,
    Notification,
    Organisation,
)


def _kinds(db_session, prefix: str) -> list[tuple[int, str]]:
    return sorted(
        (n.recipient_id, n.kind)
        for n in db_session.scalars(
            select(Notification).where(Notification.kind.startswith(prefix))
        )
    )


def _sweep_at(monkeypatch, instant: datetime) -> int:
    monkeypatch.setattr(jobs_sla, "_now", lambda: instant)
    return jobs_sla.sweep()["fired"]


def test_a_delivery_waiting_for_acceptance_reminds_the_customer_side_once(
    db_session, factory, monkeypatch
):
    org = factory.organisation(notify_org_admins=True)
    # the organisation works around the clock: 3 working days are 72 hours
    row = Calendar(
        name="Around the clock",
        timezone="UTC",
        country="",
        working_hours={str(d): [["00:00", "24:00"]] for d in range(7)},
    )
    db_session.add(row)
    db_session.flush()
    db_session.get(Organisation, org.id).calendar_id = row.id
    contact = factory.customer(org, locale="zh_CN")
    org_admin = factory.customer(org, admin=True)
    factory.customer(org)  # a colleague: not told
    delivered = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    sr = factory.request(contact, now=delivered - timedelta(hours=5))
    sr.status = "pending_acceptance"
    sr.priority = "P3"
    sr.first_response_at = sr.submitted_at
    sr.delivered_at = delivered
    db_session.commit()

    assert _sweep_at(monkeypatch, delivered + timedelta(hours=47, minutes=59)) == 0
    assert _kinds(db_session, "acceptance_reminder") == []
    assert _sweep_at(monkeypatch, delivered + timedelta(hours=48, minutes=1)) == 1
    assert _kinds(db_session, "acceptance_reminder") == sorted(
        [(contact.id, "acceptance_reminder"), (org_admin.id, "acceptance_reminder")]
    )
    note = db_session.scalar(select(Notification).where(Notification.recipient_id == contact.id))
    # it names the end of the window: 72 hours after the delivery
    assert datetime.fromisoformat(note.params["due"]) == delivered + timedelta(hours=72)
    subject = db_session.scalar(
        select(EmailOutbox.subject).where(EmailOutbox.to_address == contact.email)
    )
    assert subject == f"[{sr.number}] 提醒:交付等待您验收"
    assert _sweep_at(monkeypatch, delivered + timedelta(hours=50)) == 0  # once


def _measure(db_session, factory, owner, deadline: date, created: datetime):
    contact = factory.customer()
    sr = factory.request(contact, now=created - timedelta(days=3))
    sr.status = "closed"
    fb = Feedback(
        number=f"FB-D-{sr.id}",
        request_id=sr.id,
        customer_id=contact.id,
        channel="portal",
        recorded_by_id=contact.id,
        score_response=2,
        score_effect=3,
        score_attitude=3,
        mean_score=2.7,
    )
    db_session.add(fb)
    db_session.flush()
    measure = ImprovementMeasure(
        feedback_id=fb.id,
        measure="Reply within the hour",
        owner_id=owner.id,
        deadline=deadline,
        created_at=created,
    )
    db_session.add(measure)
    db_session.commit()
    return measure


def test_a_measure_due_on_monday_is_announced_to_its_owner_friday_at_nine(
    db_session, factory, monkeypatch
):
    owner = factory.staff("engineer")
    factory.staff("supervisor")  # told when overdue, not when due soon
    # Monday 15 March 2027; the desk (Asia/Shanghai) works Monday to Friday
    measure = _measure(
        db_session, factory, owner, date(2027, 3, 15), datetime(2027, 3, 1, 2, tzinfo=UTC)
    )
    friday_nine = datetime(2027, 3, 12, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    assert _sweep_at(monkeypatch, friday_nine - timedelta(minutes=1)) == 0
    assert _sweep_at(monkeypatch, friday_nine + timedelta(minutes=1)) == 1
    assert _kinds(db_session, "measure_") == [(owner.id, f"measure_due_soon:{measure.id}")]
    assert _sweep_at(monkeypatch, friday_nine + timedelta(hours=2)) == 0  # once


def test_a_measure_set_after_its_due_soon_moment_is_not_announced_again(
    db_session, factory, monkeypatch
):
    owner = factory.staff("engineer")
    # set on Friday afternoon for Monday: its owner was just told it is theirs
    _measure(db_session, factory, owner, date(2027, 3, 15), datetime(2027, 3, 12, 7, tzinfo=UTC))
    assert _sweep_at(monkeypatch, datetime(2027, 3, 12, 8, tzinfo=UTC)) == 0
    assert _kinds(db_session, "measure_due_soon") == []
