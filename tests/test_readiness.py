"""/healthz (the process is up) and /readyz (each check with its own status, 503 when one fails):
what a load balancer and an operator read (portal/services/readiness.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal import create_app, jobs_sla
from portal.migrate import upgrade
from portal.models import EmailOutbox, Mailbox
from portal.queue import redis_conn
from portal.services.timers import LAST_SWEEP_KEY
from tests.conftest import CHEAP_HASH


def _statuses(body: dict) -> dict[str, str]:
    return {name: check["status"] for name, check in body["checks"].items()}


def _swept(app, ago: timedelta = timedelta(0)) -> None:
    with app.app_context():
        redis_conn().set(LAST_SWEEP_KEY, (datetime.now(UTC) - ago).isoformat())


def test_healthz_says_only_that_the_process_is_up(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}


def test_ready_after_a_sweep_and_not_before(app, client, db_session):
    resp = client.get("/readyz")
    assert resp.status_code == 503  # no worker has swept: timers would not fire
    body = resp.get_json()
    assert body["status"] == "not ready"
    assert _statuses(body)["sla_sweep"] == "fail"
    assert body["checks"]["sla_sweep"]["age_seconds"] is None

    jobs_sla.sweep()
    resp = client.get("/readyz")
    assert resp.status_code == 200, resp.get_json()
    assert resp.headers["Cache-Control"] == "no-store"
    assert _statuses(resp.get_json()) == {
        "database": "ok",
        "migrations": "ok",
        "redis": "ok",
        "sla_sweep": "ok",
        "outbox": "ok",
        "inbound": "not configured",
    }


def test_a_stale_sweep_is_not_ready(app, client, db_session):
    _swept(app, ago=timedelta(hours=1))
    resp = client.get("/readyz")
    assert resp.status_code == 503
    sweep = resp.get_json()["checks"]["sla_sweep"]
    assert sweep["status"] == "fail" and sweep["age_seconds"] >= 3600


def test_mail_waiting_past_its_time_or_failing_makes_the_outbox_check_fail(
    app, client, db_session
):
    _swept(app)
    now = datetime.now(UTC)
    db_session.add(
        EmailOutbox(
            to_address="due@example.com",
            subject="s",
            body_text="b",
            next_attempt_at=now - timedelta(seconds=30),  # due a moment ago: a worker will take it
        )
    )
    db_session.commit()
    assert client.get("/readyz").status_code == 200

    db_session.add(
        EmailOutbox(
            to_address="late@example.com",
            subject="s",
            body_text="b",
            next_attempt_at=now - timedelta(hours=2),  # nobody sends the mail
        )
    )
    db_session.commit()
    resp = client.get("/readyz")
    assert resp.status_code == 503
    outbox = resp.get_json()["checks"]["outbox"]
    assert (outbox["status"], outbox["late"]) == ("fail", 1)
    assert "late@example.com" not in resp.get_data(as_text=True)


def test_failures_in_the_last_hour_up_to_the_limit(app, client, db_session):
    app.config["READY_OUTBOX_FAILED_MAX"] = 3
    _swept(app)
    now = datetime.now(UTC)
    for i in range(3):
        db_session.add(
            EmailOutbox(
                to_address=f"gone{i}@example.com",
                subject="s",
                body_text="b",
                status="failed",
                next_attempt_at=now - timedelta(minutes=5 + i),
            )
        )
        db_session.commit()
        resp = client.get("/readyz")
        assert resp.get_json()["checks"]["outbox"]["failed_last_hour"] == i + 1
        assert resp.status_code == (503 if i + 1 >= 3 else 200)


def _mailbox(name: str, last_fetch_at: datetime | None, created_at: datetime) -> Mailbox:
    return Mailbox(
        name=name,
        host="imap.private-host.example",
        username="desk-inbox-user",
        password_encrypted="x",
        last_fetch_at=last_fetch_at,
        created_at=created_at,
        last_error="auth: login refused" if last_fetch_at is None else None,
    )


def test_a_mailbox_not_fetched_for_long_makes_inbound_fail(app, client, db_session):
    _swept(app)
    now = datetime.now(UTC)
    db_session.add(_mailbox("support", now - timedelta(seconds=20), now - timedelta(days=3)))
    db_session.commit()
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.get_json()["checks"]["inbound"] == {
        "status": "ok",
        "mailboxes": 1,
        "lagging": 0,
        "with_errors": 0,
        "max_lag_seconds": 300.0,
    }

    db_session.add(_mailbox("sales", None, now - timedelta(hours=1)))
    db_session.commit()
    resp = client.get("/readyz")
    assert resp.status_code == 503
    inbound = resp.get_json()["checks"]["inbound"]
    assert (inbound["status"], inbound["lagging"], inbound["with_errors"]) == ("fail", 1, 1)
    text = resp.get_data(as_text=True)
    assert "private-host" not in text and "desk-inbox-user" not in text


def _app(database_url: str, redis_url: str | None):
    return create_app(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "r",
            "PASSWORD_HASH": CHEAP_HASH,
        }
    )


def test_a_database_that_does_not_answer_is_503_not_500(redis_url):
    down = _app("postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2", redis_url)
    resp = down.test_client().get("/readyz")
    assert resp.status_code == 503
    statuses = _statuses(resp.get_json())
    assert statuses["database"] == "fail" and statuses["migrations"] == "fail"
    assert "outbox" not in statuses  # nothing else is read from a database that is not there


def test_redis_that_does_not_answer_fails_redis_and_the_sweep(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    upgrade(url)
    resp = _app(url, "redis://127.0.0.1:1/0").test_client().get("/readyz")
    assert resp.status_code == 503
    statuses = _statuses(resp.get_json())
    assert statuses["redis"] == "fail" and statuses["sla_sweep"] == "fail"
    assert statuses["database"] == "ok" and statuses["migrations"] == "ok"


@pytest.mark.slow
def test_pending_migrations_are_not_ready(tmp_path, redis_url):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0012")
    resp = _app(url, redis_url).test_client().get("/readyz")
    assert resp.status_code == 503
    migrations = resp.get_json()["checks"]["migrations"]
    assert migrations["status"] == "fail" and migrations["schema"] == ["0012"]
