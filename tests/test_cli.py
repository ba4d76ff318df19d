"""The `portal` command: `portal demo --no-serve` and `portal users create`, each on its own
temporary SQLite database (never the real instance/)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from redis import Redis
from sqlalchemy import func, select

from portal import create_app, security
from portal.cli import main
from portal.db import db
from portal.domain.vocabulary import Status
from portal.migrate import upgrade
from portal.models import (
    Account,
    Feedback,
    HandlingRecord,
    HandlingStep,
    Message,
    Organisation,
    ServiceRequest,
)
from tests.conftest import CHEAP_HASH, PortalClient


@pytest.fixture(autouse=True)
def _cheap_hashing_again():
    # the command builds its app with the production Argon2 parameters (process-wide)
    yield
    security.configure(CHEAP_HASH)


@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    # the command builds its app from the environment, as it does for a user
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEY", "cli-test-secret")
    monkeypatch.setenv("UPLOAD_FOLDER", str(tmp_path / "uploads"))
    monkeypatch.delenv("REDIS_URL", raising=False)
    return url


def _app_on(url: str, redis_url: str):
    # login throttling counts in Redis: start from a clean slate, as the app fixture does
    Redis.from_url(redis_url).flushdb()
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "cli-test-secret",
            "PASSWORD_HASH": CHEAP_HASH,
        }
    )


def test_demo_seeds_every_status_once_and_prints_the_logins(cli_db, redis_url):
    runner = CliRunner()
    first = runner.invoke(main, ["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    out = first.output
    assert "http://127.0.0.1:5000/" in out
    assert "http://127.0.0.1:5000/login" in out and "http://127.0.0.1:5000/staff/login" in out
    assert "Lantern-Harbour-2026" in out
    for email in (
        "li.ming@acme.example.com",
        "chen.jianguo@acme.example.com",
        "zhou.min@star.example.com",
        "agent@desk.example.com",
        "supervisor@desk.example.com",
        "dispatcher@desk.example.com",
        "engineer1@desk.example.com",
        "engineer2@desk.example.com",
        "admin@desk.example.com",
    ):
        assert email in out

    app = _app_on(cli_db, redis_url)
    with app.app_context():
        s = db.session
        statuses = Counter(s.scalars(select(ServiceRequest.status)).all())
        assert set(statuses) == {st.value for st in Status}
        assert sum(statuses.values()) >= 25
        priorities = set(s.scalars(select(ServiceRequest.priority)).all())
        assert {"P1", "P2", "P3"} <= priorities
        assert len(set(s.scalars(select(ServiceRequest.type)).all())) == 4
        assert len(set(s.scalars(select(ServiceRequest.channel)).all())) >= 3
        # every SR number carries the desk day of its submission
        tz = ZoneInfo(app.config["PORTAL_TIMEZONE"])
        for number, submitted in s.execute(
            select(ServiceRequest.number, ServiceRequest.submitted_at)
        ):
            assert number.split("-")[1] == f"{submitted.astimezone(tz):%Y%m%d}"
        orgs = s.scalars(select(Organisation).order_by(Organisation.code)).all()
        assert [o.code for o in orgs] == ["ACME", "STAR"]
        assert any(o.colleagues_may_view for o in orgs)
        assert s.scalar(select(func.count()).select_from(Message).where(Message.internal)) >= 1

        # the template's example: P1 fault, IR with four timed steps totalling 2.5 h, FB 4.7
        example = s.scalars(
            select(ServiceRequest).where(ServiceRequest.title == "生产系统无法登录")
        ).one()
        assert (example.priority, example.type) == ("P1", "fault")
        assert example.contact_name.startswith("李")
        record = s.scalars(
            select(HandlingRecord).where(HandlingRecord.request_id == example.id)
        ).one()
        assert record.number.startswith("IR-")
        hours = s.scalars(
            select(HandlingStep.hours)
            .where(HandlingStep.record_id == record.id)
            .order_by(HandlingStep.occurred_at)
        ).all()
        assert len(hours) == 4 and sum(hours) == Decimal("2.5")
        fb = s.scalars(select(Feedback).where(Feedback.request_id == example.id)).one()
        assert fb.mean_score == Decimal("4.7")
        n_requests = sum(statuses.values())
        n_accounts = s.scalar(select(func.count()).select_from(Account))

    # run again: nothing is added
    second = runner.invoke(main, ["demo", "--no-serve"])
    assert second.exit_code == 0, second.output
    assert "already seeded" in second.output
    assert "Lantern-Harbour-2026" in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ServiceRequest)) == n_requests
        assert db.session.scalar(select(func.count()).select_from(Account)) == n_accounts

    # the printed logins work, each on its own side
    customer = PortalClient(app)
    resp = customer.post(
        "/login", data={"identifier": "li.ming@acme.example.com", "password": "Lantern-Harbour-2026"}
    )
    assert resp.status_code == 302
    staff = PortalClient(app)
    resp = staff.post(
        "/staff/login", data={"identifier": "dispatcher@desk.example.com", "password": "Lantern-Harbour-2026"}
    )
    assert resp.status_code == 302
    wrong_side = PortalClient(app)
    resp = wrong_side.post(
        "/login", data={"identifier": "dispatcher@desk.example.com", "password": "Lantern-Harbour-2026"}
    )
    assert resp.status_code == 401


def test_demo_reset_seeds_afresh(cli_db, redis_url):
    runner = CliRunner()
    assert runner.invoke(main, ["demo", "--no-serve"]).exit_code == 0
    app = _app_on(cli_db, redis_url)
    with app.app_context():
        db.session.execute(ServiceRequest.__table__.update().values(title="changed by someone"))
        db.session.commit()
    result = runner.invoke(main, ["demo", "--no-serve", "--reset"])
    assert result.exit_code == 0, result.output
    assert "Demo seeded" in result.output
    with app.app_context():
        titles = db.session.scalars(select(ServiceRequest.title)).all()
        assert "changed by someone" not in titles and "生产系统无法登录" in titles


def test_users_create_makes_an_account_that_can_log_in(cli_db, redis_url):
    upgrade(cli_db)
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "users",
            "create",
            "--kind",
            "staff",
            "--email",
            "New.Engineer@Desk.example.com",
            "--name",
            "钱工",
            "--role",
            "engineer",
            "--role",
            "dispatcher",
            "--password",
            "a-long-password-1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "created staff account new.engineer@desk.example.com" in result.output

    app = _app_on(cli_db, redis_url)
    with app.app_context():
        account = db.session.scalars(
            select(Account).where(Account.email == "new.engineer@desk.example.com")
        ).one()
        assert account.role_names == {"engineer", "dispatcher"}

    client = PortalClient(app)
    bad = client.post(
        "/staff/login",
        data={"identifier": "new.engineer@desk.example.com", "password": "wrong-password"},
    )
    assert bad.status_code == 401
    good = client.post(
        "/staff/login",
        data={"identifier": "new.engineer@desk.example.com", "password": "a-long-password-1"},
    )
    assert good.status_code == 302
    assert client.get("/staff/queue").status_code == 200


def test_users_create_refuses_an_unknown_organisation(cli_db):
    upgrade(cli_db)
    result = CliRunner().invoke(
        main,
        [
            "users",
            "create",
            "--kind",
            "customer",
            "--email",
            "x@example.com",
            "--name",
            "钱",
            "--organisation",
            "NOPE",
            "--password",
            "a-long-password-1",
        ],
    )
    assert result.exit_code != 0
    assert "no organisation with code NOPE" in result.output


def test_worker_refuses_without_redis_url(cli_db):
    result = CliRunner().invoke(main, ["worker"])
    assert result.exit_code != 0
    assert "REDIS_URL is not set" in result.output
    assert "portal run" in result.output


@pytest.mark.parametrize(
    ("redis_env", "expected"), [(None, "run_embedded"), ("redis://127.0.0.1:1/0", "serve_web")]
)
def test_run_picks_the_runtime_from_redis_url_outside_any_app_context(
    cli_db, monkeypatch, redis_env, expected
):
    """RQ forks its work horses from the main thread: an app context pushed there would hand
    the web's database connections to the jobs."""
    from flask import has_app_context

    from portal import runtime

    if redis_env:
        monkeypatch.setenv("REDIS_URL", redis_env)
    calls = []

    def fake(name):
        def serve(app, host, port, **kwargs):
            calls.append((name, host, port, has_app_context()))

        return serve

    monkeypatch.setattr(runtime, "run_embedded", fake("run_embedded"))
    monkeypatch.setattr(runtime, "serve_web", fake("serve_web"))
    result = CliRunner().invoke(main, ["run", "--host", "127.0.0.2", "--port", "5999"])
    assert result.exit_code == 0, result.output
    assert calls == [(expected, "127.0.0.2", 5999, False)]


def _create(*args: str):
    return CliRunner().invoke(main, ["users", "create", *args])


def test_the_first_admin_on_an_empty_database_reaches_the_administration(cli_db, redis_url):
    upgrade(cli_db)
    app = _app_on(cli_db, redis_url)
    with app.app_context():
        assert db.session.scalar(select(func.count(Account.id))) == 0
    result = _create(
        "--kind",
        "staff",
        "--role",
        "admin",
        "--email",
        "admin@desk.example.com",
        "--name",
        "Admin",
        "--password",
        "first-desk-password",
    )
    assert result.exit_code == 0, result.output
    assert "created staff account admin@desk.example.com" in result.output
    client = PortalClient(app)
    login = client.post(
        "/staff/login",
        data={"identifier": "admin@desk.example.com", "password": "first-desk-password"},
    )
    assert login.status_code == 302
    assert client.get("/staff/admin/").status_code == 200


def test_a_customer_without_an_organisation_is_told_to_create_it_first(cli_db):
    upgrade(cli_db)
    result = _create(
        "--kind",
        "customer",
        "--email",
        "li@example.com",
        "--name",
        "李明",
        "--password",
        "a-long-password-1",
    )
    assert result.exit_code == 2
    assert "create the organisation first in Administration → Organisations" in result.output
    assert "--organisation CODE" in result.output
    assert "there is none yet" in result.output


def test_users_create_refuses_a_short_password_and_a_taken_address(cli_db):
    upgrade(cli_db)
    short = _create(
        "--kind", "staff", "--email", "a@desk.example.com", "--name", "A", "--password", "short"
    )
    assert short.exit_code == 2 and "at least 12 characters" in short.output


@pytest.mark.parametrize(
    "password, reason",
    [
        ("password1234", "one of the most common passwords"),
        ("aaaaaaaaaaaaaaaa", "easy to guess"),
        ("Zhou-Lan-desk-77", "must not contain your name"),
        ("lanzhou.admin-9!", "must not contain your e-mail address"),
    ],
)
def test_users_create_applies_the_password_policy(cli_db, password, reason):
    upgrade(cli_db)
    args = ["--kind", "staff", "--email", "lanzhou.admin@desk.example.com", "--name", "Zhou Lan"]
    refused = _create(*args, "--password", password)
    assert refused.exit_code == 2 and reason in refused.output
    assert _create(*args, "--password", "Copper-Kite-Field-2026").exit_code == 0
    ok = _create(
        "--kind",
        "staff",
        "--email",
        "a@desk.example.com",
        "--name",
        "A",
        "--password",
        "a-long-password-1",
    )
    assert ok.exit_code == 0, ok.output
    again = _create(
        "--kind",
        "staff",
        "--email",
        "A@desk.example.com",
        "--name",
        "A",
        "--password",
        "a-long-password-1",
    )
    assert again.exit_code == 2 and "exists already" in again.output
    assert "Traceback" not in again.output
