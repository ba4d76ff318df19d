"""Text the pages and downloads show around the content: file sizes, field labels, the page's
language, error references and the type of a download, in the reader's language and exact."""

from __future__ import annotations

import re

from tests.customer.helpers import attach
from tests.delivery.helpers import in_progress


def _text(resp) -> str:
    return resp.get_data(as_text=True)


def test_file_sizes_are_in_the_readers_language(make_client, factory, app, db_session):
    org = factory.organisation(colleagues_may_view=True)
    contact = factory.customer(org, locale="zh_CN")
    sr, contact, handler = in_progress(factory, db_session, org=org, contact=contact)
    handler.locale = "zh_CN"
    attach(app, db_session, sr, contact, b"x" * 156, name="small.txt")
    attach(app, db_session, sr, contact, b"y" * 1536, name="bigger.txt")
    db_session.flush()
    customer = make_client()
    customer.login(contact)
    staff = make_client()
    staff.login(handler)
    for page in (
        _text(customer.get(f"/requests/{sr.number}")),
        _text(staff.get(f"/staff/requests/{sr.number}")),
    ):
        assert "156 字节" in page and "1.5 KB" in page
        assert "Bytes" not in page
    contact.locale = "en"
    db_session.flush()
    page = _text(customer.get(f"/requests/{sr.number}"))
    assert "156 bytes" in page and "1.5 KB" in page


def test_the_audit_logs_from_date_is_labelled_as_a_date_in_chinese(client, factory):
    client.login(factory.staff("admin", locale="zh_CN"))
    page = _text(client.get("/staff/admin/audit"))
    assert re.search(r'<label for="since">起始日期</label>', page)
    # the column of where an event came from keeps its own word
    assert '<th scope="col">来源</th>' in page


def test_after_switching_language_the_whole_page_follows_it(client, factory):
    """The switch is a boosted form: htmx follows a plain redirect and swaps in the body only,
    so the old ``<html lang>`` (and head) would stay until the next navigation. The switch tells
    htmx to load the page whole; the page it loads is in the new language."""
    client.login(factory.customer(locale="en"))
    resp = client.post(
        "/language",
        data={"locale": "zh_CN", "next": "/requests/new"},
        headers={"HX-Request": "true", "HX-Boosted": "true", "HX-Current-URL": "/requests/new"},
    )
    assert resp.headers.get("HX-Redirect") == "/requests/new"
    page = _text(client.get("/requests/new", headers={"HX-Request": "true", "HX-Boosted": "true"}))
    assert '<html lang="zh-CN">' in page
    # without htmx: the plain redirect, as before
    resp = client.post("/language", data={"locale": "en", "next": "/requests/new"})
    assert (resp.status_code, resp.headers["Location"]) == (302, "/requests/new")
    assert '<html lang="en">' in _text(client.get("/requests/new"))


def test_the_expired_form_page_quotes_a_real_reference(client):
    resp = client.post(
        "/login",
        data={"identifier": "li@example.com", "password": "x"},
        csrf=False,
        headers={"Accept-Language": "zh-CN"},
    )
    assert resp.status_code == 400
    page = _text(resp)
    assert "表单已过期,请重新提交" in page
    ref = resp.headers["X-Request-Id"]
    assert ref and f"参考编号 {ref}" in page
    assert "None" not in page


def test_text_downloads_name_their_charset_once(make_client, factory, app, db_session):
    org = factory.organisation(colleagues_may_view=True)
    sr, contact, handler = in_progress(factory, db_session, org=org)
    f = attach(app, db_session, sr, contact, "连接超时\n".encode(), name="log.txt")
    colleague = factory.customer(org)
    outsider = factory.staff("engineer")
    for who, prefix in (
        (contact, ""),  # the original
        (colleague, ""),  # a redacted copy
        (handler, "/staff"),
        (outsider, "/staff"),  # a redacted copy
    ):
        client = make_client()
        client.login(who)
        resp = client.get(f"{prefix}/requests/{sr.number}/files/{f.id}")
        assert resp.status_code == 200
        assert resp.headers["Content-Type"] == "text/plain; charset=utf-8", who.name
