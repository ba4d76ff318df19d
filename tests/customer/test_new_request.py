import io
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from portal.models import Attachment, ServiceRequest

from .helpers import PNG


def _form(**overrides):
    data = {
        "type": "fault",
        "urgency": "P2",
        "title": "打印机无法连接",
        "description": "三楼的打印机从今天早上开始无法连接,提示脱机。",
        "expected_completion": "",
        "contact_name": "李小红",
        "contact_phone": "13900001234",
        "contact_email": "li@example.com",
    }
    data.update(overrides)
    return data


def _requests_of(db_session, contact):
    return db_session.scalars(
        select(ServiceRequest).where(ServiceRequest.contact_id == contact.id)
    ).all()


def test_form_shows_hints_limit_and_prefilled_contact(client, factory, app):
    user = factory.customer(name="李小红", email="hong@example.com", phone="13911112222")
    client.login(user)
    page = client.get("/requests/new").get_data(as_text=True)
    assert 'value="hong@example.com"' in page
    assert 'value="13911112222"' in page
    assert "Something that worked has stopped working" in page  # type hint
    assert "Affects core business" in page  # P1 definition
    assert "at most 20 MB each" in page


def test_submit_creates_numbered_request_and_redirects_to_it(client, factory, db_session):
    user = factory.customer(name="李小红")
    client.login(user)
    data = _form()
    data["attachments"] = [
        # the client's claim (text/html) is ignored; a name the portal does not check is kept
        (io.BytesIO(PNG), "screenshot.bmp", "text/html"),
        (io.BytesIO("错误日志\nline 2\n".encode()), "error.log", "application/octet-stream"),
    ]
    resp = client.post("/requests/new", data=data, content_type="multipart/form-data")
    assert resp.status_code == 302
    match = re.fullmatch(r"/requests/(SR-\d{8}-\d{3})", resp.location)
    assert match, resp.location
    number = match.group(1)

    (sr,) = _requests_of(db_session, user)
    assert sr.number == number
    assert (sr.title, sr.type, sr.proposed_urgency, sr.status) == (
        "打印机无法连接",
        "fault",
        "P2",
        "submitted",
    )
    assert sr.contact_email == "li@example.com"
    files = db_session.scalars(
        select(Attachment).where(Attachment.request_id == sr.id).order_by(Attachment.id)
    ).all()
    assert [(f.original_name, f.content_type) for f in files] == [
        ("screenshot.bmp", "image/png"),
        ("error.log", "text/plain"),
    ]

    page = client.get(resp.location).get_data(as_text=True)
    assert number in page
    assert "打印机无法连接" in page
    assert "screenshot.bmp" in page and "error.log" in page
    assert f"Your request {number} has been submitted" in page


def test_validation_errors_are_inline_and_keep_typed_values(client, factory, db_session):
    user = factory.customer()
    client.login(user)
    past = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    resp = client.post(
        "/requests/new",
        data=_form(
            title="",
            description="VPN 在 9 点后断开",
            expected_completion=past,
            contact_email="not-an-email",
            urgency="P1",
        ),
    )
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "Give the request a short title." in page
    assert "The expected completion time cannot be in the past." in page
    assert "Enter a valid e-mail address." in page
    # what was typed is still there
    assert "VPN 在 9 点后断开" in page
    assert 'value="not-an-email"' in page
    assert f'value="{past}"' in page
    assert re.search(r'<input[^>]*checked[^>]*value="P1"|<input[^>]*value="P1"[^>]*checked', page)
    assert _requests_of(db_session, user) == []


def test_expected_completion_is_read_in_the_desk_time_zone(client, factory, db_session):
    user = factory.customer()
    client.login(user)
    resp = client.post("/requests/new", data=_form(expected_completion="2099-03-01T09:30"))
    assert resp.status_code == 302
    (sr,) = _requests_of(db_session, user)
    # Asia/Shanghai is UTC+8
    assert sr.expected_completion_at == datetime(2099, 3, 1, 1, 30, tzinfo=UTC)


def test_oversized_upload_is_refused_with_a_message(client, factory, db_session, app, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 2048)
    user = factory.customer()
    client.login(user)
    data = _form(title="日志太大")
    data["attachments"] = [(io.BytesIO(b"x" * 3000), "huge.log")]
    resp = client.post("/requests/new", data=data, content_type="multipart/form-data")
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "huge.log is larger than the limit of 2 KB per file." in page
    assert 'value="日志太大"' in page
    assert "please choose them again" in page
    assert _requests_of(db_session, user) == []


def test_more_than_ten_files_are_refused(client, factory, db_session):
    user = factory.customer()
    client.login(user)
    data = _form()
    data["attachments"] = [(io.BytesIO(b"a"), f"f{i}.txt") for i in range(11)]
    resp = client.post("/requests/new", data=data, content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "At most 10 files per request." in resp.get_data(as_text=True)
    assert _requests_of(db_session, user) == []


def test_staff_cannot_use_the_customer_form(client, factory):
    engineer = factory.staff("engineer")
    client.login(engineer)
    assert client.get("/requests/new").status_code == 403


def test_a_missing_type_marks_its_radios_invalid_and_ties_them_to_the_error(
    client, factory, db_session
):
    user = factory.customer()
    client.login(user)
    data = _form()
    del data["type"]
    resp = client.post("/requests/new", data=data)
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    radios = re.findall(r'<input[^>]*name="type"[^>]*>', page)
    assert len(radios) == 4
    for radio in radios:
        assert 'aria-invalid="true"' in radio
        assert re.search(r'aria-describedby="type-\d-hint type-error"', radio), radio
    assert 'id="type-error"' in page
    # the urgency group has no error: its radios are not marked
    for radio in re.findall(r'<input[^>]*name="urgency"[^>]*>', page):
        assert "aria-invalid" not in radio
    assert _requests_of(db_session, user) == []
