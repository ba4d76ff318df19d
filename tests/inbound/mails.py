"""Raw inbound mails for the tests, built with the standard library's EmailMessage."""

from __future__ import annotations

import itertools
from email.message import EmailMessage
from email.utils import formatdate

_seq = itertools.count(1)
DESK = "servicedesk@localhost"


def mail(
    sender: str,
    subject: str = "Printer on floor 3 is offline",
    body: str | None = "The printer on floor 3 shows an error since this morning.",
    *,
    html: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, bytes, str]] = (),
    message_id: str | None = None,
) -> bytes:
    """One mail from ``sender`` to the desk; ``attachments`` as (filename, content, mime type)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = DESK
    msg["Subject"] = subject
    msg["Date"] = formatdate()
    msg["Message-ID"] = message_id or f"<inbound.{next(_seq)}@customer.example>"
    for name, value in (headers or {}).items():
        msg[name] = value
    if body is not None:
        msg.set_content(body)
        if html is not None:
            msg.add_alternative(html, subtype="html")
    elif html is not None:
        msg.set_content(html, subtype="html")
    for filename, content, mime in attachments:
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def quoted_reply(sender: str, subject: str, own: str, headers: dict[str, str]) -> bytes:
    """A reply as mail clients write it: the new words, then the quoted mail of the desk."""
    body = (
        f"{own}\n\n"
        "On Mon, 30 Nov 2026 at 10:00, Service Desk <servicedesk@localhost> wrote:\n"
        "> Your request has been registered.\n"
        "> Regards, the desk\n"
    )
    return mail(sender, subject, body, headers=headers)
