"""What an inbound mail becomes (docs/product.md §9), through receive + process."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import func, select

from portal.domain import mail_ids
from portal.models import (
    Attachment,
    AuditEvent,
    EmailOutbox,
    InboundMail,
    Message,
    Notification,
    ServiceRequest,
    utcnow,
)
from portal.services import contacts, inbound, workflow
from portal.services.audit import Actor
from tests.inbound.mails import mail, quoted_reply

DOMAIN = "localhost"  # of the test app's MAIL_FROM


def our_id(sr, outbox_id=7):
    return mail_ids.message_id(outbox_id, sr.number, DOMAIN)


def count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def messages_of(session, sr):
    return session.scalars(select(Message).where(Message.request_id == sr.id)).all()


def auto_replies(session, to):
    return [
        m
        for m in session.scalars(select(EmailOutbox).where(EmailOutbox.to_address == to)).all()
        if (m.meta or {}).get("kind") == "auto_reply"
    ]


def _with_handler(db_session, sr, engineer):
    sr.handler_id = engineer.id
    db_session.flush()


def test_a_reply_threads_and_counts_like_a_portal_reply(db_session, factory, people, take):
    contact, engineer = people["contact"], people["engineer"]
    now = utcnow()
    by_portal = factory.request(contact, now=now - timedelta(minutes=30))
    by_mail = factory.request(contact, now=now - timedelta(minutes=30))
    for sr in (by_portal, by_mail):
        _with_handler(db_session, sr, engineer)

    workflow.post_message(db_session, Actor(contact.id), contact, by_portal, "Still broken", now)
    raw = quoted_reply(
        "Li Ming <Li.Ming@customer.example>",
        f"Re: [{by_mail.number}] {by_mail.title}",
        "Still broken",
        {"In-Reply-To": our_id(by_mail), "References": our_id(by_mail)},
    )
    row, status = take(raw, now=now)

    assert status == "message" and row.request_id == by_mail.id
    (message,) = messages_of(db_session, by_mail)
    assert message.body == "Still broken"  # the quoted desk mail trimmed off
    assert message.author_id == contact.id and message.internal is False
    # the SLA and the lifecycle see exactly what a portal reply does
    for field in ("status", "first_response_at", "paused_since", "updated_at"):
        assert getattr(by_mail, field) == getattr(by_portal, field), field
    assert by_mail.first_response_at is None  # a customer's words are not the desk's response
    told = db_session.scalars(
        select(Notification.kind).where(
            Notification.recipient_id == engineer.id, Notification.request_id == by_mail.id
        )
    ).all()
    assert told == ["customer_reply"]
    assert (row.sender, row.raw) == ("li.ming@customer.example", None)
    assert row.processed_at == now and row.subject.startswith("Re: [")


def test_a_reply_with_only_the_number_in_the_subject(db_session, factory, people, take):
    sr = factory.request(people["contact"])
    row, status = take(
        mail("li.ming@customer.example", f"回复：{sr.number} 打印机", "好的，谢谢。")
    )
    assert status == "message" and row.request_id == sr.id
    assert [m.body for m in messages_of(db_session, sr)] == ["好的，谢谢。"]


def test_a_new_mail_from_a_contact_becomes_a_request_with_an_auto_reply(db_session, people, take):
    contact = people["contact"]
    row, status = take(
        mail(
            "Li Ming <li.ming@customer.example>",
            "Fwd:  Printer on floor 3 is offline ",
            "The printer shows error E05.\n\n-- \nLi Ming\nACME Ltd.",
        )
    )
    assert status == "request"
    sr = db_session.get(ServiceRequest, row.request_id)
    assert (sr.channel, sr.contact_id, sr.organisation_id) == (
        "email",
        contact.id,
        contact.organisation_id,
    )
    assert sr.title == "Printer on floor 3 is offline"
    assert sr.description == "The printer shows error E05."  # the signature trimmed
    (reply,) = auto_replies(db_session, contact.email)
    assert sr.number in reply.subject and sr.number in reply.body_text
    assert reply.meta["number"] == sr.number  # its Message-ID names the number: replies thread
    assert "registered as request" in reply.body_text  # the contact reads English


def test_the_auto_reply_speaks_the_contact_s_language(db_session, factory, people, take):
    factory.customer(people["org"], email="zhao@customer.example", locale="zh_CN")
    row, _status = take(mail("zhao@customer.example", "打印机故障", "三楼打印机无法打印"))
    (reply,) = auto_replies(db_session, "zhao@customer.example")
    sr = db_session.get(ServiceRequest, row.request_id)
    assert sr.number in reply.subject and "已登记为服务请求" in reply.body_text


def test_an_unknown_sender_waits_in_triage_and_nothing_is_created(db_session, people, take):
    before = count(db_session, ServiceRequest)
    raw = mail("someone@unknown.example", "Help", "Please call me")
    row, status = take(raw)
    assert (status, row.reason) == ("triage", "unknown sender")
    assert row.raw == raw
    assert count(db_session, ServiceRequest) == before
    assert auto_replies(db_session, "someone@unknown.example") == []


def _bounce() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Mail Delivery System <MAILER-DAEMON@mx.customer.example>"
    msg["To"] = "servicedesk@localhost"
    msg["Subject"] = "Undelivered Mail Returned to Sender"
    msg["Message-ID"] = "<bounce.1@mx.customer.example>"
    msg.set_content("The mail to li.ming@customer.example could not be delivered.")
    msg.make_mixed()
    msg.set_type("multipart/report")
    msg.set_param("report-type", "delivery-status")
    return msg.as_bytes()


def test_a_bounce_and_an_auto_reply_create_nothing_and_are_not_answered(
    db_session, factory, people, take
):
    sr = factory.request(people["contact"])
    requests_before = count(db_session, ServiceRequest)
    mails_before = count(db_session, EmailOutbox)
    out_of_office = mail(
        "li.ming@customer.example",
        f"Automatic reply: [{sr.number}] {sr.title}",
        "I am out of the office until Monday.",
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": our_id(sr)},
    )
    vacation = mail(
        "li.ming@customer.example",
        "Out of office",
        "Back on Monday.",
        headers={"X-Auto-Response-Suppress": "All", "Precedence": "auto_reply"},
    )
    for raw in (_bounce(), out_of_office, vacation):
        row, status = take(raw)
        assert status == "ignored" and row.reason
        assert row.request_id is None and row.raw is None
    assert messages_of(db_session, sr) == []
    assert count(db_session, ServiceRequest) == requests_before
    assert count(db_session, EmailOutbox) == mails_before  # nobody answered


def test_our_own_message_coming_back_is_a_loop(db_session, factory, people, take):
    sr = factory.request(people["contact"])
    row, status = take(mail("servicedesk@localhost", f"[{sr.number}] x", "x"))
    assert (status, row.reason) == ("ignored", "from the portal's own address (loop)")
    row, status = take(mail("li.ming@customer.example", "x", "x", message_id=our_id(sr, 99)))
    assert (status, row.reason) == ("ignored", "our own message (loop)")


def test_another_organisation_s_number_never_attaches(db_session, factory, people, take):
    theirs = factory.request(people["contact"])
    row, status = take(mail("wang@other.example", f"Re: [{theirs.number}] hello", "let me in"))
    assert status == "refused" and "another organisation" in row.reason
    assert messages_of(db_session, theirs) == []
    row, status = take(
        mail("wang@other.example", "hello", "x", headers={"In-Reply-To": our_id(theirs)})
    )
    assert status == "refused" and messages_of(db_session, theirs) == []


def test_a_forged_from_failing_dmarc_does_not_attach(
    app, db_session, factory, people, take, monkeypatch
):
    monkeypatch.setitem(app.config, "INBOUND_AUTHSERV_ID", "mx.desk.example")
    sr = factory.request(people["contact"])
    before = count(db_session, ServiceRequest)
    forged = {
        "Authentication-Results": (
            "mx.desk.example; spf=fail smtp.mailfrom=evil.example; dkim=none; "
            "dmarc=fail header.from=customer.example"
        )
    }
    row, status = take(
        mail("li.ming@customer.example", f"Re: [{sr.number}] x", "x", headers=forged)
    )
    assert (status, row.reason) == ("triage", "authentication failed: dmarc=fail")
    assert messages_of(db_session, sr) == [] and row.raw is not None
    row, status = take(mail("li.ming@customer.example", "new thing", "x", headers=forged))
    assert status == "triage" and count(db_session, ServiceRequest) == before


def test_require_mode_wants_our_server_s_pass(app, db_session, people, take, monkeypatch):
    monkeypatch.setitem(app.config, "INBOUND_AUTH", "require")
    monkeypatch.setitem(app.config, "INBOUND_AUTHSERV_ID", "mx.desk.example")
    row, status = take(mail("li.ming@customer.example", "no header", "x"))
    assert status == "triage" and "require" in row.reason
    passed = {
        "Authentication-Results": "mx.desk.example; dkim=pass header.d=customer.example; dmarc=pass"
    }
    row, status = take(mail("li.ming@customer.example", "signed", "x", headers=passed))
    assert status == "request"


def test_a_deactivated_contact_is_refused(db_session, people, take):
    contact = people["contact"]
    contacts.deactivate(db_session, Actor(None), utcnow(), contact)
    row, status = take(mail(contact.email, "hello", "x"))
    assert (status, row.reason) == ("refused", "contact deactivated")
    assert auto_replies(db_session, contact.email) == []


def test_a_mail_too_large_is_refused(app, db_session, people, take, monkeypatch):
    monkeypatch.setitem(app.config, "INBOUND_MAX_BYTES", 2000)
    row, status = take(mail("li.ming@customer.example", "big", "x" * 5000))
    assert (status, row.reason) == ("refused", "too large")
    assert row.request_id is None


def test_malformed_mime_is_unreadable_and_nothing_is_raised(db_session, people, take):
    raw = (
        b"From: li.ming@customer.example\r\nSubject: broken\r\nMessage-ID: <broken.1@c.example>\r\n"
        b"Content-Type: multipart/mixed\r\n\r\nno boundary anywhere\r\n"
    )
    row, status = take(raw)
    assert status == "unreadable" and row.reason.startswith("malformed MIME")
    assert row.raw == raw and row.processed_at is not None


def test_an_unexpected_failure_is_unreadable_and_names_no_contact(
    db_session, people, take, monkeypatch, caplog
):
    def broken(*_args, **_kwargs):
        raise RuntimeError("cannot reach li.ming@customer.example")

    monkeypatch.setattr(inbound.handle, "decide", broken)
    before = count(db_session, ServiceRequest)
    raw = mail("li.ming@customer.example", "hello", "x")
    row, status = take(raw)
    assert status == "unreadable" and row.raw == raw
    assert row.reason.startswith("RuntimeError: ") and "li.ming@" not in row.reason
    assert "li.ming" not in caplog.text
    assert count(db_session, ServiceRequest) == before


def test_a_disguised_attachment_is_refused_while_the_mail_goes_in(db_session, people, take):
    row, status = take(
        mail(
            "li.ming@customer.example",
            "Logs attached",
            "See the files.",
            attachments=[
                ("report.pdf", b"MZ\x90\x00\x03 a Windows program", "application/pdf"),
                ("notes.txt", b"error E05 at 09:12\n", "text/plain"),
            ],
        )
    )
    assert status == "request"
    stored = db_session.scalars(
        select(Attachment.original_name).where(Attachment.request_id == row.request_id)
    ).all()
    assert stored == ["notes.txt"]
    (refused,) = row.detail["refused_attachments"]
    # a Windows program named as a PDF: refused as the program it is
    assert refused["name"] == "report.pdf" and "AttachmentProgram" in refused["reason"]


def test_html_is_sanitised(db_session, people, take):
    row, status = take(
        mail(
            "li.ming@customer.example",
            "HTML only",
            None,
            html='<p onclick="steal()">Screen is <b>black</b></p><script>alert("x")</script>',
        )
    )
    assert status == "request"
    sr = db_session.get(ServiceRequest, row.request_id)
    assert sr.description == "Screen is black"
    assert "<script" not in row.detail["html"] and "onclick" not in row.detail["html"]
    assert "<b>black</b>" in row.detail["html"]


def test_the_same_mail_twice_is_taken_once(db_session, people, take):
    raw = mail("li.ming@customer.example", "twice", "x", message_id="<twice.1@customer.example>")
    first, status = take(raw)
    again, status_again = take(raw)
    assert again.id == first.id and (status, status_again) == ("request", "request")
    assert count(db_session, ServiceRequest, ServiceRequest.title == "twice") == 1
    assert len(auto_replies(db_session, "li.ming@customer.example")) == 1
    assert (
        count(db_session, InboundMail, InboundMail.message_id == "<twice.1@customer.example>") == 1
    )


def test_triage_to_request_for_a_chosen_contact(db_session, people, factory, take):
    agent = factory.staff("agent")
    row, _status = take(mail("li.private@gmail.example", "Help from home", "VPN fails"))
    inbound.triage.triage_to_request(
        db_session, row, people["contact"].id, Actor(agent.id), utcnow()
    )
    sr = db_session.get(ServiceRequest, row.request_id)
    assert (row.status, row.raw) == ("request", None)
    assert (sr.contact_id, sr.channel, sr.description) == (
        people["contact"].id,
        "email",
        "VPN fails",
    )
    assert auto_replies(db_session, people["contact"].email)
    assert count(db_session, AuditEvent, AuditEvent.action == "inbound_mail.triaged") == 1


def test_triage_to_request_for_a_new_contact(db_session, people, factory, take):
    admin = factory.staff("admin")
    row, _status = take(mail("new.person@customer.example", "First mail", "Hello desk"))
    details = contacts.ContactDetails(
        name="新同事", email="new.person@customer.example", organisation_id=people["org"].id
    )
    inbound.triage.triage_to_request(
        db_session, row, None, Actor(admin.id), utcnow(), new_contact=details
    )
    sr = db_session.get(ServiceRequest, row.request_id)
    assert sr.organisation_id == people["org"].id and row.status == "request"
    assert contacts.find_by_email(db_session, "new.person@customer.example").id == sr.contact_id


def test_discard(db_session, people, factory, take):
    agent = factory.staff("agent")
    row, _status = take(mail("spam@unknown.example", "Cheap watches", "buy"))
    before = count(db_session, ServiceRequest)
    inbound.triage.discard(db_session, row, Actor(agent.id), utcnow())
    assert (row.status, row.raw) == ("discarded", None)
    assert count(db_session, ServiceRequest) == before
    assert count(db_session, AuditEvent, AuditEvent.action == "inbound_mail.discarded") == 1


def test_a_reply_to_a_closed_request_waits_for_a_person(db_session, factory, people, take):
    contact = people["contact"]
    sr = factory.request(contact)
    workflow.cancel(db_session, Actor(contact.id), contact, sr, "", utcnow())
    row, status = take(mail(contact.email, f"Re: [{sr.number}] again", "It is back"))
    assert status == "triage" and "cancelled" in row.reason and row.raw is not None
    assert messages_of(db_session, sr) == []


def test_a_deactivated_organisation_gets_no_new_request(db_session, people, take):
    people["org"].active = False
    db_session.flush()
    row, status = take(mail("li.ming@customer.example", "hello", "x"))
    assert (status, row.reason) == ("refused", "organisation deactivated")


def test_a_colleague_may_reply_by_mail_only_where_the_portal_lets_them(
    db_session, factory, people, take
):
    sr = factory.request(people["contact"])
    factory.customer(people["org"], email="colleague@customer.example")
    row, status = take(mail("colleague@customer.example", f"Re: [{sr.number}] x", "me too"))
    assert (status, row.reason) == ("refused", "the sender may not reply on this request")
    people["org"].colleagues_may_reply = True
    db_session.flush()
    row, status = take(mail("colleague@customer.example", f"Re: [{sr.number}] x", "me too, again"))
    assert status == "message" and [m.body for m in messages_of(db_session, sr)] == [
        "me too, again"
    ]


def test_processing_logs_no_contact_data(db_session, factory, people, take, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    sr = factory.request(people["contact"])
    take(mail("Li Ming <li.ming@customer.example>", f"Re: [{sr.number}] x", "call 13912345678"))
    take(mail("李明 <li.ming@customer.example>", "new one", "x"))
    take(mail("Stranger <someone@unknown.example>", "hi", "x"))
    take(b"From: li.ming@customer.example\r\nContent-Type: multipart/mixed\r\n\r\nbroken\r\n")
    for value in ("li.ming@", "someone@unknown", "李明", "13912345678"):
        assert value not in caplog.text


def test_a_reply_to_the_auto_reply_threads_on_its_request(app, db_session, people, take):
    from portal.services import outbox

    row, _status = take(mail("li.ming@customer.example", "VPN down", "Error 809"))
    (auto,) = auto_replies(db_session, "li.ming@customer.example")
    sent = outbox.build(auto, outbox.MailSettings.from_config(app.config))
    assert sent["Auto-Submitted"] == "auto-generated"  # auto-responders stay quiet
    reply, status = take(
        mail(
            "li.ming@customer.example",
            "Re: your mail",  # no number in the subject: the Message-ID alone threads it
            "It works from home too",
            headers={"In-Reply-To": sent["Message-ID"]},
        )
    )
    assert status == "message" and reply.request_id == row.request_id
    assert len(auto_replies(db_session, "li.ming@customer.example")) == 1  # no second auto-reply
