"""Taking mail from a real IMAP server (dovecot, tests/imap_server.py) with fetch_once."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import sessionmaker

from portal.models import InboundMail, Mailbox, utcnow
from portal.services.inbound import imap
from tests.imap.helpers import mailbox_for
from tests.imap_server import sample_mail


def _rows(session, name):
    return list(session.scalars(select(InboundMail).where(InboundMail.mailbox == name)))


def test_a_fetch_takes_the_mail_and_moves_it_to_the_taken_folder(app, db_session, imap_server):
    imap_server.append("desk", [sample_mail(1), sample_mail(2)])
    box = mailbox_for(imap_server, app)
    db_session.add(box)
    db_session.commit()

    result = imap.fetch_once(db_session, box, utcnow(), limit=200)

    assert (result.taken, result.duplicates, result.error) == (2, 0, None)
    rows = _rows(db_session, "desk-box")
    assert sorted(r.message_id for r in rows) == ["<mail-1@example.com>", "<mail-2@example.com>"]
    assert all(r.raw and b"printer" in r.raw for r in rows)
    assert imap_server.count("desk", "INBOX") == 0
    assert imap_server.message_ids("desk", "Portal/Taken") == [
        "<mail-1@example.com>",
        "<mail-2@example.com>",
    ]
    assert box.last_error is None and box.last_taken_count == 2 and box.last_fetch_at

    # fetched again: nothing is left, nothing is taken twice
    again = imap.fetch_once(db_session, box, utcnow(), limit=200)
    assert (again.taken, again.duplicates, again.error) == (0, 0, None)
    assert len(_rows(db_session, "desk-box")) == 2


def test_with_after_taking_delete_the_mail_is_gone(app, db_session, imap_server):
    imap_server.append("desk", [sample_mail(3)])
    box = mailbox_for(imap_server, app, after_taking="delete")
    db_session.add(box)
    db_session.commit()

    result = imap.fetch_once(db_session, box, utcnow(), limit=200)

    assert (result.taken, result.error) == (1, None)
    assert len(_rows(db_session, "desk-box")) == 1
    assert imap_server.count("desk", "INBOX") == 0
    assert imap_server.count("desk", "Portal/Taken") == 0


def test_the_limit_leaves_the_rest_for_the_next_fetch(app, db_session, imap_server):
    imap_server.append("desk", [sample_mail(n) for n in range(5)])
    box = mailbox_for(imap_server, app)
    db_session.add(box)
    db_session.commit()

    assert imap.fetch_once(db_session, box, utcnow(), limit=3).taken == 3
    assert imap_server.count("desk", "INBOX") == 2
    assert imap.fetch_once(db_session, box, utcnow(), limit=3).taken == 2
    assert imap_server.count("desk", "Portal/Taken") == 5


def test_a_mail_taken_already_is_a_duplicate_and_is_moved_too(app, db_session, imap_server):
    imap_server.append("desk", [sample_mail(7)])
    box = mailbox_for(imap_server, app)
    db_session.add(box)
    db_session.commit()
    assert imap.fetch_once(db_session, box, utcnow(), limit=10).taken == 1
    # the same mail is there again (our move failed after the commit; or it was re-sent)
    imap_server.append("desk", [sample_mail(7)])

    # right away it may be another fetcher's, moving it now: counted, left to its taker
    soon = imap.fetch_once(db_session, box, utcnow(), limit=10)
    assert (soon.taken, soon.duplicates, soon.error) == (0, 1, None)
    assert imap_server.count("desk", "INBOX") == 1
    # later than a fetcher may hold the mailbox (INBOUND_LOCK_SECONDS): a leftover, moved
    later = utcnow() + timedelta(seconds=app.config["INBOUND_LOCK_SECONDS"] + 1)
    result = imap.fetch_once(db_session, box, later, limit=10)

    assert (result.taken, result.duplicates, result.error) == (0, 1, None)
    assert len(_rows(db_session, "desk-box")) == 1
    assert imap_server.count("desk", "INBOX") == 0
    assert imap_server.count("desk", "Portal/Taken") == 2


def test_a_bad_password_is_recorded_and_raises_nothing(app, db_session, imap_server, caplog):
    imap_server.append("desk", [sample_mail(8)])
    box = mailbox_for(imap_server, app, password="wrong-secret-xyz")
    db_session.add(box)
    db_session.commit()

    with caplog.at_level(logging.DEBUG):
        result = imap.fetch_once(db_session, box, utcnow(), limit=10)

    assert result.taken == 0 and result.error.startswith("login:")
    assert box.last_error == result.error
    assert "wrong-secret-xyz" not in box.last_error
    assert "wrong-secret-xyz" not in caplog.text
    assert imap_server.count("desk", "INBOX") == 1  # still there for when the password is right
    assert _rows(db_session, "desk-box") == []


def test_a_server_that_does_not_answer_is_recorded(app, db_session, imap_server):
    from tests.imap_server import free_port

    box = mailbox_for(imap_server, app, port=free_port())
    db_session.add(box)
    db_session.commit()

    result = imap.fetch_once(db_session, box, utcnow(), limit=10, timeout=3)

    assert result.error.startswith("connect:") and box.last_error == result.error


def test_when_the_commit_fails_the_mail_stays_in_the_mailbox(
    app, db_session, imap_server, monkeypatch
):
    from sqlalchemy.exc import OperationalError

    imap_server.append("desk", [sample_mail(9)])
    box = mailbox_for(imap_server, app)
    db_session.add(box)
    db_session.commit()

    def failing_commit(session, name, bodies, now, leftover_before):
        raise OperationalError("COMMIT", {}, Exception("the database went away"))

    monkeypatch.setattr(imap, "_take_batch", failing_commit)
    result = imap.fetch_once(db_session, box, utcnow(), limit=10)

    assert result.taken == 0 and result.error.startswith("database:")
    assert imap_server.count("desk", "INBOX") == 1
    assert imap_server.count("desk", "Portal/Taken") == 0


def test_two_fetchers_at_once_take_each_of_200_mails_exactly_once(app, imap_server):
    """Two threads, each with its own session and its own IMAP connection, on one mailbox;
    committed for real (no test transaction around them), cleaned up after."""
    total = 200
    imap_server.append("desk", [sample_mail(1000 + n) for n in range(total)])
    engine = app.extensions["portal_db"].engine
    make_session = sessionmaker(engine, expire_on_commit=False)
    with make_session() as s:
        box = mailbox_for(imap_server, app, name="desk-concurrent")
        s.add(box)
        s.commit()
        box_id = box.id
    results: list[imap.FetchResult] = []
    failures: list[BaseException] = []
    start = threading.Barrier(2)

    def fetcher():
        try:
            with app.app_context(), make_session() as session:
                mine = session.get(Mailbox, box_id)
                session.rollback()  # SQLite: no write lock held while waiting for the other
                start.wait(timeout=10)
                # small fetch limits: the two interleave over several rounds
                while True:
                    result = imap.fetch_once(session, mine, utcnow(), limit=40)
                    results.append(result)
                    assert result.error is None, result.error
                    if result.taken + result.duplicates + result.gone == 0:
                        break
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            failures.append(exc)

    threads = [threading.Thread(target=fetcher) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "a fetcher hung"
        assert not failures, failures
        with make_session() as s:
            rows = s.scalar(
                select(func.count())
                .select_from(InboundMail)
                .where(InboundMail.mailbox == "desk-concurrent")
            )
            distinct = s.scalar(
                select(func.count(func.distinct(InboundMail.message_id))).where(
                    InboundMail.mailbox == "desk-concurrent"
                )
            )
        assert rows == total and distinct == total
        assert sum(r.taken for r in results) == total
        assert imap_server.count("desk", "INBOX") == 0
        taken_ids = imap_server.message_ids("desk", "Portal/Taken")
        assert len(taken_ids) == total and len(set(taken_ids)) == total
    finally:
        with make_session() as s:
            s.execute(delete(InboundMail).where(InboundMail.mailbox == "desk-concurrent"))
            s.execute(delete(Mailbox).where(Mailbox.id == box_id))
            s.commit()
