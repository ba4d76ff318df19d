import re

import pytest
from werkzeug.http import parse_options_header

from portal.models import Message, utcnow

from .helpers import PNG, attach


def _message(session, sr, author, body, internal=False):
    msg = Message(
        request_id=sr.id, author_id=author.id, body=body, internal=internal, created_at=utcnow()
    )
    session.add(msg)
    session.flush()
    return msg


def test_request_page_shows_header_contact_and_public_timeline(
    make_client, factory, org_setup, db_session
):
    alice = org_setup["alice"]
    engineer = factory.staff("engineer", name="张伟")
    sr = factory.request(alice, title="邮件无法发送", contact_phone="13912345678")
    sr.handler_id = engineer.id
    sr.status = "in_progress"
    sr.priority = "P1"
    _message(db_session, sr, engineer, "请提供出错时的截图。")
    _message(db_session, sr, engineer, "内部:怀疑是客户防火墙问题", internal=True)
    _message(db_session, sr, alice, "截图已上传。")
    client = make_client()
    client.login(alice)
    page = client.get(f"/requests/{sr.number}").get_data(as_text=True)
    assert sr.number in page and "邮件无法发送" in page
    assert "In progress" in page and "P1 urgent" in page and "(proposed)" not in page
    assert "张*" in page and "张伟" not in page
    assert "13912345678" in page  # her own contact, in full
    assert "请提供出错时的截图。" in page and "截图已上传。" in page
    assert "内部" not in page and "防火墙" not in page


def test_proposed_urgency_is_marked_until_confirmed(make_client, factory, org_setup):
    sr = factory.request(org_setup["alice"], urgency="P3")
    client = make_client()
    client.login(org_setup["alice"])
    page = client.get(f"/requests/{sr.number}").get_data(as_text=True)
    assert "P3 normal" in page and "(proposed)" in page


def test_paused_request_says_it_waits_for_the_customer(make_client, factory, org_setup):
    sr = factory.request(org_setup["alice"])
    sr.status = "awaiting_customer"
    sr.paused_since = utcnow()
    factory.session.flush()
    client = make_client()
    client.login(org_setup["alice"])
    assert "Paused — waiting for you" in client.get(f"/requests/{sr.number}").get_data(as_text=True)
    assert "Paused — waiting for you" in client.get("/").get_data(as_text=True)


def test_colleague_contact_is_masked_for_a_plain_contact_but_not_for_the_admin(
    make_client, factory, org_setup
):
    sr = factory.request(org_setup["alice"], contact_phone="13987654321")
    admin = make_client()
    admin.login(org_setup["admin"])
    assert "13987654321" in admin.get(f"/requests/{sr.number}").get_data(as_text=True)
    bob = make_client()
    bob.login(org_setup["bob"])
    assert bob.get(f"/requests/{sr.number}").status_code == 404


@pytest.mark.parametrize("who", ["stranger", "bob"])
def test_others_get_404_on_page_and_download(make_client, factory, org_setup, app, db_session, who):
    alice = org_setup["alice"]
    sr = factory.request(alice)
    f = attach(app, db_session, sr, alice, b"hello")
    client = make_client()
    client.login(org_setup[who])
    assert client.get(f"/requests/{sr.number}").status_code == 404
    assert client.get(f"/requests/{sr.number}/files/{f.id}").status_code == 404
    assert client.get("/requests/SR-20990101-001").status_code == 404


def test_download_is_an_attachment_with_nosniff(make_client, factory, org_setup, app, db_session):
    alice = org_setup["alice"]
    sr = factory.request(alice)
    html_text = attach(app, db_session, sr, alice, b"<script>alert(1)</script>", name='a"b<x>.html')
    image = attach(app, db_session, sr, alice, PNG, name="屏幕截图.png")
    client = make_client()
    client.login(alice)
    resp = client.get(f"/requests/{sr.number}/files/{html_text.id}")
    assert resp.status_code == 200
    assert resp.get_data() == b"<script>alert(1)</script>"
    assert resp.headers["Content-Type"].startswith("text/plain")  # sniffed, not the .html name
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    kind, params = parse_options_header(resp.headers["Content-Disposition"])
    # the quote in the name is escaped: it cannot end the parameter early
    assert (kind, params["filename"]) == ("attachment", 'a"b<x>.html')
    resp = client.get(f"/requests/{sr.number}/files/{image.id}")
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    kind, params = parse_options_header(resp.headers["Content-Disposition"])
    assert (kind, params["filename"]) == ("attachment", "屏幕截图.png")


def test_download_refuses_other_request_and_internal_files(
    make_client, factory, org_setup, app, db_session
):
    alice = org_setup["alice"]
    engineer = factory.staff("engineer")
    sr, other = factory.request(alice), factory.request(alice)
    on_other = attach(app, db_session, other, alice, b"other")
    internal = attach(app, db_session, sr, engineer, b"secret", internal=True)
    note = _message(db_session, sr, engineer, "内部备注", internal=True)
    on_note = attach(app, db_session, sr, engineer, b"note file", message_id=note.id)
    client = make_client()
    client.login(alice)
    assert client.get(f"/requests/{other.number}/files/{on_other.id}").status_code == 200
    assert client.get(f"/requests/{sr.number}/files/{on_other.id}").status_code == 404
    assert client.get(f"/requests/{sr.number}/files/{internal.id}").status_code == 404
    assert client.get(f"/requests/{sr.number}/files/{on_note.id}").status_code == 404
    page = client.get(f"/requests/{sr.number}").get_data(as_text=True)
    assert not re.search(rf"/files/({internal.id}|{on_note.id})\"", page)


def test_detail_runs_the_same_number_of_queries_for_3_and_30_entries(
    make_client, factory, org_setup, app, db_session, count_queries
):
    alice = org_setup["alice"]
    engineer = factory.staff("engineer")
    counted = []
    for n in (3, 30):
        sr = factory.request(alice)
        sr.handler_id = engineer.id
        for i in range(n):
            msg = _message(db_session, sr, engineer if i % 2 else alice, f"第{i}条消息")
            attach(app, db_session, sr, alice, b"x", name=f"m{i}.txt", message_id=msg.id)
            attach(app, db_session, sr, alice, b"y", name=f"r{i}.txt")
        client = make_client()
        client.login(alice)
        with count_queries() as statements:
            page = client.get(f"/requests/{sr.number}").get_data(as_text=True)
        assert f"第{n - 1}条消息" in page and f"r{n - 1}.txt" in page and f"m{n - 1}.txt" in page
        counted.append(len(statements))
    assert counted[0] == counted[1]
