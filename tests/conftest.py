"""Test fixtures on a real database with a rollback per test.

Backends: SQLite + the in-process Redis stand-in by default; PostgreSQL and Redis when
DATABASE_URL / REDIS_URL are set (scripts/test runs both passes).
"""

from __future__ import annotations

import contextvars
import os
import socket
import tempfile
import threading
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from portal import create_app
from portal.db import make_engine
from portal.migrate import upgrade
from tests.factories import PASSWORD

CHEAP_HASH = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url():
    """A real Redis from REDIS_URL, else the embedded stand-in served over loopback."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    from fakeredis import TcpFakeServer

    port = _free_port()
    server = TcpFakeServer(("127.0.0.1", port), server_type="redis")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{port}/0"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = os.environ.get("DATABASE_URL")
    if url:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def backend(database_url) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


@pytest.fixture(scope="session")
def app(database_url, redis_url, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    application = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "test-secret",
            "PASSWORD_HASH": CHEAP_HASH,
            "UPLOAD_FOLDER": str(instance / "uploads"),
            "SERVER_NAME": None,
            # assertions read English; tests/test_i18n.py asks for Chinese explicitly
            "BABEL_DEFAULT_LOCALE": "en",
        }
    )
    return application


@pytest.fixture(autouse=True)
def _flush_redis(request):
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        from portal.queue import redis_conn

        redis_conn().flushdb()
    yield


@pytest.fixture
def db_session(app):
    """The app's sessions join one outer transaction that is rolled back after the test."""
    state = app.extensions["portal_db"]
    connection = state.engine.connect()
    outer = connection.begin()
    original = state.session_factory
    state.session_factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    with app.app_context():
        from portal.db import db

        yield db.session
    state.session_factory = original
    outer.rollback()
    connection.close()


def _own_context(func, *args, **kwargs):
    """Serve each request in its own app context, as in production: the test's app context
    (kept open for the factories) must not lend the request its ``g``, session or locale."""
    return contextvars.Context().run(func, *args, **kwargs)


class PortalClient:
    """A test client that sends the CSRF token with every POST, like the real pages do."""

    def __init__(self, app):
        self.app = app
        self.http = app.test_client()

    def _token(self) -> str:
        with self.http.session_transaction() as sess:
            raw = sess.get("csrf_token")
            if raw is None:
                import hashlib

                raw = hashlib.sha1(os.urandom(64)).hexdigest()
                sess["csrf_token"] = raw
        return URLSafeTimedSerializer(self.app.secret_key, salt="wtf-csrf-token").dumps(raw)

    def get(self, *args, **kwargs):
        return _own_context(self.http.get, *args, **kwargs)

    def post(self, url, data=None, csrf=True, headers=None, **kwargs):
        headers = dict(headers or {})
        if csrf:
            headers["X-CSRFToken"] = self._token()
        return _own_context(self.http.post, url, data=data, headers=headers, **kwargs)

    def login(self, account, password=PASSWORD, side=None):
        side = side or account.kind
        url = "/staff/login" if side == "staff" else "/login"
        resp = self.post(url, data={"identifier": account.email, "password": password})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return resp

    def __getattr__(self, name):
        return getattr(self.http, name)


@pytest.fixture
def client(app, db_session):
    return PortalClient(app)


@pytest.fixture
def make_client(app, db_session):
    return lambda: PortalClient(app)


@pytest.fixture
def factory(db_session, app):
    from tests.factories import Factory

    return Factory(db_session, app)


@pytest.fixture
def count_queries(app):
    """Counts SQL statements run inside the ``with`` block."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def _count():
        state = app.extensions["portal_db"]
        statements: list[str] = []

        def _before(conn, cursor, statement, parameters, context, executemany):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
                statements.append(statement)

        event.listen(state.engine, "before_cursor_execute", _before)
        try:
            yield statements
        finally:
            event.remove(state.engine, "before_cursor_execute", _before)

    return _count


def pytest_report_header(config):
    db = os.environ.get("DATABASE_URL") or "SQLite (embedded default)"
    redis = os.environ.get("REDIS_URL") or "in-process Redis stand-in (fakeredis over loopback)"
    return [f"database: {db.split('@')[-1]}", f"redis: {redis}"]


ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", tempfile.gettempdir())) / "portal-test-artifacts"


@pytest.fixture(scope="session")
def _mail_server():
    from tests.mail_server import MailServer

    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_server(app, _mail_server, monkeypatch):
    """A real SMTP server (tests/mail_server.py), empty, with the app's MAIL_SERVER and
    MAIL_PORT pointing at it for this test: the outbox's real sender delivers there."""
    _mail_server.clear()
    monkeypatch.setitem(app.config, "MAIL_SERVER", _mail_server.host)
    monkeypatch.setitem(app.config, "MAIL_PORT", _mail_server.port)
    return _mail_server
