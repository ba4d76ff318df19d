"""`portal mail receive`: a mail from standard input, as an MTA hands it over."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select

from portal.models import InboundMail, ServiceRequest
from tests.inbound.mails import mail


def test_receive_takes_a_mail_from_stdin_and_prints_its_status(app, db_session, people):
    raw = mail(
        "li.ming@customer.example",
        "From the MTA",
        "Printer offline",
        message_id="<cli.1@c.example>",
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["mail", "receive"], input=raw)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "request"
    row = db_session.scalar(
        select(InboundMail).where(InboundMail.message_id == "<cli.1@c.example>")
    )
    assert row.mailbox == "stdin" and row.status == "request"
    assert db_session.get(ServiceRequest, row.request_id).channel == "email"
    # delivered again (the MTA retried): taken once, same answer, still exit 0
    again = runner.invoke(args=["mail", "receive"], input=raw)
    assert (again.exit_code, again.output.strip()) == (0, "request")


def test_receive_exits_0_for_mail_it_ignores_and_names_the_mailbox(app, db_session):
    raw = mail("MAILER-DAEMON@mx.example", "Undelivered", "bounce", message_id="<cli.2@c.example>")
    result = app.test_cli_runner().invoke(
        args=["mail", "receive", "--mailbox", "support"], input=raw
    )
    assert (result.exit_code, result.output.strip()) == (0, "ignored")
    row = db_session.scalar(
        select(InboundMail).where(InboundMail.message_id == "<cli.2@c.example>")
    )
    assert row.mailbox == "support"


def test_receive_exits_75_when_the_database_is_unreachable(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")} | {
        "DATABASE_URL": "postgresql+psycopg://portal@127.0.0.1:9/none"
    }
    done = subprocess.run(
        [sys.executable, "-c", "from portal.cli import main; main()", "mail", "receive"],
        input=mail("li.ming@customer.example", "hello", "x"),
        capture_output=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 75, done.stderr.decode()[-2000:]
    assert b"try again later" in done.stderr


def _new_request_mail(n: int) -> bytes:
    return mail(
        "li.ming@customer.example", f"New {n}", "VPN fails", message_id=f"<cli.n{n}@c.example>"
    )


def _supervisor_told(db_session, supervisor, sr_id) -> bool:
    from portal.models import Notification

    return bool(
        db_session.scalar(
            select(Notification.id).where(
                Notification.recipient_id == supervisor.id,
                Notification.request_id == sr_id,
                Notification.kind == "request_submitted",
            )
        )
    )


def test_receive_without_a_queue_tells_the_supervisors_and_leaves_mail_to_the_sweep(
    app, db_session, people, factory, monkeypatch
):
    from portal.models import EmailOutbox

    supervisor = factory.staff("supervisor")
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    result = app.test_cli_runner().invoke(args=["mail", "receive"], input=_new_request_mail(1))
    assert (result.exit_code, result.output.strip()) == (0, "request"), result.output
    row = db_session.scalar(
        select(InboundMail).where(InboundMail.message_id == "<cli.n1@c.example>")
    )
    assert _supervisor_told(db_session, supervisor, row.request_id)
    auto = db_session.scalar(
        select(EmailOutbox).where(EmailOutbox.to_address == "li.ming@customer.example")
    )
    assert auto.status == "pending"  # the sweep sends it


def test_receive_with_redis_down_still_takes_the_mail(
    app, db_session, people, factory, monkeypatch
):
    from redis import Redis

    supervisor = factory.staff("supervisor")
    monkeypatch.setitem(
        app.extensions,
        "portal_redis",
        Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=1),
    )
    result = app.test_cli_runner().invoke(args=["mail", "receive"], input=_new_request_mail(2))
    assert (result.exit_code, result.output.strip()) == (0, "request"), result.output
    row = db_session.scalar(
        select(InboundMail).where(InboundMail.message_id == "<cli.n2@c.example>")
    )
    assert row.status == "request" and _supervisor_told(db_session, supervisor, row.request_id)
