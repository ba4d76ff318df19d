"""`portal mail fetch`: take the mail waiting in the IMAP mailboxes now, once (what the
scheduled job, portal/jobs_inbound.py, does every INBOUND_POLL_SECONDS)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("fetch")
@click.option("--mailbox", "name", default=None, help="Only this mailbox (by its name).")
@with_appcontext
def mail_fetch(name: str | None) -> None:
    """Fetch every active mailbox once (or --mailbox NAME) and say, per mailbox, what was taken.
    Exit status 1 when any mailbox failed."""
    from sqlalchemy import select

    from portal.db import db
    from portal.jobs_inbound import fetch_mailboxes
    from portal.models import Mailbox

    app = current_app._get_current_object()
    session = db.session
    ids = None
    if name is not None:
        box = session.scalar(select(Mailbox).where(Mailbox.name == name))
        if box is None:
            raise click.ClickException(f"no mailbox is called {name!r}")
        if not box.active:
            raise click.ClickException(f"mailbox {name!r} is deactivated")
        ids = [box.id]
    elif not session.scalar(select(Mailbox.id).where(Mailbox.active.is_(True)).limit(1)):
        click.echo("no active mailbox (Administration → Mailboxes)")
        return
    conn = None
    if app.config.get("REDIS_URL"):
        from portal.queue import redis_conn

        conn = redis_conn()
    failed = False
    for mailbox, result in fetch_mailboxes(app, conn, ids):
        if result == "locked":
            click.echo(f"{mailbox}: skipped, another worker is fetching it")
            continue
        line = f"{mailbox}: taken {result.taken}, duplicates {result.duplicates}"
        if result.error:
            failed = True
            line += f", error: {result.error}"
        click.echo(line)
    if failed:
        raise SystemExit(1)
