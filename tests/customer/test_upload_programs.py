"""Programs and scripts are refused as attachments, by name and by content, unless an admin
allows the type; files that cannot be redacted go only to the people on the request, or to a
supervisor after a reveal (docs/product.md §11, Uploads)."""

from __future__ import annotations

import html
import io
import os
import zipfile

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, ServiceRequest, utcnow
from portal.services import attachments, privacy
from portal.services.attachments import AttachmentProgram, Upload
from portal.services.audit import Actor

from .helpers import PNG, attach

PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
MACHO = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 56


def _zip(names: list[str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name in names:
            zf.writestr(name, b"echo hello")
    return out.getvalue()


def _form(**overrides):
    data = {
        "type": "fault",
        "urgency": "P2",
        "title": "工具无法运行",
        "description": "附上我们用的工具,运行时报错。",
        "expected_completion": "",
        "contact_name": "李小红",
        "contact_phone": "13900001234",
        "contact_email": "li@example.com",
    }
    data.update(overrides)
    return data


def _save(db_session, contact, sr, name, content, folder):
    return attachments.save(
        db_session,
        Actor(contact.id),
        utcnow(),
        Upload(name, io.BytesIO(content)),
        request_id=sr.id,
        folder=folder,
        max_bytes=100_000,
    )


# --- refused by name and by content --------------------------------------------------------------


def test_an_exe_is_refused_on_the_form_with_what_was_typed_kept(client, factory, db_session, app):
    user = factory.customer()
    client.login(user)
    folder = app.config["UPLOAD_FOLDER"]
    before = set(os.listdir(folder)) if os.path.isdir(folder) else set()
    data = _form()
    data["attachments"] = [(io.BytesIO(PE), "setup.exe", "application/octet-stream")]
    resp = client.post("/requests/new", data=data, content_type="multipart/form-data")
    assert resp.status_code == 422
    page = html.unescape(resp.get_data(as_text=True))
    assert "setup.exe was refused: programs and scripts are not accepted as attachments." in page
    assert 'value="工具无法运行"' in page
    assert (
        db_session.scalars(select(ServiceRequest).where(ServiceRequest.contact_id == user.id)).all()
        == []
    )
    assert (set(os.listdir(folder)) if os.path.isdir(folder) else set()) == before


def test_the_refusal_is_in_chinese_for_a_chinese_reader(client, factory):
    client.login(factory.customer(locale="zh_CN"))
    data = _form()
    data["attachments"] = [(io.BytesIO(b"@echo off\r\n"), "fix.bat", "text/plain")]
    resp = client.post("/requests/new", data=data, content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "fix.bat 已被拒绝：不接受程序和脚本作为附件。" in html.unescape(
        resp.get_data(as_text=True)
    )


@pytest.mark.parametrize(
    "name, content, kind",
    [
        ("report.pdf", PE, "exe"),  # a renamed Windows program
        ("photo.png", PE, "exe"),
        ("notes.txt", PE, "exe"),
        ("server.log", ELF, "elf"),
        ("data", MACHO, "macho"),
        ("readme.txt", b"#!/bin/sh\nrm -rf /\n", "sh"),
        ("run.bat", b"@echo off\r\n", "bat"),
        ("run.CMD", b"@echo off\r\n", "bat"),
        ("fix.ps1", b"Get-Process\n", "ps1"),
        ("macro.vbs", b"MsgBox 1\n", "vbs"),
        ("app.hta", b"<html></html>", "hta"),
        ("tool.js", b"alert(1)", "js"),
        ("setup.msi", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 56, "msi"),
        ("lib.jar", _zip(["META-INF/MANIFEST.MF", "a/B.class"]), "jar"),
        ("lib.zip", _zip(["META-INF/MANIFEST.MF", "a/B.class"]), "jar"),  # a jar by content
        ("tools.zip", _zip(["readme.txt", "bin/install.bat"]), "bat"),
        ("report.docx", _zip(["[Content_Types].xml", "word/document.xml", "x/run.exe"]), "exe"),
    ],
)
def test_programs_and_scripts_are_refused_and_nothing_is_kept(
    app, db_session, factory, tmp_path, name, content, kind
):
    contact = factory.customer()
    sr = factory.request(contact)
    with pytest.raises(AttachmentProgram) as refused:
        _save(db_session, contact, sr, name, content, tmp_path)
    assert refused.value.program_type == kind
    assert os.listdir(tmp_path) == []
    with app.test_request_context():
        assert f"{name} was refused:" in str(refused.value.message)


def test_an_archive_names_the_program_it_holds(app, db_session, factory, tmp_path):
    contact = factory.customer()
    sr = factory.request(contact)
    with pytest.raises(AttachmentProgram) as refused:
        _save(db_session, contact, sr, "tools.zip", _zip(["bin/install.bat"]), tmp_path)
    with app.test_request_context():
        assert "the archive contains a program or script (install.bat)" in str(
            refused.value.message
        )


@pytest.mark.parametrize(
    "name, content",
    [
        ("printer.log", b"MZ-200 printer: paper jam at tray 2\n"),  # text that starts with MZ
        ("logs.zip", _zip(["app.log", "config/settings.ini"])),
        ("screenshot.png", PNG),
    ],
)
def test_data_is_still_accepted(db_session, factory, tmp_path, name, content):
    contact = factory.customer()
    sr = factory.request(contact)
    assert _save(db_session, contact, sr, name, content, tmp_path).id


def test_an_admin_allows_a_type_on_the_settings_page(make_client, factory, db_session, tmp_path):
    admin, supervisor = factory.staff("admin"), factory.staff("supervisor")
    contact = factory.customer()
    sr = factory.request(contact)
    with pytest.raises(AttachmentProgram):
        _save(db_session, contact, sr, "fix.ps1", b"Get-Process\n", tmp_path)

    desk = make_client()
    desk.login(admin)
    page = desk.get("/staff/admin/settings").get_data(as_text=True)
    assert "Programs and scripts as attachments" in page
    resp = desk.post("/staff/admin/settings/uploads", data={"uploads-program_types": ["ps1"]})
    assert resp.status_code == 302
    assert _save(db_session, contact, sr, "fix.ps1", b"Get-Process\n", tmp_path).id
    # only that type: an .exe is still refused
    with pytest.raises(AttachmentProgram):
        _save(db_session, contact, sr, "setup.exe", PE, tmp_path)
    [event] = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "desk_setting.updated",
            AuditEvent.object_id == "allowed_program_types",
        )
    ).all()
    assert event.before == {"program_types": []} and event.after == {"program_types": ["ps1"]}

    # a supervisor reads the setting and cannot change it
    reader = make_client()
    reader.login(supervisor)
    assert "PowerShell scripts" in reader.get("/staff/admin/settings").get_data(as_text=True)
    assert reader.post("/staff/admin/settings/uploads", data={}).status_code == 403
    # a made-up type is refused at the field
    bad = desk.post("/staff/admin/settings/uploads", data={"uploads-program_types": ["bogus"]})
    assert bad.status_code == 422


# --- files that cannot be redacted ---------------------------------------------------------------


@pytest.fixture
def screenshot_request(app, factory, db_session):
    contact = factory.customer(name="李小红")
    handler = factory.staff("engineer")
    sr = factory.request(contact)
    sr.handler_id = handler.id
    shot = attach(app, db_session, sr, contact, PNG, name="screenshot.png")
    log = attach(app, db_session, sr, contact, "联系电话 13900001234\n".encode(), name="error.log")
    db_session.flush()
    return sr, contact, handler, shot, log


def test_an_outsiders_download_of_a_screenshot_is_refused_until_a_reveal(
    make_client, factory, db_session, screenshot_request
):
    sr, _contact, handler, shot, log = screenshot_request
    supervisor = factory.staff("supervisor")
    outsider = make_client()
    outsider.login(supervisor)
    url = f"/staff/requests/{sr.number}/files/{shot.id}"

    refused = outsider.get(url)
    assert refused.status_code == 403
    page = html.unescape(refused.get_data(as_text=True))
    assert "This file is for the people on the request" in page
    assert "screenshot.png" in page and "Content-Disposition" not in refused.headers
    # the request page names the file and its size, without a link to it
    detail = outsider.get(f"/staff/requests/{sr.number}").get_data(as_text=True)
    assert "screenshot.png" in detail and f'href="{url}"' not in detail
    # a text file still goes out, redacted
    text = outsider.get(f"/staff/requests/{sr.number}/files/{log.id}")
    assert text.status_code == 200 and text.headers["X-Redacted"] == "1"

    # after an audited reveal of the contact, the supervisor may download it
    privacy.reveal(
        db_session, Actor(supervisor.id), sr, supervisor, "客户来电要求核对截图内容", utcnow()
    )
    db_session.flush()
    allowed = outsider.get(url)
    assert allowed.status_code == 200 and allowed.get_data() == PNG
    assert db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "contact.revealed")
    ).all()


def test_the_people_on_the_request_download_it(make_client, factory, screenshot_request):
    sr, contact, handler, shot, _log = screenshot_request
    for person in (handler, contact):
        browser = make_client()
        browser.login(person)
        prefix = "/staff" if person.kind == "staff" else ""
        resp = browser.get(f"{prefix}/requests/{sr.number}/files/{shot.id}")
        assert resp.status_code == 200 and resp.get_data() == PNG


def test_a_colleague_of_the_contact_sees_the_name_but_not_the_file(
    make_client, factory, db_session, app
):
    org = factory.organisation(colleagues_may_view=True)
    contact = factory.customer(org, name="李小红")
    colleague = factory.customer(org, name="赵大明")
    sr = factory.request(contact)
    shot = attach(app, db_session, sr, contact, PNG, name="screenshot.png")
    db_session.flush()
    browser = make_client()
    browser.login(colleague)
    url = f"/requests/{sr.number}/files/{shot.id}"
    detail = browser.get(f"/requests/{sr.number}")
    assert detail.status_code == 200
    assert "screenshot.png" in detail.get_data(as_text=True)
    assert f'href="{url}"' not in detail.get_data(as_text=True)
    assert browser.get(url).status_code == 403
