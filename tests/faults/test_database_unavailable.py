"""When the database does not answer, a person gets a clear "try again" page (503 with
Retry-After) in their language, never a 500 with a traceback, and nothing is lost or half-saved
(portal/web/errors.py)."""

from __future__ import annotations

import re
import threading
import time

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.db import db
from portal.migrate import upgrade
from portal.models import AuditEvent, ServiceRequest
from tests.conftest import CHEAP_HASH, PortalClient
from tests.faults.private_servers import PrivatePostgres, postgres_bin

DOWN = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2"


def _app(url: str, redis_url: str):
    return create_app(
        {
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "faults",
            "PASSWORD_HASH": CHEAP_HASH,
            "BABEL_DEFAULT_LOCALE": "en",
        }
    )


@pytest.mark.parametrize(
    ("language", "words"), [("en", "briefly unavailable"), ("zh-CN", "暂时无法使用")]
)
def test_a_login_while_the_database_is_away_gets_try_again_in_the_readers_language(
    redis_url, language, words
):
    client = PortalClient(_app(DOWN, redis_url))
    resp = client.post(
        "/staff/login",
        data={"identifier": "someone@example.com", "password": "whatever-it-is"},
        headers={"Accept-Language": language},
    )
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "5"
    body = resp.get_data(as_text=True)
    assert words in body
    assert resp.headers["X-Request-Id"] in body  # the reference to quote
    assert "Traceback" not in body and "psycopg" not in body and "127.0.0.1" not in body


def _form(n: int) -> dict:
    return {
        "type": "fault",
        "urgency": "P3",
        "title": f"打印机无法连接 {n}",
        "description": f"三楼的打印机第 {n} 次提示脱机,重启后仍然无法打印。",
        "expected_completion": "",
        "contact_name": "李小红",
        "contact_phone": "13900001234",
        "contact_email": "li@example.com",
    }


@pytest.mark.slow
@pytest.mark.skipif(postgres_bin() is None, reason="no PostgreSQL server binaries")
def test_submissions_while_postgresql_restarts_lose_nothing(redis_url, backend):
    """A stream of submissions; PostgreSQL (a server of this test's own) is stopped midway and
    started again. Each submission answers success or 503; afterwards every request that said
    success is there, whole (numbered, audited), and the numbers have no gap."""
    if backend != "postgresql":
        pytest.skip("the PostgreSQL pass runs it (a PostgreSQL server of its own)")
    pg = PrivatePostgres().init()
    try:
        upgrade(pg.url)
        app = _app(pg.url, redis_url)
        with app.app_context():
            from tests.factories import Factory

            customer = Factory(db.session, app).customer(name="李小红")
            db.session.commit()
        client = PortalClient(app)
        client.login(customer)

        outcomes: list[int] = []
        restarted = threading.Event()
        saw_503 = threading.Event()

        def restart() -> None:
            pg.stop()
            saw_503.wait(timeout=60)  # down until a submission has met it, then up again
            pg.start()
            restarted.set()

        deadline = time.monotonic() + 180  # a bound on a busy machine, not a budget
        n = 0
        restarter = None
        while time.monotonic() < deadline:
            n += 1
            resp = client.post("/requests/new", data=_form(n), content_type="multipart/form-data")
            assert resp.status_code in (302, 503), resp.get_data(as_text=True)[:500]
            if resp.status_code == 503:
                assert resp.headers["Retry-After"] == "5"
                assert "briefly unavailable" in resp.get_data(as_text=True)
                saw_503.set()
            outcomes.append(resp.status_code)
            if restarter is None and outcomes.count(302) >= 5:
                restarter = threading.Thread(target=restart)
                restarter.start()
            if restarted.is_set() and outcomes[-5:] == [302] * 5:
                break
            time.sleep(0.02)
        assert restarter is not None
        restarter.join(timeout=90)
        assert restarted.is_set() and outcomes[-5:] == [302] * 5, outcomes
        assert 503 in outcomes

        with app.app_context():
            s = db.session
            numbers = s.scalars(select(ServiceRequest.number).order_by(ServiceRequest.id)).all()
            audited = s.scalar(
                select(func.count()).where(AuditEvent.action == "request.submitted")
            )
        ok, unavailable = outcomes.count(302), outcomes.count(503)
        # a 503 met at the very commit may have saved its request (the person is told to check)
        assert ok <= len(numbers) <= ok + unavailable
        assert audited == len(numbers)  # none half-saved: each request has its audit event
        serials = [int(re.search(r"-(\d{3,})$", x).group(1)) for x in numbers]
        assert serials == list(range(1, len(numbers) + 1)), numbers  # gapless
        app.extensions["portal_db"].engine.dispose()
    finally:
        pg.close()
