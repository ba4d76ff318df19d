"""The audit log (issue 5, done-when 4): append-only, hash-chained, checked by
`portal audit verify`, which names the first row that was changed or removed."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import sessionmaker

from portal.db import make_engine
from portal.models import AuditEvent, utcnow
from portal.services import audit
from portal.services.audit import Actor


def _write(session, n: int, who=None) -> list[AuditEvent]:
    now = utcnow()
    return [
        audit.record(
            session,
            Actor(who, ip="192.0.2.7", http_request_id="req-1"),
            now,
            "test.changed",
            "thing",
            i,
            before={"value": i},
            after={"value": i + 1, "when": now},
        )
        for i in range(n)
    ]


def _verify(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def _tamper(db_session, backend: str, sql: str, **params) -> None:
    """What someone with SQL access does: on PostgreSQL they must switch the trigger off."""
    conn = db_session.connection()
    if backend == "postgresql":
        conn.execute(text(f"ALTER TABLE audit_events DISABLE TRIGGER {audit.TRIGGER}"))
    conn.execute(text(sql), params)
    if backend == "postgresql":
        conn.execute(text(f"ALTER TABLE audit_events ENABLE TRIGGER {audit.TRIGGER}"))
    db_session.expire_all()


def test_each_row_carries_the_hash_of_the_one_before(db_session):
    events = _write(db_session, 3)
    assert [e.id for e in events] == [events[0].id, events[0].id + 1, events[0].id + 2]
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    assert all(len(e.hash) == 64 for e in events)
    assert events[0].ip == "192.0.2.7" and events[0].http_request_id == "req-1"
    assert isinstance(events[0].after["when"], str)  # stored as the database gives it back
    assert audit.verify(db_session) is None


def test_verify_passes_on_an_intact_log(app, db_session, factory):
    factory.request(factory.customer())  # real services write real rows
    _write(db_session, 2)
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_a_changed_row_is_named(app, db_session, backend):
    events = _write(db_session, 5)
    target = events[2].id
    _tamper(
        db_session,
        backend,
        "UPDATE audit_events SET action = 'test.innocent' WHERE id = :id",
        id=target,
    )
    result = _verify(app)
    assert result.exit_code == 1
    assert f"row {target} (changed)" in result.output


def test_a_changed_hash_is_named_too(app, db_session, backend):
    events = _write(db_session, 4)
    target = events[1].id
    _tamper(
        db_session,
        backend,
        "UPDATE audit_events SET hash = :h WHERE id = :id",
        h="0" * 64,
        id=target,
    )
    result = _verify(app)
    assert result.exit_code == 1
    assert f"row {target} (changed)" in result.output


def test_a_removed_row_is_named(app, db_session, backend):
    events = _write(db_session, 5)
    target = events[1].id
    _tamper(db_session, backend, "DELETE FROM audit_events WHERE id = :id", id=target)
    result = _verify(app)
    assert result.exit_code == 1
    assert f"row {target} (removed)" in result.output


def test_the_application_refuses_to_change_or_delete_rows(db_session):
    (event,) = _write(db_session, 1)
    event.action = "test.rewritten"
    with pytest.raises(audit.AuditLogIsAppendOnly):
        db_session.flush()
    db_session.rollback()
    (event,) = _write(db_session, 1)
    db_session.delete(event)
    with pytest.raises(audit.AuditLogIsAppendOnly):
        db_session.flush()
    db_session.rollback()
    with pytest.raises(audit.AuditLogIsAppendOnly):
        db_session.execute(update(AuditEvent).values(action="x"))
    with pytest.raises(audit.AuditLogIsAppendOnly):
        db_session.execute(delete(AuditEvent))


def test_the_database_refuses_too_on_postgresql(db_session, backend):
    (event,) = _write(db_session, 1)
    event_id = event.id
    conn = db_session.connection()
    if backend == "postgresql":
        for sql in (
            "UPDATE audit_events SET action = 'x' WHERE id = :id",
            "DELETE FROM audit_events WHERE id = :id",
        ):
            nested = conn.begin_nested()
            with pytest.raises(Exception, match="append-only"):
                conn.execute(text(sql), {"id": event_id})
            nested.rollback()
    else:  # SQLite has no such trigger: raw SQL gets through, and verify is what catches it
        conn.execute(text("UPDATE audit_events SET action = 'x' WHERE id = :id"), {"id": event_id})
        db_session.expire_all()
        assert audit.verify(db_session).row_id == event_id


def test_concurrent_writers_keep_one_unbroken_chain(app, database_url):
    """Writers in separate transactions, committed: the ids stay gapless and each row links to
    the one before (the advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite)."""
    engine = make_engine(database_url)
    Session = sessionmaker(engine, expire_on_commit=False)
    with Session() as s:
        start = s.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))
    barrier = threading.Barrier(8)

    def writer(n: int) -> None:
        barrier.wait(timeout=30)
        for i in range(5):
            with app.app_context(), Session() as s:
                audit.record(
                    s, audit.SYSTEM, datetime.now(UTC), "test.concurrent", "thing", f"{n}-{i}"
                )
                s.commit()

    try:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(writer, range(8)))
        with Session() as s:
            ids = list(s.scalars(select(AuditEvent.id).where(AuditEvent.id > start).order_by("id")))
            assert ids == list(range(start + 1, start + 41))
            assert audit.verify(s) is None
    finally:
        with Session() as s, audit.unguarded(s):  # test data only: the newest rows
            s.execute(delete(AuditEvent).where(AuditEvent.action == "test.concurrent"))
            s.commit()
        engine.dispose()
