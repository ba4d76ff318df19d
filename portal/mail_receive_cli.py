"""`portal mail receive`: one mail from standard input, as an MTA delivers it to a program
(a pipe in aliases, procmail, a Postfix transport): taken once, processed, committed, and its
status printed. Exit 75 (EX_TEMPFAIL) when the database cannot be reached, so that the MTA
keeps the mail and tries again; 0 otherwise, also when the mail was ignored or refused (it
was taken: bouncing it back would answer a machine).

The command is short-lived and may run where no worker does: the supervisors are told of a new
request here, in the same transaction (what the job after intake would do, idempotent), and
the outbox mails go to the queue after the commit when a Redis is configured and reachable,
else they wait for the SLA sweep, which sends every pending mail."""

from __future__ import annotations

import logging
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

EX_TEMPFAIL = 75
log = logging.getLogger(__name__)


def _tell_now(session) -> None:
    from portal.models import ServiceRequest
    from portal.queue import take_after_commit
    from portal.services.requests import tell_supervisors

    for (request_id,) in take_after_commit(session, "portal.jobs.request_submitted"):
        sr = session.get(ServiceRequest, request_id)
        if sr is not None:
            tell_supervisors(session, sr)
    if not current_app.config.get("REDIS_URL"):
        take_after_commit(session)  # the embedded stand-in lives in the web's process only


@click.command("receive")
@click.option("--mailbox", default="stdin", show_default=True, help="the mailbox name recorded")
@with_appcontext
def receive(mailbox: str) -> None:
    """Take one raw mail from standard input (docs/product.md §9)."""
    from redis.exceptions import RedisError
    from sqlalchemy.exc import DBAPIError, OperationalError

    from portal.db import db
    from portal.models import utcnow
    from portal.services import inbound

    raw = sys.stdin.buffer.read()
    session = db.session
    try:
        now = utcnow()
        row, _new = inbound.receive(session, raw, mailbox, now)
        status = inbound.process(session, row, now)
        _tell_now(session)
        session.commit()
    except (OperationalError, DBAPIError) as exc:
        session.rollback()
        click.echo(f"database unreachable ({type(exc).__name__}): try again later", err=True)
        sys.exit(EX_TEMPFAIL)
    except RedisError as exc:
        # raised after the commit, while enqueueing: the mail is in, its mails wait for the sweep
        log.warning(
            "mail taken, queue unreachable (%s): the sweep sends its mail", type(exc).__name__
        )
        session.close()  # committed already; the failed hook left the session unusable
    click.echo(status)
