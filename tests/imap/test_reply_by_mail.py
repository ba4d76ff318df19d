"""A customer answers the portal's mail from their mail client: the portal's notification goes
out over SMTP (aiosmtpd), the customer's reply — quoting it, as clients do — is delivered into
the desk's dovecot mailbox, and one run of the scheduled fetch puts it on the request as the
contact's public message, the quote trimmed, the handler told as for a reply in the portal."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

from sqlalchemy import select

from portal import jobs_inbound, jobs_sla
from portal.models import EmailOutbox, InboundMail, Message, Notification, utcnow
from portal.services import audit, workflow
from tests.imap.helpers import mailbox_for
from tests.mail_server import MailServer, body_text


def _reply_to(portal_mail: EmailMessage, sender: str, own: str) -> bytes:
    quoted = "\n".join(f"> {line}" for line in body_text(portal_mail).splitlines())
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = portal_mail["From"]
    reply["Subject"] = f"Re: {portal_mail['Subject']}"
    reply["Date"] = formatdate()
    reply["Message-ID"] = "<reply.1@customer.example>"
    reply["In-Reply-To"] = portal_mail["Message-ID"]
    reply["References"] = portal_mail["Message-ID"]
    reply.set_content(f"{own}\n\nOn Fri, 4 Dec 2026 at 10:00, Service Desk wrote:\n{quoted}\n")
    return reply.as_bytes()


def test_a_reply_by_mail_reaches_the_request_in_one_fetch_with_the_quote_trimmed(
    app, db_session, factory, imap_server
):
    contact = factory.customer(name="李明")
    handler = factory.staff("engineer")
    sr = factory.request(contact, title="生产系统无法登录")
    sr.status = "in_progress"
    sr.handler_id = handler.id
    db_session.add(mailbox_for(imap_server, app))
    db_session.commit()
    with MailServer() as smtp:
        saved = {k: app.config.get(k) for k in ("MAIL_SERVER", "MAIL_PORT")}
        app.config.update(MAIL_SERVER=smtp.host, MAIL_PORT=smtp.port)
        try:
            workflow.post_message(
                db_session,
                audit.Actor(handler.id),
                handler,
                sr,
                "已重启数据库服务,请确认能否登录。",
                utcnow(),
            )
            db_session.commit()
            (row,) = db_session.scalars(
                select(EmailOutbox).where(EmailOutbox.to_address == contact.email)
            )
            assert jobs_sla.send_mail(row.id) == "sent"
            portal_mail = smtp.wait_for(lambda m: m["To"] == contact.email, timeout=10)
        finally:
            app.config.update(saved)

    imap_server.append("desk", [_reply_to(portal_mail, contact.email, "可以登录了,谢谢!")])
    summary = jobs_inbound.fetch_all()  # one fetch interval's run

    assert summary["mailboxes"]["desk-box"]["taken"] == 1
    taken = db_session.scalar(select(InboundMail))
    assert (taken.status, taken.request_id) == ("message", sr.id)
    [message] = db_session.scalars(
        select(Message).where(Message.request_id == sr.id, Message.author_id == contact.id)
    )
    assert message.body == "可以登录了,谢谢!" and not message.internal
    assert "已重启数据库服务" not in message.body  # the quoted portal mail was trimmed
    told = db_session.scalars(
        select(Notification.kind).where(Notification.recipient_id == handler.id)
    ).all()
    assert "customer_reply" in told
    assert imap_server.count("desk") == 0  # taken out of the inbox
