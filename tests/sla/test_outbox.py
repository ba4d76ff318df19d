"""The e-mail outbox against a real SMTP server (aiosmtpd) started by the test: a mail arrives
once; with the server stopped, attempts are retried with exponential backoff, then succeed when
it is back; after the last attempt the mail is marked failed. Without MAIL_SERVER the mail goes
to the log with the recipient masked."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select

from portal import jobs_sla
from portal.models import EmailOutbox, utcnow
from portal.services import outbox
from tests.sla._timers_live import SmtpSink, wait_until


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def mail_config(app):
    saved = {
        k: app.config.get(k)
        for k in ("MAIL_SERVER", "MAIL_PORT", "MAIL_RETRY_BASE_SECONDS", "MAIL_MAX_ATTEMPTS")
    }
    yield app.config
    app.config.update(saved)


def _mail(session, to="li.lei@customer.example.com", key="t-1") -> EmailOutbox:
    row = outbox.add(
        session,
        to_address=to,
        subject="[SR-20300101-001] SLA warning",
        body_text="SR-20300101-001: 75% of the resolution time has gone.",
        dedupe_key=key,
    )
    session.commit()
    return row


def _attempt_times(monkeypatch) -> list:
    """The instants at which send_mail makes its attempts (it takes its clock from _now)."""
    seen = []
    real = jobs_sla._now

    def spy():
        seen.append(real())
        return seen[-1]

    monkeypatch.setattr(jobs_sla, "_now", spy)
    return seen


def _wait_until_due(row: EmailOutbox, seconds: float = 30) -> None:
    """Until the row's next attempt is due on the real clock (bounded)."""
    wait_until(lambda: utcnow() >= row.next_attempt_at, seconds, "the next attempt to be due")


def test_a_mail_is_delivered_once_and_the_job_is_enqueued_after_commit(
    db_session, smtp, mail_config, redis_url
):
    mail_config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    row = _mail(db_session)
    queued = Queue("default", connection=Redis.from_url(redis_url)).job_ids
    assert outbox.job_id(row.id, 0) in queued

    assert jobs_sla.send_mail(row.id) == "sent"
    assert jobs_sla.send_mail(row.id) == "skipped"  # a duplicate job sends nothing
    assert len(smtp.messages) == 1
    msg = smtp.messages[0]
    assert msg["To"] == "li.lei@customer.example.com"
    assert msg["Subject"] == "[SR-20300101-001] SLA warning"
    # a mail without a request: the portal's own shape, which a reply can be traced back to
    assert msg["Message-ID"] == f"<portal.{row.id}@localhost>"
    db_session.refresh(row)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert row.sent_at is not None

    # the same dedupe key does not queue a second mail
    assert (
        outbox.add(db_session, to_address="x@y.z", subject="s", body_text="b", dedupe_key="t-1")
        is None
    )


def test_a_stopped_server_means_retries_with_backoff_then_success(
    db_session, smtp, mail_config, redis_url, monkeypatch
):
    mail_config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp.port,
        MAIL_RETRY_BASE_SECONDS=0.5,
        MAIL_MAX_ATTEMPTS=6,
    )
    smtp.stop()
    row = _mail(db_session, key="t-2")
    scheduled = Queue("default", connection=Redis.from_url(redis_url)).scheduled_job_registry
    attempted = _attempt_times(monkeypatch)

    waits = []
    for attempt in (1, 2, 3):
        assert jobs_sla.send_mail(row.id) == "retry"
        db_session.refresh(row)
        assert row.status == "pending" and row.attempts == attempt
        assert "Connection refused" in row.last_error or "Errno" in row.last_error
        # measured from the attempt itself, not from before it (a busy machine is slow)
        waits.append((row.next_attempt_at - attempted[-1]).total_seconds())
        # the next attempt is scheduled in RQ for then
        assert any(j.startswith(f"mail-{row.id}-r") for j in scheduled.get_job_ids())
        # not before its time: a job that comes early sends nothing
        assert jobs_sla.send_mail(row.id) == "skipped"
        _wait_until_due(row)
    # 0.5 s, 1 s, 2 s: each wait doubles
    assert waits == pytest.approx([0.5, 1.0, 2.0], abs=0.01)

    smtp.start()  # the server is back (same port)
    assert jobs_sla.send_mail(row.id) == "sent"
    assert len(smtp.messages) == 1
    db_session.refresh(row)
    assert (row.status, row.attempts) == ("sent", 4)


def test_after_the_last_attempt_the_mail_is_failed(db_session, smtp, mail_config):
    mail_config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp.port,
        MAIL_RETRY_BASE_SECONDS=0.01,
        MAIL_MAX_ATTEMPTS=2,
    )
    smtp.stop()
    row = _mail(db_session, key="t-3")
    assert jobs_sla.send_mail(row.id) == "retry"
    db_session.refresh(row)
    _wait_until_due(row)
    assert jobs_sla.send_mail(row.id) == "failed"
    db_session.refresh(row)
    assert (row.status, row.attempts) == ("failed", 2)
    assert jobs_sla.send_mail(row.id) == "skipped"


def test_the_sweep_sends_mail_whose_job_was_lost(db_session, smtp, mail_config, redis_url):
    mail_config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    row = _mail(db_session, key="t-4")
    Redis.from_url(redis_url).flushdb()  # the send job is gone
    result = jobs_sla.sweep()
    assert result["mail"] == 1
    assert [m["Subject"] for m in smtp.messages] == ["[SR-20300101-001] SLA warning"]
    db_session.refresh(row)
    assert row.status == "sent"


def test_without_a_server_the_mail_is_logged_with_the_address_masked(
    db_session, mail_config, caplog
):
    mail_config.update(MAIL_SERVER=None)
    row = _mail(db_session, key="t-5")
    with caplog.at_level(logging.INFO, logger="portal.services.outbox"):
        assert jobs_sla.send_mail(row.id) == "sent"
    text = caplog.text
    assert "l***@customer.example.com" in text
    assert "li.lei@customer.example.com" not in text
    assert "SLA warning" in text


def test_backoff_doubles_up_to_its_cap():
    s = outbox.MailSettings(server=None, retry_base=30, retry_max=300)
    assert [outbox.backoff(s, n).total_seconds() for n in (1, 2, 3, 4, 5)] == [
        30,
        60,
        120,
        240,
        300,
    ]
    assert outbox.backoff(s, 9) == timedelta(seconds=300)


def test_two_workers_never_send_the_same_attempt(db_session, smtp, mail_config):
    mail_config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    row = _mail(db_session, key="t-6")
    first = outbox.claim(db_session, row.id, utcnow())
    assert first is not None
    assert outbox.claim(db_session, row.id, utcnow()) is None  # leased to the first
    assert db_session.scalar(select(EmailOutbox.attempts).where(EmailOutbox.id == row.id)) == 1
