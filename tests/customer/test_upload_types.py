"""Upload types seen by a user: HTML and SVG files are kept but only ever downloaded as
attachments; a file whose name claims a type its content does not have is refused with a
message on the form, what was typed kept."""

from __future__ import annotations

import html
import io
import os

from sqlalchemy import select
from werkzeug.http import parse_options_header

from portal.models import Attachment, ServiceRequest

HTML_PAGE = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(2)</script></svg>"
)


def _form(**overrides):
    data = {
        "type": "fault",
        "urgency": "P2",
        "title": "报表导出失败",
        "description": "点击导出后页面报错 500,附上截图和导出的文件。",
        "expected_completion": "",
        "contact_name": "李小红",
        "contact_phone": "13900001234",
        "contact_email": "li@example.com",
    }
    data.update(overrides)
    return data


def _stored_files(app) -> set[str]:
    folder = app.config["UPLOAD_FOLDER"]
    return set(os.listdir(folder)) if os.path.isdir(folder) else set()


def test_html_and_svg_uploads_download_as_attachments_never_inline(
    make_client, factory, org_setup, db_session
):
    alice = org_setup["alice"]
    client = make_client()
    client.login(alice)
    data = _form()
    data["attachments"] = [
        (io.BytesIO(HTML_PAGE), "page.html", "text/html"),
        (io.BytesIO(SVG), "logo.svg", "image/svg+xml"),
    ]
    resp = client.post("/requests/new", data=data, content_type="multipart/form-data")
    assert resp.status_code == 302
    sr = db_session.scalar(select(ServiceRequest).where(ServiceRequest.contact_id == alice.id))
    files = {
        f.original_name: f
        for f in db_session.scalars(select(Attachment).where(Attachment.request_id == sr.id))
    }
    assert set(files) == {"page.html", "logo.svg"}

    engineer = make_client()
    engineer.login(factory.staff("engineer"))
    for who, prefix in ((client, ""), (engineer, "/staff")):
        for name, content in (("page.html", HTML_PAGE), ("logo.svg", SVG)):
            resp = who.get(f"{prefix}/requests/{sr.number}/files/{files[name].id}")
            assert resp.status_code == 200
            assert resp.get_data() == content
            kind, params = parse_options_header(resp.headers["Content-Disposition"])
            assert (kind, params["filename"]) == ("attachment", name)
            mimetype = resp.mimetype
            assert mimetype not in ("text/html", "image/svg+xml") and "html" not in mimetype
            assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_disguised_upload_on_the_new_request_page_is_refused_and_keeps_what_was_typed(
    client, factory, db_session, app
):
    user = factory.customer()
    client.login(user)
    before = _stored_files(app)
    data = _form(title="导出的 PDF 打不开", description="附件是系统导出的报告,打开提示损坏。")
    data["attachments"] = [
        (io.BytesIO(b"real log line\n"), "export.log"),
        (io.BytesIO(HTML_PAGE), "report.pdf", "application/pdf"),
    ]
    resp = client.post("/requests/new", data=data, content_type="multipart/form-data")
    assert resp.status_code == 422
    page = html.unescape(resp.get_data(as_text=True))
    assert "report.pdf was refused: its content is not a PDF file as its name says." in page
    assert 'value="导出的 PDF 打不开"' in page
    assert "附件是系统导出的报告,打开提示损坏。" in page
    assert (
        db_session.scalars(select(ServiceRequest).where(ServiceRequest.contact_id == user.id)).all()
        == []
    )
    # neither the refused file nor the one written before it is left behind
    assert _stored_files(app) == before


def test_disguised_image_is_refused_even_when_the_browser_calls_it_an_image(
    client, factory, db_session
):
    user = factory.customer()
    client.login(user)
    data = _form()
    data["attachments"] = [(io.BytesIO(b"MZ\x90\x00" + b"\x00" * 60), "photo.png", "image/png")]
    resp = client.post("/requests/new", data=data, content_type="multipart/form-data")
    assert resp.status_code == 422
    # a Windows program named as a picture: refused as the program it is
    assert "photo.png was refused: programs and scripts are not accepted" in html.unescape(
        resp.get_data(as_text=True)
    )
    assert (
        db_session.scalar(select(Attachment.id).where(Attachment.original_name == "photo.png"))
        is None
    )
