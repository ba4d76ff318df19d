"""An SLA escalation mails through the one notification path: the notice templates, the
recipient's preference, the link to the escalation panel (docs/product.md §9, §4)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.models import EmailOutbox, Notification, utcnow
from portal.services import escalation, preferences
from portal.services.timers import Deadline
from tests.notifications.conftest import BASE_URL


def _breach(db_session, factory):
    customer = factory.customer()
    sr = factory.request(customer)
    sr.priority = "P2"
    now = utcnow()
    due = now - timedelta(minutes=1)
    sr.resolution_due_at = due
    db_session.flush()
    return sr, Deadline(sr.id, "resolution_breach", due, due), now


def test_a_breach_mails_the_supervisors_as_they_chose(db_session, factory, mail_config):
    mailed = factory.staff("supervisor")
    quiet = factory.staff("supervisor", locale="zh_CN")
    preferences.save(db_session, quiet.id, {"sla": "off"}, utcnow())
    sr, deadline, now = _breach(db_session, factory)

    assert escalation.fire(db_session, sr, deadline, now) is True
    told = set(
        db_session.scalars(
            select(Notification.recipient_id).where(Notification.kind == "resolution_breach")
        )
    )
    assert {mailed.id, quiet.id} <= told  # both see it in the portal
    mails = db_session.scalars(
        select(EmailOutbox).where(EmailOutbox.meta["kind"].as_string() == "resolution_breach")
    ).all()
    assert [m.to_address for m in mails] == [mailed.email]  # only one chose mail
    (mail,) = mails
    assert mail.subject == f"[{sr.number}] SLA breached: escalation level 1"
    assert f'href="{BASE_URL}/staff/requests/{sr.number}#panel-escalation"' in mail.body_html
    assert mail.meta["number"] == sr.number
    # the firing job sends them itself after its commit
    assert db_session.info["portal_sla_mails"] == [mail.id]
