"""`portal mail receive`: one mail from standard input, as an MTA delivers it to a program
(a pipe in aliases, procmail, a Postfix transport): taken once, processed, committed, and its
status printed. Exit 75 (EX_TEMPFAIL) when the database cannot be reached, so that the MTA
keeps the mail and tries again; 0 otherwise, also when the mail was ignored or refused (it
was taken: bouncing it back would answer a machine)."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

EX_TEMPFAIL = 75


@click.command("receive")
@click.option("--mailbox", default="stdin", show_default=True, help="the mailbox name recorded")
@with_appcontext
def receive(mailbox: str) -> None:
    """Take one raw mail from standard input (docs/product.md §9)."""
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
        session.commit()
    except (OperationalError, DBAPIError) as exc:
        session.rollback()
        click.echo(f"database unreachable ({type(exc).__name__}): try again later", err=True)
        sys.exit(EX_TEMPFAIL)
    click.echo(status)
