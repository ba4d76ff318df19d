"""The scheduled fetch (portal/jobs_inbound.py) and `portal mail fetch`, against dovecot."""

from __future__ import annotations

from sqlalchemy import func, select

from portal import jobs_inbound
from portal.models import InboundMail
from tests.imap.helpers import mailbox_for
from tests.imap_server import sample_mail


def _count(session, name):
    return session.scalar(
        select(func.count()).select_from(InboundMail).where(InboundMail.mailbox == name)
    )


def test_the_job_fetches_every_active_mailbox(app, db_session, imap_server):
    imap_server.append("desk", [sample_mail(1), sample_mail(2)])
    imap_server.append("other", [sample_mail(3)])
    db_session.add_all(
        [
            mailbox_for(imap_server, app, "desk"),
            mailbox_for(imap_server, app, "other"),
            mailbox_for(imap_server, app, "other", name="off", active=False),
        ]
    )
    db_session.commit()

    summary = jobs_inbound.fetch_all()

    assert summary["mailboxes"] == {
        "desk-box": {"taken": 2, "duplicates": 0, "error": None},
        "other-box": {"taken": 1, "duplicates": 0, "error": None},
    }
    assert _count(db_session, "desk-box") == 2 and _count(db_session, "other-box") == 1
    assert imap_server.count("desk") == 0 and imap_server.count("other") == 0


def test_a_mailbox_another_worker_holds_is_skipped(app, db_session, imap_server):
    from portal.queue import redis_conn

    imap_server.append("desk", [sample_mail(4)])
    box = mailbox_for(imap_server, app)
    db_session.add(box)
    db_session.commit()
    other = redis_conn().lock(jobs_inbound.lock_name(box.id), timeout=60)
    assert other.acquire(blocking=False)
    try:
        assert jobs_inbound.fetch_all()["mailboxes"] == {"desk-box": "locked"}
        assert imap_server.count("desk") == 1
    finally:
        other.release()
    assert jobs_inbound.fetch_all()["mailboxes"]["desk-box"]["taken"] == 1


def test_the_fetch_is_scheduled_once_per_slot(app, redis_url):  # app: Redis flushed
    from redis import Redis

    conn = Redis.from_url(redis_url)
    assert jobs_inbound.ensure_fetch(conn, 3600) is True
    assert jobs_inbound.ensure_fetch(conn, 3600) is False


def test_portal_mail_fetch_says_what_it_took_per_mailbox(app, db_session, imap_server):
    imap_server.append("desk", [sample_mail(5), sample_mail(6)])
    db_session.add(mailbox_for(imap_server, app))
    db_session.commit()
    runner = app.test_cli_runner()

    result = runner.invoke(args=["mail", "fetch"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "desk-box: taken 2, duplicates 0"
    assert _count(db_session, "desk-box") == 2
    assert imap_server.count("desk", "Portal/Taken") == 2


def test_portal_mail_fetch_fails_when_a_mailbox_fails(app, db_session, imap_server):
    imap_server.append("other", [sample_mail(7)])
    db_session.add_all(
        [
            mailbox_for(imap_server, app, "desk", password="not-the-password"),
            mailbox_for(imap_server, app, "other"),
        ]
    )
    db_session.commit()
    runner = app.test_cli_runner()

    only_other = runner.invoke(args=["mail", "fetch", "--mailbox", "other-box"])
    assert only_other.exit_code == 0 and "other-box: taken 1" in only_other.output
    assert "desk-box" not in only_other.output

    both = runner.invoke(args=["mail", "fetch"])
    assert both.exit_code == 1
    assert "desk-box: taken 0, duplicates 0, error: login:" in both.output
    assert "other-box: taken 0, duplicates 0" in both.output
    assert "not-the-password" not in both.output

    unknown = runner.invoke(args=["mail", "fetch", "--mailbox", "nope"])
    assert unknown.exit_code == 1 and "no mailbox is called 'nope'" in unknown.output
