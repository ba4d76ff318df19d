"""The attachment storage full (a 64 kB tmpfs as UPLOAD_FOLDER): a submission with a file is
refused with a clear message in the reader's language, what was typed is kept, and nothing is
saved, neither the request nor a piece of the file."""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.models import ServiceRequest
from tests.faults.test_database_unavailable import _form


@pytest.fixture
def full_storage(app):
    """A 64 kB tmpfs as the upload folder (mounting needs root, as in CI)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    folder = Path(tempfile.mkdtemp(prefix="portal-full-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], check=True)
    before = app.config["UPLOAD_FOLDER"]
    app.config["UPLOAD_FOLDER"] = str(folder)
    try:
        yield folder
    finally:
        app.config["UPLOAD_FOLDER"] = before
        subprocess.run(["umount", str(folder)], check=True)
        folder.rmdir()


@pytest.mark.parametrize(
    ("language", "words"), [("en", "file storage is full"), ("zh-CN", "文件存储空间已满")]
)
def test_a_submission_with_a_file_is_refused_and_nothing_is_saved(
    client, factory, db_session, full_storage, language, words
):
    contact = factory.customer()
    contact.locale = "zh_CN" if language.startswith("zh") else "en"  # the reader's language
    db_session.commit()
    client.login(contact)
    data = _form(7)
    data["attachments"] = [(io.BytesIO(b"09:14 tunnel down\n" * 12_000), "vpn.log", "text/plain")]
    resp = client.post(
        "/requests/new",
        data=data,
        content_type="multipart/form-data",
        headers={"Accept-Language": language},
    )
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert words in page and "vpn.log" in page
    assert _form(7)["title"] in page  # what was typed is kept
    count = select(func.count()).select_from(ServiceRequest)
    assert db_session.scalar(count.where(ServiceRequest.contact_id == contact.id)) == 0
    assert list(full_storage.iterdir()) == []  # no piece of the file left behind

    # without the file the same form goes through (the database is not on that disk)
    resp = client.post("/requests/new", data=_form(7), content_type="multipart/form-data")
    assert resp.status_code == 302
