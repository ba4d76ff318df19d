"""Engine and a session per request (or per job).

Plain SQLAlchemy 2.x: one engine per app, one Session per request kept on ``flask.g`` and closed
at teardown. Views and jobs commit at their boundary; services only flush.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, **kwargs) -> Engine:
    # a failed statement's error (and so the error log) names the SQL, never its parameters:
    # they hold contact names, phones and e-mails (docs/product.md §5)
    kwargs["hide_parameters"] = True
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling is off so that we can say BEGIN IMMEDIATE: a deferred
    # transaction that read first and writes later fails at once with SQLITE_BUSY under WAL
    # when another writer committed meanwhile; IMMEDIATE waits for the lock instead.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class AppDatabase:
    """What one app owns: its engine and session factory."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.session_factory: Callable[[], Session] = sessionmaker(
            self.engine, expire_on_commit=False
        )


class Database:
    """Access to the current app's database; several apps may live in one process (tests)."""

    def init_app(self, app: Flask) -> None:
        app.extensions["portal_db"] = AppDatabase(app.config["DATABASE_URL"])
        app.teardown_appcontext(self._teardown)

    @property
    def state(self) -> AppDatabase:
        return current_app.extensions["portal_db"]

    @property
    def engine(self) -> Engine:
        return self.state.engine

    @property
    def session(self) -> Session:
        """The session of the current app context (a request or a job)."""
        if "db_session" not in g:
            g.db_session = self.state.session_factory()
        return g.db_session

    @staticmethod
    def _teardown(_exc) -> None:
        sess = g.pop("db_session", None)
        if sess is not None:
            sess.close()


db = Database()
