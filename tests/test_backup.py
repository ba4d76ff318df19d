"""`portal backup` and `portal restore` (portal/backup.py), as an operator runs them: the demo
desk backed up, restored into a fresh install, its audit chain and attachment checksums
verified, and the same request pages served; a damaged archive or a used install refused."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tarfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select, text

from portal import create_app, demo
from portal.db import db, make_engine
from portal.migrate import upgrade
from portal.models import Account, Attachment, AuditEvent, ServiceRequest
from tests.conftest import CHEAP_HASH, PortalClient
from tests.customer.helpers import attach

pytestmark = pytest.mark.slow
PORTAL = str(Path(sys.executable).with_name("portal"))


def _portal(args: list[str], url: str, uploads: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("FLASK_APP", "REDIS_URL")}
    env.update(DATABASE_URL=url, UPLOAD_FOLDER=str(uploads), SECRET_KEY="backup-test")
    return subprocess.run(
        [PORTAL, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def _app(url: str, uploads: Path, redis_url: str | None = None):
    return create_app(
        {
            "DATABASE_URL": url,
            "UPLOAD_FOLDER": str(uploads),
            "SECRET_KEY": "backup-test",
            "PASSWORD_HASH": CHEAP_HASH,
            "BABEL_DEFAULT_LOCALE": "en",
            "REDIS_URL": redis_url,
        }
    )


def _seed(url: str, uploads: Path) -> None:
    upgrade(url)
    app = _app(url, uploads)
    with app.app_context():
        demo.seed(db.session, datetime.now(UTC), app.config["PORTAL_TIMEZONE"])
        db.session.commit()
        # the demo's requests carry no files: two, through the upload service, as a customer's
        sr = db.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id)).first()
        for name, content in (("vpn.log", b"09:14 tunnel down\n" * 40), ("steps.txt", b"1. 2. 3.")):
            attach(app, db.session, sr, db.session.get(Account, sr.contact_id), content, name)
        db.session.commit()
    app.extensions["portal_db"].engine.dispose()


def _facts(url: str, uploads: Path) -> dict:
    app = _app(url, uploads)
    with app.app_context():
        s = db.session
        facts = {
            "numbers": s.scalars(select(ServiceRequest.number).order_by(ServiceRequest.id)).all(),
            "audit_rows": s.scalar(select(func.count()).select_from(AuditEvent)),
            "files": s.execute(
                select(Attachment.stored_name, Attachment.sha256).order_by(Attachment.id)
            ).all(),
        }
    app.extensions["portal_db"].engine.dispose()
    return facts


_VOLATILE = re.compile(
    r'(name="csrf_token" value=|name="csrf-token" content=|Nonce": |nonce=)"[^"]*"'
)


def _page(url: str, uploads: Path, redis_url: str, path: str, at: datetime) -> str:
    """A staff page as the demo's supervisor sees it, at a fixed instant (countdowns and
    relative times alike on both installs); the CSRF tokens and the CSP nonce, different per
    session and response, blanked."""
    app = _app(url, uploads, redis_url)
    staff = next(r for r in demo.logins() if r["side"] == "staff")
    with freeze_time(at):
        client = PortalClient(app)
        resp = client.post(
            "/staff/login", data={"identifier": staff["email"], "password": demo.DEMO_PASSWORD}
        )
        assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
        page = client.get(path, headers={"Accept-Language": "en"})
    app.extensions["portal_db"].engine.dispose()
    assert page.status_code == 200
    return _VOLATILE.sub(r'\1""', page.get_data(as_text=True))


def _round_trip(source_url: str, target_url: str, tmp_path: Path, redis_url: str) -> None:
    src_uploads, dst_uploads = tmp_path / "src-uploads", tmp_path / "dst-uploads"
    _seed(source_url, src_uploads)
    before = _facts(source_url, src_uploads)
    assert before["files"], "the demo has attachments to carry over"

    archive = tmp_path / "backups" / "desk.tar.gz"
    done = _portal(["backup", "-o", str(archive)], source_url, src_uploads, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "backup written" in done.stdout and archive.is_file()

    done = _portal(["restore", str(archive)], target_url, dst_uploads, tmp_path)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "verified: audit log intact" in done.stdout
    assert f"{len(before['files'])} attachment files match" in done.stdout

    done = _portal(["audit", "verify"], target_url, dst_uploads, tmp_path)
    assert done.returncode == 0 and "chain verified" in done.stdout, done.stderr
    assert _facts(target_url, dst_uploads) == before

    number = before["numbers"][0]
    at = datetime.now(UTC)
    for path in (f"/staff/requests/{number}", "/staff/queue?view=all"):
        assert _page(source_url, src_uploads, redis_url, path, at) == _page(
            target_url, dst_uploads, redis_url, path, at
        ), path


def test_sqlite_backup_restores_into_a_fresh_install(tmp_path, redis_url):
    source, target = tmp_path / "source.db", tmp_path / "target" / "p.db"
    _round_trip(f"sqlite:///{source}", f"sqlite:///{target}", tmp_path, redis_url)


@pytest.fixture
def pg_databases(database_url):
    """Two new, empty PostgreSQL databases beside the test database; dropped afterwards."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    admin = make_engine(database_url, isolation_level="AUTOCOMMIT")
    names = [f"portal_backup_{uuid.uuid4().hex[:8]}_{side}" for side in ("src", "dst")]
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = database_url.rsplit("/", 1)[0]
    yield [f"{base}/{name}" for name in names]
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.postgres
def test_postgresql_backup_restores_into_a_fresh_database(pg_databases, tmp_path, redis_url):
    source, target = pg_databases
    _round_trip(source, target, tmp_path, redis_url)


def _tiny_install(tmp_path: Path) -> tuple[str, Path, Path]:
    url = f"sqlite:///{tmp_path / 'tiny.db'}"
    uploads = tmp_path / "tiny-uploads"
    upgrade(url)
    uploads.mkdir()
    (uploads / "f1").write_bytes(b"a file")
    archive = tmp_path / "tiny.tar.gz"
    done = _portal(["backup", "-o", str(archive)], url, uploads, tmp_path)
    assert done.returncode == 0, done.stderr
    return url, uploads, archive


def test_a_damaged_archive_is_refused_before_anything_is_written(tmp_path):
    _url, _uploads, archive = _tiny_install(tmp_path)
    # the same archive with the file's content changed, the manifest left as it was
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive, "r:gz") as src, tarfile.open(damaged, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == "uploads/f1":
                data = b"b file"
            dst.addfile(member, io.BytesIO(data))
    target = tmp_path / "new" / "p.db"
    done = _portal(
        ["restore", str(damaged)], f"sqlite:///{target}", tmp_path / "new-uploads", tmp_path
    )
    assert done.returncode == 1
    assert "checksum mismatch: uploads/f1" in done.stderr
    assert not target.exists() and not (tmp_path / "new-uploads").exists()


def test_a_used_install_is_not_restored_over(tmp_path):
    url, uploads, archive = _tiny_install(tmp_path)
    done = _portal(["restore", str(archive)], url, tmp_path / "other", tmp_path)
    assert done.returncode == 1 and "not empty" in done.stderr
    empty_db = f"sqlite:///{tmp_path / 'fresh.db'}"
    done = _portal(["restore", str(archive)], empty_db, uploads, tmp_path)
    assert done.returncode == 1 and "upload folder" in done.stderr
    assert not (tmp_path / "fresh.db").exists()


def test_something_that_is_not_a_backup_is_refused(tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive")
    done = _portal(
        ["restore", str(junk)], f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "u", tmp_path
    )
    assert done.returncode == 1 and "not a portal backup" in done.stderr
