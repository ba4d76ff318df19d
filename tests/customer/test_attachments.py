"""The attachments service: sniffed types, stored names, the size limit."""

import io
import os
import zipfile

import pytest

from portal.models import utcnow
from portal.services import attachments
from portal.services.attachments import (
    AttachmentDisguised,
    AttachmentRefused,
    AttachmentTooLarge,
    Upload,
    clean_filename,
)
from portal.services.audit import Actor

from .helpers import PNG


def _zip(names):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in names:
            zf.writestr(name, "<x/>")
    return buf.getvalue()


CASES = [
    (PNG, "image/png"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 20, "image/jpeg"),
    (b"GIF89a" + b"\x01" * 20, "image/gif"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
    (_zip(["a.txt"]), "application/zip"),
    (
        _zip(["[Content_Types].xml", "word/document.xml"]),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        _zip(["[Content_Types].xml", "xl/workbook.xml"]),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("数据库连接超时\nERROR 1045\n".encode(), "text/plain"),
    (b"<html><script>alert(1)</script></html>", "text/plain"),
    (b"\x00\x01\x02\xfe\xff binary", "application/octet-stream"),
    ("中文".encode("gbk"), "application/octet-stream"),  # not UTF-8
]


@pytest.mark.parametrize(("content", "expected"), CASES)
def test_type_is_sniffed_from_the_content(app, db_session, factory, content, expected):
    contact = factory.customer()
    sr = factory.request(contact)
    saved = attachments.save(
        db_session,
        Actor(contact.id),
        utcnow(),
        Upload("claimed.html", io.BytesIO(content)),
        request_id=sr.id,
        folder=app.config["UPLOAD_FOLDER"],
        max_bytes=10_000,
    )
    assert saved.content_type == expected
    path = attachments.stored_path(saved, app.config["UPLOAD_FOLDER"])
    assert path.read_bytes() == content
    assert saved.size == len(content)
    assert saved.stored_name != "claimed.html" and len(saved.stored_name) == 48


def test_text_split_across_chunks_is_still_text(app, db_session, factory):
    contact = factory.customer()
    sr = factory.request(contact)
    # a three-byte character straddles the 64 KiB chunk boundary
    content = b"a" * (attachments.CHUNK - 1) + "错".encode() + b"tail"
    saved = attachments.save(
        db_session,
        Actor(contact.id),
        utcnow(),
        Upload("big.log", io.BytesIO(content)),
        request_id=sr.id,
        folder=app.config["UPLOAD_FOLDER"],
        max_bytes=len(content),
    )
    assert saved.content_type == "text/plain"


def test_over_the_limit_nothing_is_kept(app, db_session, factory, tmp_path):
    contact = factory.customer()
    sr = factory.request(contact)
    with pytest.raises(AttachmentTooLarge) as err:
        attachments.save(
            db_session,
            Actor(contact.id),
            utcnow(),
            Upload("big.bin", io.BytesIO(b"x" * 101)),
            request_id=sr.id,
            folder=tmp_path,
            max_bytes=100,
        )
    assert err.value.limit == 100 and err.value.filename == "big.bin"
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("C:\\Users\\li\\report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("a\x00b\r\nc.txt", "abc.txt"),
        ("", "file"),
        ("屏幕截图 2024.png", "屏幕截图 2024.png"),
    ],
)
def test_filenames_lose_paths_and_control_characters(given, shown):
    assert clean_filename(given) == shown


OFFICE_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HTML_PAGE = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 48


@pytest.mark.parametrize(
    ("name", "content", "claimed"),
    [
        ("report.pdf", HTML_PAGE, "pdf"),
        ("photo.JPG", HTML_PAGE, "jpg"),
        ("anim.gif", PNG, "gif"),
        ("contract.docx", _zip(["a.txt"]), "docx"),
        ("budget.xlsx", _zip(["[Content_Types].xml", "word/document.xml"]), "xlsx"),
        ("slides.pptx", b"%PDF-1.7\n", "pptx"),
        ("data.csv", PNG, "csv"),
    ],
)
# a program named as data (photo.png, archive.zip, readme.txt holding a PE or an ELF) is
# refused as a program: tests/customer/test_upload_programs.py
def test_disguised_files_are_refused_and_nothing_is_kept(
    app, db_session, factory, tmp_path, name, content, claimed
):
    contact = factory.customer()
    sr = factory.request(contact)
    with pytest.raises(AttachmentDisguised) as err:
        attachments.save(
            db_session,
            Actor(contact.id),
            utcnow(),
            Upload(name, io.BytesIO(content)),
            request_id=sr.id,
            folder=tmp_path,
            max_bytes=10_000,
        )
    assert isinstance(err.value, AttachmentRefused)
    assert (err.value.filename, err.value.claimed) == (name, claimed)
    assert os.listdir(tmp_path) == []
    with app.test_request_context():
        assert f"{name} was refused: its content is not a {claimed.upper()} file" in str(
            err.value.message
        )


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("page.html", HTML_PAGE, "text/plain"),  # no claim checked: stored, never rendered
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "text/plain"),
        ("no-extension", PNG, "image/png"),
        ("photo.JPEG", b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 20, "image/jpeg"),
        ("导出.csv", "名称,数量\n服务器,2\n".encode("gbk"), "application/octet-stream"),
        ("empty.txt", b"", "application/octet-stream"),
        ("office.zip", _zip(["[Content_Types].xml", "xl/workbook.xml"]), OFFICE_XLSX),
    ],
)
def test_files_keeping_their_claim_or_making_none_are_stored(
    app, db_session, factory, name, content, expected
):
    contact = factory.customer()
    sr = factory.request(contact)
    saved = attachments.save(
        db_session,
        Actor(contact.id),
        utcnow(),
        Upload(name, io.BytesIO(content)),
        request_id=sr.id,
        folder=app.config["UPLOAD_FOLDER"],
        max_bytes=10_000,
    )
    assert (saved.original_name, saved.content_type) == (name, expected)


def test_both_refusals_share_one_base_class():
    assert issubclass(AttachmentTooLarge, AttachmentRefused)
    assert issubclass(AttachmentDisguised, AttachmentRefused)
