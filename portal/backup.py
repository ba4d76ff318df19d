"""Backup and restore (README, "Backups"): one archive holding a consistent dump of the
database and the attachment files, with a manifest of checksums.

- PostgreSQL is dumped with ``pg_dump --format=custom`` (one snapshot) and restored with
  ``pg_restore``; SQLite is copied with its online backup API.
- The database is dumped first, the files copied after: every attachment row in the dump had its
  file written before the row was committed, so the archive holds the file of every row it
  names (files of newer uploads may come along; they are harmless).
- A restore goes into an empty install only (no table in the database, nothing in the upload
  folder). It checks every checksum of the archive before it writes anything, then migrates the
  schema to the code's head, and verifies: the audit chain, and every attachment's checksum
  against its row.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3

# pg_dump and pg_restore, with fixed arguments and no shell:
import subprocess  # nosec B404
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

FORMAT = 1
MANIFEST = "manifest.json"
PG_DUMP = "database.pgdump"
SQLITE_COPY = "database.sqlite3"
UPLOADS = "uploads"
COUNTED = ("accounts", "organisations", "service_requests", "attachments", "audit_events")


class BackupError(Exception):
    """What went wrong, said for the operator (never a password)."""


@dataclass
class Verified:
    audit_rows: int = 0
    attachments: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _libpq(url: str) -> str:
    """The SQLAlchemy URL as libpq reads it (no driver name)."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def _kind(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name not in ("postgresql", "sqlite"):
        raise BackupError(f"backups support PostgreSQL and SQLite, not {name}")
    return name


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _run(args: list[str], what: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True)  # nosec B603
    if done.returncode != 0:
        # pg_dump and pg_restore name the database, never print the password
        raise BackupError(f"{what} failed: {done.stderr.strip()[-800:]}")


def _dump_database(url: str, into: Path) -> str:
    kind = _kind(url)
    if kind == "postgresql":
        target = into / PG_DUMP
        _run(
            ["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
             f"--file={target}", f"--dbname={_libpq(url)}"],
            "pg_dump",
        )  # fmt: skip
        return PG_DUMP
    source = sqlite3.connect(_sqlite_path(url))
    target = sqlite3.connect(into / SQLITE_COPY)
    try:
        source.backup(target)  # the online backup API: a consistent copy while others write
    finally:
        target.close()
        source.close()
    return SQLITE_COPY


def _counts(session: Session) -> dict[str, int]:
    from sqlalchemy import table

    names = set(inspect(session.connection()).get_table_names())
    return {
        name: session.scalar(select(func.count()).select_from(table(name)))
        for name in COUNTED
        if name in names
    }


def _schema(session: Session) -> list[str]:
    from alembic.runtime.migration import MigrationContext

    return sorted(MigrationContext.configure(session.connection()).get_current_heads())


def _portal_version() -> str:
    try:
        return version("service-desk-portal")
    except PackageNotFoundError:  # pragma: no cover - a checkout that was never installed
        return "unknown"


def create(
    session: Session, url: str, upload_folder: str, output: Path, now: datetime | None = None
) -> dict:
    """Write the archive to ``output`` (a .tar.gz); returns its manifest."""
    now = now or datetime.now(UTC)
    uploads = Path(upload_folder)
    manifest: dict = {
        "format": FORMAT,
        "created_at": now.isoformat(),
        "portal_version": _portal_version(),
        "database": _kind(url),
        "schema": _schema(session),
        "counts": _counts(session),
        "files": {},
    }
    session.rollback()
    with tempfile.TemporaryDirectory(prefix="portal-backup-") as tmp:
        work = Path(tmp)
        dumped = _dump_database(url, work)
        manifest["files"][dumped] = {
            "sha256": _sha256_file(work / dumped),
            "size": (work / dumped).stat().st_size,
        }
        members: list[tuple[Path, str]] = [(work / dumped, dumped)]
        if uploads.is_dir():
            for path in sorted(p for p in uploads.rglob("*") if p.is_file()):
                name = f"{UPLOADS}/{path.relative_to(uploads).as_posix()}"
                manifest["files"][name] = {
                    "sha256": _sha256_file(path),
                    "size": path.stat().st_size,
                }
                members.append((path, name))
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_name(output.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            data = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o600
            tar.addfile(info, io.BytesIO(data))
            for path, name in members:
                tar.add(path, arcname=name, recursive=False)
        partial.replace(output)  # never a half-written archive under the final name
    return manifest


def _safe_member(name: str) -> bool:
    parts = Path(name).parts
    return bool(parts) and not Path(name).is_absolute() and ".." not in parts


def read_checked(archive: Path, into: Path) -> dict:
    """Unpack into ``into`` after checking the manifest and every file's checksum; raises
    BackupError on any mismatch, a missing or an unexpected file."""
    try:
        tar = tarfile.open(archive, "r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{archive} is not a portal backup: {exc}") from exc
    with tar:
        try:
            raw = tar.extractfile(MANIFEST)
        except KeyError:
            raw = None
        if raw is None:
            raise BackupError(f"{archive} has no {MANIFEST}: not a portal backup")
        manifest = json.loads(raw.read())
        if manifest.get("format") != FORMAT:
            raise BackupError(f"unknown backup format {manifest.get('format')!r}")
        expected = manifest["files"]
        seen: set[str] = set()
        for member in tar.getmembers():
            if member.name == MANIFEST:
                continue
            if not member.isfile() or not _safe_member(member.name) or member.name not in expected:
                raise BackupError(f"unexpected entry in the backup: {member.name!r}")
            target = into / member.name
            target.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            if _sha256_file(target) != expected[member.name]["sha256"]:
                raise BackupError(f"checksum mismatch: {member.name} (the archive is damaged)")
            seen.add(member.name)
        missing = sorted(set(expected) - seen)
        if missing:
            raise BackupError(f"files missing from the backup: {', '.join(missing[:5])}")
    return manifest


def _empty_database(url: str) -> bool:
    from portal.db import make_engine

    if _kind(url) == "sqlite":
        path = _sqlite_path(url)
        if not path.exists():
            return True
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return not inspect(conn).get_table_names()
    finally:
        engine.dispose()


def restore(
    archive: Path, url: str, upload_folder: str, say: Callable[[str], None] = lambda _m: None
) -> dict:
    """Restore ``archive`` into the empty install at ``url`` and ``upload_folder``; returns the
    manifest. Nothing is written when a check fails."""
    uploads = Path(upload_folder)
    if not _empty_database(url):
        raise BackupError("the target database is not empty: restore into a new, empty database")
    if uploads.is_dir() and any(uploads.iterdir()):
        raise BackupError(f"the upload folder {uploads} is not empty")
    with tempfile.TemporaryDirectory(prefix="portal-restore-") as tmp:
        work = Path(tmp)
        manifest = read_checked(archive, work)
        say(f"archive checked: {len(manifest['files'])} files, checksums match")
        kind = _kind(url)
        if manifest["database"] != kind:
            raise BackupError(
                f"the backup holds a {manifest['database']} database; the target is {kind}"
            )
        if kind == "postgresql":
            _run(
                ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                 f"--dbname={_libpq(url)}", str(work / PG_DUMP)],
                "pg_restore",
            )  # fmt: skip
        else:
            path = _sqlite_path(url)
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work / SQLITE_COPY, path)
        say(f"database restored ({kind}, schema {', '.join(manifest['schema']) or 'none'})")
        source = work / UPLOADS
        if source.is_dir():
            uploads.mkdir(parents=True, exist_ok=True)
            for path in source.rglob("*"):
                if path.is_file():
                    target = uploads / path.relative_to(source)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)
                    os.chmod(target, 0o600)
        say(f"attachment files restored into {uploads}")
    return manifest


def verify(session: Session, upload_folder: str) -> Verified:
    """The audit chain intact, and every attachment's file there with the checksum of its row."""
    from portal.models import Attachment, AuditEvent
    from portal.services import audit

    result = Verified()
    problem = audit.verify(session)
    if problem is not None:
        result.problems.append(f"audit log broken at row {problem.row_id} ({problem.kind})")
    result.audit_rows = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    folder = Path(upload_folder)
    for attachment_id, stored_name, sha256 in session.execute(
        select(Attachment.id, Attachment.stored_name, Attachment.sha256).order_by(Attachment.id)
    ):
        path = folder / stored_name
        if not path.is_file():
            result.problems.append(f"attachment {attachment_id}: file missing")
        elif _sha256_file(path) != sha256:
            result.problems.append(f"attachment {attachment_id}: checksum differs")
        else:
            result.attachments += 1
    session.rollback()
    return result
