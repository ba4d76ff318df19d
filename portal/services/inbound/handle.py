"""What a readable inbound mail becomes (docs/product.md §9): a public message on its request,
a new request with its auto-reply, a triage entry, or nothing. Every change goes through the
portal's own services (the customer's reply, the submit form's intake, the upload rules), so
the SLA, the notifications and the audit count it exactly as if it came through the portal.
Text is stored as the portal stores a customer's text (the original) and redacted where the
portal redacts it, on display for outsiders (``presenters.free_text``); a page that shows a
row's subject or HTML detail goes through the same presenters."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import inbound_rules, mail_ids, pii
from portal.domain.lifecycle import TransitionError
from portal.domain.vocabulary import Channel, Priority, RequestType
from portal.models import Account, Attachment, ServiceRequest
from portal.services import attachments, outbox, workflow
from portal.services import requests as sr_service
from portal.services.audit import Actor
from portal.services.contacts import find_by_email
from portal.services.invitations import base_url
from portal.services.mail import render_mail
from portal.services.workflow import FieldError

from .parse import ParsedMail

TITLE_MAX = 200  # ServiceRequest.title
NO_TEXT = "—"


@dataclass
class Outcome:
    status: str
    reason: str | None = None
    request_id: int | None = None
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class InboundSettings:
    own_address: str
    auth_mode: str
    authserv_id: str | None
    upload_folder: str
    upload_max_bytes: int
    timezone: str

    @classmethod
    def from_config(cls, config) -> InboundSettings:
        mode = str(config.get("INBOUND_AUTH") or "header").lower()
        return cls(
            own_address=config.get("MAIL_FROM") or "servicedesk@localhost",
            auth_mode=mode if mode in inbound_rules.AUTH_MODES else "header",
            authserv_id=config.get("INBOUND_AUTHSERV_ID") or None,
            upload_folder=config["UPLOAD_FOLDER"],
            upload_max_bytes=int(config["UPLOAD_MAX_BYTES"]),
            timezone=config["PORTAL_TIMEZONE"],
        )


def settings() -> InboundSettings:
    return InboundSettings.from_config(current_app.config)


def _thread(session: Session, mail: ParsedMail, own_address: str) -> ServiceRequest | None:
    """The request a mail answers: by our Message-ID in In-Reply-To / References, else by the
    number in its subject."""
    domain = mail_ids.sender_domain(own_address)
    number = mail_ids.referenced_number(
        [mail.header("In-Reply-To"), mail.header("References")], domain
    ) or inbound_rules.number_in_subject(mail.subject)
    if number is None:
        return None
    return session.scalar(select(ServiceRequest).where(ServiceRequest.number == number))


def decide(
    session: Session,
    mail: ParsedMail,
    now: datetime,
    conf: InboundSettings,
    written: list[Attachment],
) -> Outcome:
    """What ``mail`` becomes (docs/product.md §9, in that order): machine mail ignored, the
    sender known and active, their authentication, then a reply or a new request. Files it
    stores are appended to ``written`` (removed again if the caller rolls back)."""
    headers = mail.header_map
    ignored = inbound_rules.ignore_reason(headers, conf.own_address)
    if ignored:
        return Outcome("ignored", ignored)
    sr = _thread(session, mail, conf.own_address)
    contact = find_by_email(session, mail.sender) if mail.sender else None
    if contact is None or contact.kind != "customer":
        return Outcome("triage", "unknown sender", sr.id if sr else None)
    if not contact.active:
        return Outcome("refused", "contact deactivated")
    problem = inbound_rules.auth_problem(headers, conf.auth_mode, conf.authserv_id)
    if problem:
        return Outcome("triage", problem)
    if sr is not None:
        if sr.organisation_id != contact.organisation_id:
            # a forged From or another organisation's number: never attached
            return Outcome("refused", "the request belongs to another organisation")
        return _reply(session, mail, contact, sr, now, conf, written)
    return _new_request(session, mail, contact, now, conf, written)


def _reply(session, mail, contact, sr, now, conf, written) -> Outcome:
    actor = Actor(contact.id)
    try:
        message = workflow.post_message(session, actor, contact, sr, mail.text or NO_TEXT, now)
    except TransitionError as exc:
        if exc.code == "not-allowed":
            # a colleague of the contact, where the organisation lets only the contact reply
            return Outcome("refused", "the sender may not reply on this request", sr.id)
        # a closed or cancelled request: a person decides (a new request, or nothing)
        return Outcome("triage", f"reply not accepted on a request that is {sr.status}", sr.id)
    detail = _attach(session, actor, mail, now, conf, written, request_id=sr.id,
                     message_id=message.id)  # fmt: skip
    detail["message_id"] = message.id
    return Outcome("message", None, sr.id, detail)


def _new_request(session, mail, contact, now, conf, written) -> Outcome:
    actor = Actor(contact.id)
    intake = sr_service.Intake(
        type=RequestType.CONSULTATION,
        proposed_urgency=Priority.P3,
        title=inbound_rules.title_from(mail.subject, mail.text, TITLE_MAX),
        description=mail.text or mail.subject or NO_TEXT,
    )
    try:
        sr = sr_service.submit(
            session, actor, contact, intake, now, conf.timezone, channel=Channel.EMAIL
        )
    except FieldError:  # a deactivated organisation gets no new request
        return Outcome("refused", "organisation deactivated")
    detail = _attach(session, actor, mail, now, conf, written, request_id=sr.id)
    auto_reply(session, contact, sr)
    return Outcome("request", None, sr.id, detail)


def request_for(session: Session, contact: Account, mail: ParsedMail, now, conf, written):
    """A new request for ``contact`` from ``mail`` (triage uses it too)."""
    return _new_request(session, mail, contact, now, conf, written)


def auto_reply(session: Session, contact: Account, sr: ServiceRequest) -> None:
    """Tell the sender the number of the request their mail became (once per request); the
    mail's Message-ID names the number, so their reply threads."""
    if not (contact.email and contact.active):
        return
    urls = current_app.url_map.bind("", script_name=current_app.config.get("APPLICATION_ROOT"))
    link = base_url() + urls.build("customer.request_detail", {"number": sr.number})
    mail = render_mail(
        "auto_reply",
        contact.locale,
        name=contact.name,
        number=sr.number,
        title=pii.redact(sr.title),
        link=link,
    )
    outbox.add(
        session,
        to_address=contact.email,
        subject=mail.subject,
        body_text=mail.text,
        body_html=mail.html,
        dedupe_key=f"inbound-auto-reply:{sr.id}",
        meta={"number": sr.number, "request_id": sr.id, "kind": "auto_reply"},
    )


def _attach(session, actor, mail, now, conf, written, **where) -> dict:
    """Each attachment through the portal's upload rules; a refused one is listed with why,
    the rest go in."""
    saved, refused = [], []
    for n, item in enumerate(mail.attachments):
        name = attachments.clean_filename(item.filename)
        if n >= attachments.MAX_FILES:
            refused.append({"name": name, "reason": "too many files"})
            continue
        try:
            row = attachments.save(
                session,
                actor,
                now,
                attachments.Upload(item.filename, io.BytesIO(item.content)),
                folder=conf.upload_folder,
                max_bytes=conf.upload_max_bytes,
                **where,
            )
        except attachments.AttachmentRefused as exc:
            refused.append({"name": name, "reason": f"{type(exc).__name__}: {exc}"[:300]})
            continue
        written.append(row)
        saved.append({"name": row.original_name, "attachment_id": row.id})
    detail: dict = {}
    if saved:
        detail["attachments"] = saved
    if refused:
        detail["refused_attachments"] = refused
    return detail


def discard_files(written: list[Attachment], conf: InboundSettings) -> None:
    if written:
        attachments.discard(written, os.fspath(conf.upload_folder))
