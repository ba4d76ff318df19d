"""`portal audit …`: checks of the audit log (registered by portal.cli.register_commands)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("audit")
def audit_group() -> None:
    """The audit log."""


@audit_group.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Walk the hash chain; name the first row that was changed or removed (exit status 1)."""
    from sqlalchemy import func, select

    from portal.db import db
    from portal.models import AuditEvent
    from portal.services import audit

    session = db.session
    problem = audit.verify(session)
    if problem is not None:
        raise click.ClickException(
            f"audit log broken at row {problem.row_id} ({problem.kind}): {problem.detail}"
        )
    count = session.scalar(select(func.count()).select_from(AuditEvent))
    click.echo(f"audit log intact: {count} rows, chain verified")
