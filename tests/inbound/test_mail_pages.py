"""The staff's mail triage pages (docs/product.md §9): the list's tabs, one mail, its decisions
(a request for a contact, for a new contact, discard), bad input, who may see them, masking, the
nav's badge, and the builders' query counts. Mails arrive through receive/process, as in life."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.models import Account, AuditEvent, InboundMail, ServiceRequest
from portal.services.inbound import mail_lists
from tests.inbound.mails import mail

UNKNOWN = "visitor@unknown.example"


@pytest.fixture
def agent(factory):
    return factory.staff("agent", name="赵客服")


@pytest.fixture
def waiting(take):
    row, status = take(
        mail(
            UNKNOWN,
            "Printer on floor 3 is offline",
            attachments=[("log.txt", b"E42", "text/plain")],
        )
    )
    assert status == "triage"
    return row


def _en(client):
    client.http.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _writes(db_session):
    return (
        db_session.scalar(select(func.count(ServiceRequest.id))),
        db_session.scalar(select(func.count(Account.id))),
        db_session.scalar(select(func.count(AuditEvent.id))),
        tuple(db_session.execute(select(InboundMail.id, InboundMail.status)).all()),
    )


# --- the list -----------------------------------------------------------------------------------


def test_waiting_tab_lists_the_mail_with_its_reason_as_a_sentence(client, agent, waiting):
    _en(client).login(agent)
    body = client.get("/staff/mail").get_data(as_text=True)
    assert f'data-mail="{waiting.id}"' in body
    assert UNKNOWN in body  # whole: the agent must decide who it is
    assert "Printer on floor 3 is offline" in body
    assert "The sender is not a known contact." in body
    assert "unknown sender" not in body  # never the key


def test_tabs_separate_waiting_unreadable_and_handled(client, agent, take, people):
    broken, status = take(
        b"From: x@unknown.example\r\nContent-Type: multipart/mixed\r\n\r\nno boundary"
    )
    assert status == "unreadable"
    bounce, status = take(
        mail("mailer-daemon@unknown.example", headers={"Auto-Submitted": "auto-replied"})
    )
    assert status == "ignored"
    _en(client).login(agent)
    unreadable = client.get("/staff/mail?tab=unreadable").get_data(as_text=True)
    assert f'data-mail="{broken.id}"' in unreadable and f'data-mail="{bounce.id}"' not in unreadable
    assert "Its MIME structure is broken." in unreadable
    handled = client.get("/staff/mail?tab=handled").get_data(as_text=True)
    assert f'data-mail="{bounce.id}"' in handled and "An automatic reply." in handled
    assert "m***@unknown.example" in handled
    assert "mailer-daemon@unknown.example" not in handled  # handled: masked
    waiting = client.get("/staff/mail").get_data(as_text=True)
    assert f'data-mail="{bounce.id}"' not in waiting and f'data-mail="{broken.id}"' not in waiting


def test_the_list_is_newest_first_and_paged(client, agent, take, monkeypatch):
    monkeypatch.setattr(mail_lists, "PAGE_SIZE", 2)
    rows = [take(mail(f"p{n}@unknown.example", f"Mail {n}"))[0] for n in range(3)]
    client.login(agent)
    first = client.get("/staff/mail").get_data(as_text=True)
    ids = [int(i) for i in re.findall(r'data-mail="(\d+)"', first)]
    assert ids == [rows[2].id, rows[1].id]
    older = re.search(r'href="(/staff/mail\?before=\d+)"', first).group(1)
    second = client.get(older).get_data(as_text=True)
    assert [int(i) for i in re.findall(r'data-mail="(\d+)"', second)] == [rows[0].id]


# --- one mail -----------------------------------------------------------------------------------


def test_the_detail_shows_headers_text_and_attachments(client, agent, waiting):
    _en(client).login(agent)
    body = client.get(f"/staff/mail/{waiting.id}").get_data(as_text=True)
    assert UNKNOWN in body
    assert "The printer on floor 3 shows an error since this morning." in body
    assert "log.txt" in body
    assert "Make it a request for a contact" in body and "Discard the mail" in body


def test_html_is_shown_sanitised(client, agent, take):
    row, _ = take(
        mail(
            UNKNOWN,
            "HTML",
            html='<p>Hello <b>desk</b></p><script>alert(1)</script><a href="javascript:x()" onclick="y()">z</a>',
        )
    )
    client.login(agent)
    body = client.get(f"/staff/mail/{row.id}").get_data(as_text=True)
    assert "<b>desk</b>" in body
    assert "alert(1)" not in body and "javascript:" not in body and "onclick" not in body


def test_the_contact_search_is_masked_and_grouped(client, agent, waiting, people):
    client.login(agent)
    body = client.get(f"/staff/mail/{waiting.id}?q=李").get_data(as_text=True)
    assert f'value="{people["contact"].id}"' in body
    assert "李*" in body and "李明" not in body and "li.ming@customer.example" not in body
    assert people["org"].name in body


# --- decisions ----------------------------------------------------------------------------------


def test_make_it_a_request_for_a_contact(client, agent, waiting, people, db_session):
    _en(client).login(agent)
    contact = people["contact"]
    resp = client.post(f"/staff/mail/{waiting.id}/request", data={"contact": contact.id})
    assert resp.status_code == 302 and "tab=handled" in resp.location
    db_session.expire_all()
    row = db_session.get(InboundMail, waiting.id)
    sr = db_session.get(ServiceRequest, row.request_id)
    assert row.status == "request" and sr.contact_id == contact.id and sr.channel == "email"
    assert row.raw is None
    event = db_session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "inbound_mail.triaged", AuditEvent.object_id == str(row.id)
        )
    )
    assert event is not None and event.actor_id == agent.id
    page = client.get(resp.location).get_data(as_text=True)
    assert f'href="/staff/requests/{sr.number}">{sr.number}</a>' in page  # the flash links it
    assert f'data-mail="{row.id}"' in page
    assert UNKNOWN not in page  # handled: masked
    assert f'data-mail="{row.id}"' not in client.get("/staff/mail").get_data(as_text=True)
    detail = client.get(f"/staff/mail/{row.id}").get_data(as_text=True)
    assert UNKNOWN not in detail and "v***@unknown.example" in detail
    assert "Make it a request" not in detail and "Discard the mail" not in detail


def test_make_it_a_request_for_a_new_contact(client, agent, waiting, people, db_session):
    _en(client).login(agent)
    data = {
        "organisation": people["org"].id,
        "name": "陈新",
        "email": UNKNOWN,
        "phone": "13900001111",
    }
    resp = client.post(f"/staff/mail/{waiting.id}/new-contact", data=data)
    assert resp.status_code == 302
    db_session.expire_all()
    row = db_session.get(InboundMail, waiting.id)
    contact = db_session.scalar(select(Account).where(Account.email == UNKNOWN))
    assert contact.organisation_id == people["org"].id and contact.name == "陈新"
    assert db_session.get(ServiceRequest, row.request_id).contact_id == contact.id


def test_discard(client, agent, waiting, db_session):
    _en(client).login(agent)
    resp = client.post(f"/staff/mail/{waiting.id}/discard")
    assert resp.status_code == 302
    db_session.expire_all()
    assert db_session.get(InboundMail, waiting.id).status == "discarded"
    assert db_session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "inbound_mail.discarded", AuditEvent.object_id == str(waiting.id)
        )
    )
    assert "The mail was discarded." in client.get(resp.location).get_data(as_text=True)


def test_a_handled_mail_cannot_be_decided_again(client, agent, waiting, people, db_session):
    _en(client).login(agent)
    assert client.post(f"/staff/mail/{waiting.id}/discard").status_code == 302
    before = _writes(db_session)
    resp = client.post(f"/staff/mail/{waiting.id}/request", data={"contact": people["contact"].id})
    assert resp.status_code == 422
    assert "This mail has been handled already." in resp.get_data(as_text=True)
    assert client.post(f"/staff/mail/{waiting.id}/discard").status_code == 422
    assert _writes(db_session) == before


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, "Find the customer and choose the contact it is for."),
        ({"contact": "abc"}, 'class="field-error"'),
    ],
)
def test_no_contact_chosen_is_refused(client, agent, waiting, db_session, data, message):
    _en(client).login(agent)
    before = _writes(db_session)
    resp = client.post(f"/staff/mail/{waiting.id}/request", data=data)
    assert resp.status_code == 422 and message in resp.get_data(as_text=True)
    assert _writes(db_session) == before


def test_a_staff_account_or_unknown_id_is_not_a_contact(client, agent, waiting, db_session):
    _en(client).login(agent)
    before = _writes(db_session)
    for value in (agent.id, 99999999):
        resp = client.post(f"/staff/mail/{waiting.id}/request", data={"contact": value})
        assert resp.status_code == 422 and "Choose an active contact." in resp.get_data(
            as_text=True
        )
    assert _writes(db_session) == before


def test_new_contact_errors_keep_what_was_typed(client, agent, waiting, people, db_session):
    _en(client).login(agent)
    before = _writes(db_session)
    taken = {"organisation": people["org"].id, "name": "陈新", "email": "li.ming@customer.example"}
    resp = client.post(f"/staff/mail/{waiting.id}/new-contact", data=taken)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and 'value="陈新"' in body
    empty = client.post(
        f"/staff/mail/{waiting.id}/new-contact", data={"organisation": "", "name": "", "email": "x"}
    )
    body = empty.get_data(as_text=True)
    assert empty.status_code == 422
    assert "Choose the organisation." in body and "Give the contact's name." in body
    long = {"organisation": people["org"].id, "name": "长" * 500, "email": "a@b.example"}
    resp = client.post(f"/staff/mail/{waiting.id}/new-contact", data=long)
    assert resp.status_code == 422 and "At most" in resp.get_data(as_text=True)
    assert _writes(db_session) == before


def test_a_nul_in_any_field_is_refused_and_nothing_written(
    client, agent, waiting, people, db_session
):
    _en(client).login(agent)
    before = _writes(db_session)
    data = {
        "organisation": people["org"].id,
        "name": "陈\x00新",
        "email": "n\x00ul@x.example",
        "phone": "1\x002",
    }
    resp = client.post(f"/staff/mail/{waiting.id}/new-contact", data=data)
    assert resp.status_code == 422
    assert "Invisible control characters were taken out of this." in resp.get_data(as_text=True)
    for path, data in (("request", {"contact": "1\x002"}), ("discard", {"note": "a\x00b"})):
        resp = client.post(f"/staff/mail/{waiting.id}/{path}", data=data)
        assert resp.status_code in (400, 422), path
    assert _writes(db_session) == before


def test_an_unreadable_mail_cannot_become_a_request(client, agent, take, people, db_session):
    row, _ = take(b"From: x@unknown.example\r\nContent-Type: multipart/mixed\r\n\r\nno boundary")
    _en(client).login(agent)
    body = client.get(f"/staff/mail/{row.id}").get_data(as_text=True)
    assert "Make it a request" not in body and "Discard the mail" in body
    resp = client.post(f"/staff/mail/{row.id}/request", data={"contact": people["contact"].id})
    assert resp.status_code == 422
    assert "A mail that could not be read cannot become a request." in resp.get_data(as_text=True)


def test_an_unknown_mail_is_404(client, agent):
    client.login(agent)
    assert client.get("/staff/mail/99999999").status_code == 404
    assert client.post("/staff/mail/99999999/discard").status_code == 404


# --- who ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("roles", [("engineer",), ("dispatcher",), ("engineer", "dispatcher")])
def test_roles_that_do_not_register_are_refused(client, factory, waiting, roles, db_session):
    client.login(factory.staff(*roles))
    before = _writes(db_session)
    for url in ("/staff/mail", "/staff/mail/badge", f"/staff/mail/{waiting.id}"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/staff/mail/{waiting.id}/discard").status_code == 403
    assert "/staff/mail" not in client.get("/staff/queue").get_data(as_text=True)
    assert _writes(db_session) == before


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
def test_the_registering_roles_may_triage(client, factory, waiting, role):
    client.login(factory.staff(role))
    assert client.get("/staff/mail").status_code == 200
    assert 'id="mail-nav"' in client.get("/staff/queue").get_data(as_text=True)


def test_the_customer_side_cannot_reach_it(client, people, waiting):
    client.login(people["contact"])
    assert client.get("/staff/mail").status_code == 403
    assert client.get(f"/staff/mail/{waiting.id}").status_code == 403
    assert client.get(f"/mail/{waiting.id}").status_code == 404


# --- the nav's badge ----------------------------------------------------------------------------


def test_the_badge_counts_waiting_mail_and_the_nav_does_not_query_for_it(
    client, agent, take, count_queries
):
    client.login(agent)
    client.get("/staff/queue")
    with count_queries() as before:
        client.get("/staff/queue")
    for n in range(3):
        take(mail(f"b{n}@unknown.example"))
    with count_queries() as after:
        page = client.get("/staff/queue").get_data(as_text=True)
    assert len(after) == len(before)
    assert 'hx-get="/staff/mail/badge"' in page
    badge = client.get("/staff/mail/badge").get_data(as_text=True)
    assert 'data-waiting="3"' in badge


def test_the_badge_is_capped(db_session, take, count_queries):
    for n in range(4):
        take(mail(f"c{n}@unknown.example"))
    with count_queries() as statements:
        assert mail_lists.waiting_count(db_session, cap=2) == 3
    assert len(statements) == 1


# --- no GET writes, query counts, languages -----------------------------------------------------


def test_the_pages_write_nothing_on_get(client, agent, waiting, take, db_session, count_queries):
    take(mail("mailer-daemon@unknown.example", headers={"Auto-Submitted": "auto-replied"}))
    client.login(agent)
    with count_queries() as statements:
        for url in (
            "/staff/mail",
            "/staff/mail?tab=unreadable",
            "/staff/mail?tab=handled",
            f"/staff/mail/{waiting.id}",
            f"/staff/mail/{waiting.id}?q=李",
            "/staff/mail/badge",
        ):
            assert client.get(url).status_code == 200
    writes = [
        s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []


def test_the_builders_query_counts_do_not_grow_with_the_mails(
    db_session, take, people, count_queries
):
    def counts() -> dict[str, int]:
        found = {}
        for tab in mail_lists.TABS:
            with count_queries() as statements:
                mail_lists.mail_page(db_session, tab)
            found[tab] = len(statements)
        return found

    take(mail("q0@unknown.example"))
    few = counts()
    for n in range(1, 6):
        take(mail(f"q{n}@unknown.example"))
    take(mail(people["contact"].email, "A request"))  # a request: listed as handled
    take(b"From: x@unknown.example\r\nContent-Type: multipart/mixed\r\n\r\nno boundary")
    assert counts() == few == {"waiting": 1, "unreadable": 1, "handled": 1}
    assert len(mail_lists.mail_page(db_session, "waiting").rows) == 6
    (handled,) = mail_lists.mail_page(db_session, "handled").rows
    assert handled.request_number and handled.sender == "l***@customer.example"
    db_session.expire_all()
    with count_queries() as statements:  # the mail, its request's number
        detail = mail_lists.mail_detail(db_session, handled.id)
    assert detail.row.request_number == handled.request_number and len(statements) == 2
    waiting = mail_lists.mail_page(db_session, "waiting").rows[0]
    db_session.expire_all()
    with count_queries() as statements:  # the mail alone: it names no request
        detail = mail_lists.mail_detail(db_session, waiting.id)
    assert detail.waiting and detail.text and len(statements) == 1


def test_a_chinese_reader_gets_the_pages_in_chinese(client, factory, waiting):
    agent = factory.staff("agent", locale="zh_CN")
    client.http.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    client.login(agent)
    body = client.get("/staff/mail").get_data(as_text=True)
    assert "发件人不是已知的联系人。" in body and ">待处理<" in body and "发件人" in body
    detail = client.get(f"/staff/mail/{waiting.id}").get_data(as_text=True)
    assert "丢弃" in detail


def test_a_waiting_mails_text_is_shown_pii_redacted(client, agent, take):
    row, _ = take(mail(UNKNOWN, "Call me", "Please call me on 13812345678 about the printer."))
    client.login(agent)
    body = client.get(f"/staff/mail/{row.id}").get_data(as_text=True)
    assert "****5678" in body and "13812345678" not in body
    assert UNKNOWN in body  # the sender itself stays whole while the mail waits


def test_the_contact_search_swaps_only_the_results_for_htmx(client, agent, waiting, people):
    client.login(agent)
    resp = client.get(f"/staff/mail/{waiting.id}?q=李", headers={"HX-Request": "true"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'id="contact-results"' in body and "<html" not in body
    assert f'value="{people["contact"].id}"' in body
