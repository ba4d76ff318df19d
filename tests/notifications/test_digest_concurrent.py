"""Two workers running the day's digest at the same moment, each on its own connection to a
committed PostgreSQL database: one mail (on SQLite writers take turns, so the race cannot
happen there; tests/notifications/test_digest.py covers the interleaving)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.db import db
from portal.migrate import upgrade
from portal.models import DigestWatermark, EmailOutbox, utcnow
from portal.services import digest, preferences
from portal.services.notifications import notify
from tests.factories import Factory
from tests.live_db import empty_postgres_database

CHEAP_HASH = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


@pytest.mark.postgres
def test_two_workers_at_the_same_moment_send_one_digest(
    database_url, redis_url, tmp_path, monkeypatch
):
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (DATABASE_URL): SQLite has one writer at a time")
    url = empty_postgres_database(database_url, "digest")
    upgrade(url)
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "digest-test",
            "PASSWORD_HASH": CHEAP_HASH,
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        }
    )
    with app.app_context():
        factory = Factory(db.session, app)
        engineer = factory.staff("engineer")
        preferences.save(db.session, engineer.id, {"conversation": "digest"}, utcnow())
        sr = factory.request(factory.customer())
        notify(db.session, engineer.id, "customer_reply", sr.id, {"number": sr.number}, "k")
        db.session.info.pop("portal_after_commit", None)
        db.session.commit()
        account_id = engineer.id
    day = digest.desk_day(utcnow(), app.config["PORTAL_TIMEZONE"])

    # both have read the unread notifications before either writes its digest
    both_read = threading.Barrier(2, timeout=20)
    real_pending = digest.pending

    def pending(session, who):
        found = real_pending(session, who)
        both_read.wait()
        return found

    monkeypatch.setattr(digest, "pending", pending)
    outcomes: list[bool] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context():
                mail = digest.send_digest(db.session, account_id, day)
                db.session.info.pop("portal_after_commit", None)
                db.session.commit()
                outcomes.append(mail is not None)
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(outcomes) == [False, True]
    with app.app_context():
        mails = db.session.scalar(
            select(func.count())
            .select_from(EmailOutbox)
            .where(EmailOutbox.dedupe_key == digest.digest_key(account_id, day))
        )
        marks = db.session.scalar(select(func.count()).select_from(DigestWatermark))
    assert (mails, marks) == (1, 1)
    app.extensions["portal_db"].engine.dispose()
