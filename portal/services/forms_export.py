"""The four forms of the template (SR, IR, SD, FB) as printable tables and XLSX workbooks.

Each form is built once, as the reader may see it, into a ``PrintableForm``: the template's
columns in the template's order (section 三) and one row per record. The printable page and the
XLSX export both render that one object, so they hold the same fields. Contact data goes through
portal.presentation.presenters (masked unless the reader may see it); internal content (internal files, steps
hidden from the customer, internal notes) is never on a form, whoever prints it: the forms are
the documents both parties sign and keep.

Column titles are lazy translations: they become text in the reader's language when rendered.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from portal.domain import delivery as delivery_rules
from portal.models import (
    Account,
    Attachment,
    HandlingRecord,
    HandlingStep,
    Organisation,
    ServiceRequest,
)
from portal.presentation import presenters
from portal.presentation.labels import STATUS_LABELS, TYPE_LABELS
from portal.services import catalogue
from portal.services import delivery as delivery_service
from portal.services import feedback as feedback_service

FORMS = ("sr", "ir", "sd", "fb")

TITLES = {
    "sr": _l("Service request form"),
    "ir": _l("Handling record"),
    "sd": _l("Delivery acceptance form"),
    "fb": _l("Customer feedback form"),
}

# the template's columns, in its order and in its words (seed/template.zh.txt, 三)
CONTACT_MASKED = _l("Contact details (masked)")  # 联系方式(脱敏), as the template heads it
CONTACT_FULL = _l("Contact details")  # over contact details the reader sees in full
COLUMNS = {
    "sr": (
        _l("Form number"),
        _l("Customer name"),
        _l("Contact"),
        CONTACT_MASKED,
        _l("Description"),
        _l("Request type"),
        _l("Urgency"),
        _l("Attachment details"),
        _l("Submitted at"),
        _l("Current status"),
        _l("Handler"),
    ),
    "ir": (
        _l("Record number"),
        _l("Service request"),
        _l("Handler"),
        _l("Steps (time + operation)"),
        _l("Hours spent"),
        _l("Temporary workaround"),
        _l("Final result"),
        _l("Customer sign-off"),
    ),
    "sd": (
        _l("Delivery number"),
        _l("Customer name"),
        _l("Service item"),
        _l("Deliverables"),
        _l("Acceptance criteria"),
        _l("Result (pass / fail)"),
        _l("Customer signature"),
        _l("Date"),
    ),
    "fb": (
        _l("Feedback number"),
        _l("Service request"),
        _l("Customer name"),
        _l("Scores (response timeliness / handling effect / service attitude)"),
        _l("Satisfaction (1–5, 5 best)"),
        _l("Suggestions"),
        _l("Improvement measures"),
    ),
}


@dataclass(frozen=True)
class Lines:
    """A cell holding a list: deliverables, criteria, steps."""

    items: tuple[str, ...]
    numbered: bool = False

    def text(self) -> str:
        if self.numbered:
            return "\n".join(f"{i}. {t}" for i, t in enumerate(self.items, 1))
        return "\n".join(self.items)


Value = str | Lines


@dataclass
class SignatureBlock:
    party: str  # customer / handler
    name: str  # as this reader may see it
    image: str | None  # the drawn signature (a PNG data URL) when shown to this reader
    drawn: bool
    signed_at: str
    content_hash: str
    matches: bool  # signed the content as it is now


@dataclass
class DeliveryBlock:
    number: str
    round: int
    content_hash: str  # taken at delivery
    current_hash: str  # recomputed now
    changed_since_delivery: bool
    changed_after_signing: bool
    demo_note: str
    signatures: dict[str, SignatureBlock] = field(default_factory=dict)


@dataclass
class PrintableForm:
    form: str
    number: str  # the request's SR number
    title: object  # lazy text
    columns: tuple
    rows: list[list[Value]]
    deliveries: list[DeliveryBlock] = field(default_factory=list)
    timezone: str = "UTC"

    @property
    def empty(self) -> bool:
        return not self.rows


def _type_and_category(session: Session, sr: ServiceRequest) -> str:
    """The request's type, and its category when it has one, in the reader's language."""
    label = str(TYPE_LABELS.get(sr.type, sr.type))
    category = catalogue.category_name(session, sr.type, sr.category, str(get_locale() or "zh_CN"))
    return f"{label} · {category}" if category else label


def _fmt(value: datetime | None, tz: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(tz).strftime(fmt) if value else ""


def _hours(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text


def build(
    session: Session,
    sr: ServiceRequest,
    form: str,
    viewer: Account,
    *,
    access: presenters.Access,
    timezone: str,
) -> PrintableForm:
    """The form ``form`` (sr / ir / sd / fb) of request ``sr`` as ``viewer`` may see it
    (``access``: portal.services.privacy.access_for). The caller has checked that the viewer
    may see the request."""
    if form not in FORMS:
        raise ValueError(form)
    tz = ZoneInfo(timezone)
    customer_side = viewer.kind == "customer"
    contact = presenters.contact_for(sr, access)

    def text(value: str | None) -> str:
        # free text: PII redacted for people outside the request
        return presenters.free_text(value, access.insider)

    # staff names: in full to staff, masked to customers (as on the customer's pages)
    staff_name = lambda n: presenters.person_name(n, full=not customer_side)  # noqa: E731
    # the customer's own name (a signature, a confirmation) is contact data
    customer_name = lambda n: presenters.person_name(n, full=contact.full)  # noqa: E731
    handler = aliased(Account)
    org_name, handler_name = session.execute(
        select(Organisation.name, handler.name)
        .select_from(ServiceRequest)
        .join(Organisation, Organisation.id == ServiceRequest.organisation_id)
        .outerjoin(handler, handler.id == ServiceRequest.handler_id)
        .where(ServiceRequest.id == sr.id)
    ).one()
    columns = COLUMNS[form]
    if contact.full:
        # "(masked)" would be untrue over contact details this reader sees in full
        columns = tuple(CONTACT_FULL if c is CONTACT_MASKED else c for c in columns)
    doc = PrintableForm(form, sr.number, TITLES[form], columns, [], timezone=timezone)

    if form == "sr":
        files = session.scalars(
            select(Attachment.original_name)
            .where(
                Attachment.request_id == sr.id,
                Attachment.internal.is_(False),
                Attachment.message_id.is_(None),
                Attachment.step_id.is_(None),
                Attachment.delivery_id.is_(None),
            )
            .order_by(Attachment.created_at, Attachment.id)
        ).all()
        doc.rows.append(
            [
                sr.number,
                org_name,
                contact.name,
                contact.phone or contact.email,
                text(sr.description),
                _type_and_category(session, sr),
                sr.priority or sr.proposed_urgency,
                Lines(tuple(files)),
                _fmt(sr.submitted_at, tz),
                str(STATUS_LABELS.get(sr.status, sr.status)),
                staff_name(handler_name) if handler_name else "",
            ]
        )

    elif form == "ir":
        record = session.scalar(select(HandlingRecord).where(HandlingRecord.request_id == sr.id))
        if record is not None:
            rows = session.execute(
                select(
                    HandlingStep.occurred_at,
                    HandlingStep.operation,
                    HandlingStep.hours,
                    HandlingStep.visible_to_customer,
                )
                .where(HandlingStep.record_id == record.id)
                .order_by(HandlingStep.occurred_at, HandlingStep.id)
            ).all()
            first_day = _fmt(rows[0].occurred_at, tz, "%Y-%m-%d") if rows else ""
            steps = []
            for at, operation, _step_hours, visible in rows:  # noqa: B007
                if not visible:
                    continue
                same_day = _fmt(at, tz, "%Y-%m-%d") == first_day
                steps.append(
                    f"{_fmt(at, tz, '%H:%M' if same_day else '%Y-%m-%d %H:%M')} {text(operation)}"
                )
            total = sum((r.hours for r in rows), Decimal("0"))
            confirmation = ""
            if record.customer_confirmed_at:
                confirmation = (
                    f"{customer_name(record.customer_confirmed_name)}"
                    f" ({_fmt(record.customer_confirmed_at, tz)})"
                )
            record_handler = handler_name
            if record.handler_id and record.handler_id != sr.handler_id:
                record_handler = session.scalar(
                    select(Account.name).where(Account.id == record.handler_id)
                )
            doc.rows.append(
                [
                    record.number,
                    sr.number,
                    staff_name(record_handler) if record_handler else "",
                    Lines(tuple(steps)),
                    _hours(total),
                    text(record.workaround),
                    text(record.final_result),
                    confirmation,
                ]
            )

    elif form == "sd":
        for view in delivery_service.load(session, sr.id, customer=True):
            dlv = view.delivery
            result: Value = ""
            if dlv.result == delivery_rules.PASS:
                result = str(_l("Pass"))
            elif dlv.result == delivery_rules.FAIL:
                result = Lines(
                    (
                        str(_l("Fail")),
                        str(
                            _l(
                                "Unmet items: %(items)s",
                                items=text(dlv.unmet_items).replace("\n", "; "),
                            )
                        ),
                        str(_l("Rectification asked for: %(text)s", text=text(dlv.rectification))),
                    )
                )
            else:
                result = str(_l("Awaiting acceptance"))
            customer_sig = view.signatures.get(delivery_rules.CUSTOMER)
            block = DeliveryBlock(
                number=dlv.number,
                round=dlv.round,
                content_hash=dlv.content_hash,
                current_hash=view.integrity.current_hash,
                changed_since_delivery=view.integrity.changed_since_delivery,
                changed_after_signing=view.integrity.changed_after_signing,
                demo_note=text(dlv.demo_note),
            )
            for party, sv in view.signatures.items():
                sig = sv.signature
                own = party == delivery_rules.CUSTOMER
                may_see = contact.full if own else True
                block.signatures[party] = SignatureBlock(
                    party=party,
                    name=presenters.signer_name(
                        sig, contact_full=contact.full, staff_full=not customer_side
                    ),
                    image=sig.image_png if may_see else None,
                    drawn=bool(sig.image_png),
                    signed_at=_fmt(sig.signed_at, tz),
                    content_hash=sig.content_hash,
                    matches=sv.matches,
                )
            doc.deliveries.append(block)
            doc.rows.append(
                [
                    dlv.number,
                    org_name,
                    text(dlv.service_item),
                    Lines(tuple(text(i.text) for i in view.items), numbered=True),
                    Lines(tuple(text(c.text) for c in view.criteria), numbered=True),
                    result,
                    block.signatures[delivery_rules.CUSTOMER].name if customer_sig else "",
                    _fmt(dlv.decided_at or dlv.delivered_at, tz),
                ]
            )

    elif form == "fb":
        fb_view = feedback_service.load(session, sr.id)
        if fb_view is not None:
            fb = fb_view.feedback
            measures = tuple(
                str(
                    _l(
                        "%(measure)s (owner: %(owner)s; deadline: %(deadline)s)",
                        measure=text(m.measure),
                        owner=staff_name(owner),
                        deadline=m.deadline.isoformat(),
                    )
                )
                for m, owner in fb_view.measures
            )
            doc.rows.append(
                [
                    fb.number,
                    sr.number,
                    org_name,
                    Lines(
                        (
                            str(_l("Response timeliness: %(n)s", n=fb.score_response)),
                            str(_l("Handling effect: %(n)s", n=fb.score_effect)),
                            str(_l("Service attitude: %(n)s", n=fb.score_attitude)),
                        )
                    ),
                    f"{fb.mean_score:.1f}",
                    text(fb.suggestions),
                    Lines(measures),
                ]
            )
    return doc


def cell_text(value: Value) -> str:
    return value.text() if isinstance(value, Lines) else str(value or "")


# a spreadsheet reads text that begins with one of these as a formula when it is typed or pasted
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(ws, value: str):
    """A cell holding ``value`` as text, whatever it begins with. openpyxl stores text that
    begins with "=" as a formula and "#N/A" and the like as errors: a customer's
    ``=HYPERLINK(...)`` would be a live link in Excel. Text that would open a formula is also
    marked quote-prefixed, so that Excel keeps it text when the cell is edited. Characters XML
    cannot hold (control characters other than tab and line ends) are left out."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell

    cell = Cell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    if value.startswith(FORMULA_STARTS):
        cell.quotePrefix = True
    return cell


text_cell = _text_cell  # the reports' exports write their text through it too


def _append(ws, values: list[str]) -> None:
    """Append one row of text: every cell of every export is written through here."""
    ws.append([_text_cell(ws, v) for v in values])


def to_xlsx(doc: PrintableForm) -> bytes:
    """The form as an XLSX workbook: the template's columns in row 1, one row per record; for
    SD, the signatures and content hashes below the table. Every cell is text, as printed."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = doc.form.upper()
    wb.properties.title = f"{doc.title} {doc.number}"
    _append(ws, [str(c) for c in doc.columns])
    for c in ws[1]:
        c.font = Font(bold=True)
    for row in doc.rows:
        _append(ws, [cell_text(v) for v in row])
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in ws.iter_rows(min_row=2):
        for c in row:
            c.alignment = wrap
    for i, _col in enumerate(doc.columns):
        ws.column_dimensions[ws.cell(row=1, column=i + 1).column_letter].width = 24
    if doc.deliveries:
        _append(ws, [])
        _append(ws, [str(_l("Signatures and content hashes"))])
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
        _append(
            ws,
            [
                str(_l("Delivery number")),
                str(_l("Party")),
                str(_l("Typed name")),
                str(_l("Drawn signature")),
                str(_l("Signed at")),
                str(_l("Content hash (SHA-256)")),
                str(_l("Content unchanged since signing")),
            ],
        )
        for block in doc.deliveries:
            _append(
                ws,
                [
                    block.number,
                    str(_l("Delivered")),
                    "",
                    "",
                    "",
                    block.content_hash,
                    str(_l("No")) if block.changed_since_delivery else str(_l("Yes")),
                ],
            )
            for party in (delivery_rules.CUSTOMER, delivery_rules.HANDLER):
                sig = block.signatures.get(party)
                if sig is None:
                    continue
                _append(
                    ws,
                    [
                        block.number,
                        str(PARTY_LABELS[party]),
                        sig.name,
                        str(_l("Yes")) if sig.drawn else str(_l("No")),
                        sig.signed_at,
                        sig.content_hash,
                        str(_l("Yes")) if sig.matches else str(_l("No")),
                    ],
                )
    _append(ws, [])
    _append(ws, [str(_l("Times in %(zone)s", zone=doc.timezone))])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


PARTY_LABELS = {
    delivery_rules.CUSTOMER: _l("Customer"),
    delivery_rules.HANDLER: _l("Handler"),
}
