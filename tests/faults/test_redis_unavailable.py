"""Redis stopped for a while: the pages keep working (login, the queue, submitting), and once it
is back the sweep does what the lost jobs would have done (portal/queue.py, portal/jobs_sla.py)."""

from __future__ import annotations

import shutil
from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from portal import create_app, jobs_sla
from portal.db import db
from portal.migrate import upgrade
from portal.models import Notification, ServiceRequest
from tests.conftest import CHEAP_HASH, PortalClient
from tests.factories import Factory
from tests.faults.private_servers import PrivateRedis
from tests.faults.test_database_unavailable import _form


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server")
def test_with_redis_stopped_pages_work_and_the_sweep_repairs_afterwards(tmp_path, monkeypatch):
    redis = PrivateRedis().start()
    try:
        url = f"sqlite:///{tmp_path / 'r.db'}"
        upgrade(url)
        app = create_app(
            {
                "DATABASE_URL": url,
                "REDIS_URL": redis.url,
                "SECRET_KEY": "faults",
                "PASSWORD_HASH": CHEAP_HASH,
                "UPLOAD_FOLDER": str(tmp_path / "uploads"),
                "BABEL_DEFAULT_LOCALE": "en",
                "SLA_SWEEP_SECONDS": 1,
            }
        )
        with app.app_context():
            factory = Factory(db.session, app)
            customer, agent = factory.customer(), factory.staff("agent")
            supervisor = factory.staff("supervisor")
            db.session.commit()
            supervisor_id = supervisor.id

        redis.stop()
        customer_side, staff_side = PortalClient(app), PortalClient(app)
        customer_side.login(customer)  # the login throttle steps aside, with a warning
        staff_side.login(agent)
        assert customer_side.get("/").status_code == 200
        submitted = customer_side.post(
            "/requests/new", data=_form(1), content_type="multipart/form-data"
        )
        assert submitted.status_code == 302  # saved, though its job could not be queued
        number = submitted.location.rsplit("/", 1)[1]
        assert customer_side.get(submitted.location).status_code == 200
        queue_page = staff_side.get("/staff/queue?view=all")
        assert queue_page.status_code == 200 and number in queue_page.get_data(as_text=True)
        assert staff_side.get("/staff/queue/counts").status_code == 200

        redis.start()
        with app.app_context():
            sr = db.session.scalar(select(ServiceRequest).where(ServiceRequest.number == number))
            told = db.session.scalars(
                select(Notification.recipient_id).where(Notification.request_id == sr.id)
            ).all()
            assert told == []  # the job after intake never ran
        # the sweep, once Redis is back and the submission is older than a sweep interval
        at = sr.submitted_at if sr.submitted_at.tzinfo else sr.submitted_at.replace(tzinfo=UTC)
        monkeypatch.setattr(jobs_sla, "_now", lambda: at + timedelta(seconds=5))
        monkeypatch.setattr("portal.jobs._app", app)
        with app.app_context():
            jobs_sla.sweep()
            jobs_sla.sweep()  # twice: still told once
            told = db.session.scalars(
                select(Notification.recipient_id).where(
                    Notification.request_id == sr.id, Notification.kind == "request_submitted"
                )
            ).all()
        assert told == [supervisor_id]
        app.extensions["portal_db"].engine.dispose()
    finally:
        redis.stop()
