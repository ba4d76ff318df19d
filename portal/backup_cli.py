"""`portal backup` and `portal restore` (registered by portal.cli.register_commands); the work
is portal/backup.py's."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("backup")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="the archive to write (default: portal-backup-YYYYMMDD-HHMMSS.tar.gz here)",
)
@with_appcontext
def backup_command(output: Path | None) -> None:
    """One archive: a consistent dump of the database and the attachment files, with a
    manifest of checksums."""
    from portal import backup
    from portal.db import db

    now = datetime.now(UTC)
    output = output or Path(f"portal-backup-{now:%Y%m%d-%H%M%S}.tar.gz")
    try:
        manifest = backup.create(
            db.session,
            current_app.config["DATABASE_URL"],
            current_app.config["UPLOAD_FOLDER"],
            output,
            now,
        )
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    counts = ", ".join(f"{k} {v}" for k, v in manifest["counts"].items())
    click.echo(f"backup written: {output} ({len(manifest['files'])} files; {counts})")


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(archive: Path) -> None:
    """Restore ARCHIVE into this install's empty database and upload folder, migrate it to the
    code's schema, then verify the audit chain and every attachment's checksum (exit status 1
    when a check fails)."""
    from portal import backup
    from portal.db import db
    from portal.migrate import upgrade

    url = current_app.config["DATABASE_URL"]
    folder = current_app.config["UPLOAD_FOLDER"]
    try:
        manifest = backup.restore(archive, url, folder, say=click.echo)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    upgrade(url, timezone=current_app.config["PORTAL_TIMEZONE"])
    db.engine.dispose()  # the schema changed under the app's pool
    checked = backup.verify(db.session, folder)
    counts = ", ".join(f"{k} {v}" for k, v in manifest["counts"].items())
    click.echo(f"restored from the backup of {manifest['created_at']}: {counts}")
    if not checked.ok:
        raise click.ClickException("; ".join(checked.problems[:10]))
    click.echo(
        f"verified: audit log intact ({checked.audit_rows} rows), "
        f"{checked.attachments} attachment files match their checksums"
    )
