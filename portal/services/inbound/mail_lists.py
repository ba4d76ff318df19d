"""The staff's mail triage pages (docs/product.md §9): the list of inbound mails by tab
(waiting for a decision, could not read, handled), one mail with what it says, and the count
for the nav's badge. Builders only read; the decisions are in ``triage``.

Who sees what: the sender of a WAITING mail (triage, could not read) is shown whole to the
roles that triage (they must decide who it is); a handled mail's sender is masked, since it may
be a contact of a request the viewer is not on. Subjects and text are shown as the portal shows
a customer's text to someone not on the request: PII redacted (presenters.free_text)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain.ids import parse_id
from portal.models import InboundMail, Organisation, ServiceRequest
from portal.presentation import mail_words, presenters

from . import parse

PAGE_SIZE = 50
BADGE_CAP = 99
# tab → the statuses it lists
TABS = {
    "waiting": ("triage",),
    "unreadable": ("unreadable",),
    "handled": ("request", "discarded", "ignored", "refused"),
}
WAITING_STATUSES = frozenset({"triage", "unreadable"})


def parse_tab(raw: str | None) -> str:
    return raw if raw in TABS else "waiting"


def parse_cursor(raw: str | None) -> int | None:
    return parse_id(raw)


def _sender(address: str | None, waiting: bool) -> str:
    if not address:
        return ""
    return address if waiting else presenters.contact_view(None, None, address, False).email


@dataclass(frozen=True)
class MailRow:
    id: int
    received_at: datetime
    mailbox: str
    sender: str  # whole while waiting, masked once handled
    subject: str  # PII redacted
    status: str
    outcome: object  # a lazy sentence
    reason: object  # a lazy sentence ("" when none)
    request_number: str | None
    triaged: bool  # a person made it a request


@dataclass(frozen=True)
class MailPage:
    tab: str
    rows: list[MailRow]
    before: int | None  # the cursor this page was read from (None: the newest)
    older: int | None  # the cursor of the next, older page

    @property
    def empty(self) -> bool:
        return not self.rows


def _row(mail, number: str | None) -> MailRow:
    """``mail``: an InboundMail or a row of its columns."""
    waiting = mail.status in WAITING_STATUSES
    return MailRow(
        id=mail.id,
        received_at=mail.received_at,
        mailbox=mail.mailbox,
        sender=_sender(mail.sender, waiting),
        subject=presenters.free_text(mail.subject, insider=False),
        status=mail.status,
        outcome=mail_words.outcome(mail.status),
        reason=mail_words.reason_sentence(mail.reason),
        request_number=number,
        triaged="triaged_to" in (mail.detail or {}),
    )


def _columns():
    # the raw mail is not read for a list
    return (
        InboundMail.id,
        InboundMail.received_at,
        InboundMail.mailbox,
        InboundMail.sender,
        InboundMail.subject,
        InboundMail.status,
        InboundMail.reason,
        InboundMail.detail,
        ServiceRequest.number,
    )


def mail_page(session: Session, tab: str = "waiting", before: int | None = None) -> MailPage:
    """One page of a tab, newest first (by id: the order mails were taken), keyset paged;
    one query."""
    tab = parse_tab(tab)
    query = (
        select(*_columns())
        .outerjoin(ServiceRequest, ServiceRequest.id == InboundMail.request_id)
        .where(InboundMail.status.in_(TABS[tab]))
        .order_by(InboundMail.id.desc())
        .limit(PAGE_SIZE + 1)
    )
    if before is not None:
        query = query.where(InboundMail.id < before)
    found = session.execute(query).all()
    rows = [_row(r, r.number) for r in found[:PAGE_SIZE]]
    older = rows[-1].id if len(found) > PAGE_SIZE else None
    return MailPage(tab=tab, rows=rows, before=before, older=older)


def waiting_count(session: Session, cap: int = BADGE_CAP) -> int:
    """Mails waiting for a decision, counted up to ``cap`` + 1 (one query on the status index)."""
    return session.scalar(
        select(func.count()).select_from(
            select(InboundMail.id).where(InboundMail.status == "triage").limit(cap + 1).subquery()
        )
    )


# --- one mail --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileLine:
    name: str
    size: int | None = None
    refused: object = ""  # a lazy sentence when the upload rules refused it


@dataclass(frozen=True)
class OrganisationChoice:
    id: int
    name: str
    code: str


@dataclass(frozen=True)
class MailDetail:
    row: MailRow
    message_id: str | None
    size: int
    processed_at: datetime | None
    to: str = ""
    date: str = ""
    text: str = ""
    html: str | None = None
    files: list[FileLine] = field(default_factory=list)
    readable: bool = True  # the raw mail could be read again for this page

    @property
    def waiting(self) -> bool:
        return self.row.status in WAITING_STATUSES

    @property
    def may_become_request(self) -> bool:
        return self.row.status == "triage"


def get_mail(session: Session, mail_id: int, *, lock: bool = False) -> InboundMail | None:
    """The mail to decide on; ``lock``: held until the transaction ends (two agents deciding
    at once: the second finds it handled)."""
    return session.get(InboundMail, mail_id, with_for_update=lock or None)


def mail_detail(session: Session, mail_id: int) -> MailDetail | None:
    """One mail as the triage page shows it: two queries (the mail, its request's number). A
    waiting mail is read again from its raw bytes (text, safe HTML, attachments); a handled one
    has no raw mail left: its request holds what it said."""
    mail = session.get(InboundMail, mail_id)
    if mail is None:
        return None
    number = None
    if mail.request_id is not None:
        number = session.scalar(
            select(ServiceRequest.number).where(ServiceRequest.id == mail.request_id)
        )
    row = _row(mail, number)
    base = {
        "row": row,
        "message_id": mail.message_id,
        "size": mail.size,
        "processed_at": mail.processed_at,
    }
    if mail.status not in WAITING_STATUSES or not mail.raw:
        return MailDetail(**base, files=_recorded_files(mail.detail), readable=False)
    try:
        parsed = parse.parse(mail.raw, int(current_app.config["INBOUND_MAX_BYTES"]))
    except parse.Unusable:
        return MailDetail(**base, readable=False)
    html = (mail.detail or {}).get("html") or parsed.html
    return MailDetail(
        **base,
        to=presenters.free_text(parsed.header("To"), insider=False),
        date=parsed.header("Date") or "",
        text=presenters.free_text(parsed.text, insider=False),
        # sanitised by nh3 when the mail was read (parse.sanitise_html), then redacted
        html=Markup(presenters.free_text(html, insider=False)) if html else None,  # nosec B704
        files=[FileLine(a.filename, len(a.content)) for a in parsed.attachments],
    )


def _recorded_files(detail: dict | None) -> list[FileLine]:
    detail = detail or {}
    kept = [FileLine(f.get("name") or "") for f in detail.get("attachments") or []]
    refused = [
        FileLine(f.get("name") or "", refused=mail_words.REFUSED_FILE)
        for f in detail.get("refused_attachments") or []
    ]
    return kept + refused


def request_number(session: Session, request_id: int) -> str:
    """The number of the request a decision made (for the page that follows)."""
    return session.scalar(select(ServiceRequest.number).where(ServiceRequest.id == request_id))


def organisation_choices(session: Session) -> list[OrganisationChoice]:
    """The active organisations a new contact may join (one query)."""
    rows = session.execute(
        select(Organisation.id, Organisation.name, Organisation.code)
        .where(Organisation.active.is_(True))
        .order_by(Organisation.name, Organisation.id)
    ).all()
    return [OrganisationChoice(*r) for r in rows]
