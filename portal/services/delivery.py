"""Delivery and acceptance (SD) on the database: the handler delivers, the customer signs pass or
fail, the handler countersigns. Each use case checks the lifecycle, writes its audit events and
flushes; the caller commits.

Integrity: the delivery's content hash is recomputed from the rows as they are now and compared
with the hash taken at delivery and with the hash each signature signed (portal.domain.delivery).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import delivery as rules
from portal.domain import lifecycle
from portal.models import (
    Account,
    Attachment,
    Delivery,
    DeliveryCriterion,
    DeliveryItem,
    HandlingRecord,
    ServiceRequest,
    Signature,
)
from portal.services import attachments, audit, handoffs
from portal.services import lifecycle as lifecycle_service
from portal.services.numbers import next_number

MAX_LINES = 50


class InvalidInput(ValueError):
    """Input the user can correct. ``problems``: field → code; ``details``: field → messages
    already worded for the user (record-quality refusals)."""

    def __init__(
        self, problems: dict[str, str] | None = None, details: dict[str, list[str]] | None = None
    ) -> None:
        self.problems = dict(problems or {})
        self.details = dict(details or {})
        super().__init__(f"{self.problems} {list(self.details)}")


def check_text(session: Session, text: str, locale: str | None) -> str | None:
    """The record-quality rule (no vague records) of portal.services.record_quality; one seam,
    so that deliverables are judged by the same configured phrase list as steps and results."""
    from portal.services import record_quality

    return record_quality.check_text(session, text, locale)


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass
class SignatureView:
    signature: Signature
    matches: bool  # the hash it signed is the content's hash now


@dataclass
class DeliveryView:
    delivery: Delivery
    delivered_by: str
    items: list[DeliveryItem] = field(default_factory=list)
    criteria: list[DeliveryCriterion] = field(default_factory=list)
    files: list[Attachment] = field(default_factory=list)
    signatures: dict[str, SignatureView] = field(default_factory=dict)
    integrity: rules.Integrity | None = None

    @property
    def pending(self) -> bool:
        return self.delivery.result is None


def _hash_of(dlv: Delivery, items, criteria, files) -> str:
    return rules.content_hash(
        dlv.service_item,
        [i.text for i in items],
        [c.text for c in criteria],
        dlv.demo_note,
        [f.sha256 for f in files],
    )


def load(session: Session, request_id: int, *, customer: bool = False) -> list[DeliveryView]:
    """Every delivery of a request, oldest first, with its items, criteria, files, signatures
    and integrity: five queries whatever their number (one when there is none)."""
    rows = session.execute(
        select(Delivery, Account.name)
        .join(Account, Account.id == Delivery.delivered_by_id)
        .where(Delivery.request_id == request_id)
        .order_by(Delivery.delivered_at, Delivery.id)
    ).all()
    if not rows:
        return []
    views = {dlv.id: DeliveryView(dlv, name) for dlv, name in rows}
    ids = list(views)
    for item in session.scalars(
        select(DeliveryItem)
        .where(DeliveryItem.delivery_id.in_(ids))
        .order_by(DeliveryItem.position, DeliveryItem.id)
    ):
        views[item.delivery_id].items.append(item)
    for crit in session.scalars(
        select(DeliveryCriterion)
        .where(DeliveryCriterion.delivery_id.in_(ids))
        .order_by(DeliveryCriterion.position, DeliveryCriterion.id)
    ):
        views[crit.delivery_id].criteria.append(crit)
    all_files: dict[int, list[Attachment]] = defaultdict(list)
    for att in session.scalars(
        select(Attachment)
        .where(Attachment.delivery_id.in_(ids))
        .order_by(Attachment.created_at, Attachment.id)
    ):
        all_files[att.delivery_id].append(att)
    signatures: dict[int, list[Signature]] = defaultdict(list)
    for sig in session.scalars(select(Signature).where(Signature.delivery_id.in_(ids))):
        signatures[sig.delivery_id].append(sig)
    for view in views.values():
        files = all_files[view.delivery.id]
        view.files = [f for f in files if not f.internal] if customer else files
        current = _hash_of(view.delivery, view.items, view.criteria, files)
        signed = {s.party: s.content_hash for s in signatures[view.delivery.id]}
        view.integrity = rules.verify(current, view.delivery.content_hash, signed)
        view.signatures = {
            s.party: SignatureView(s, s.content_hash == current)
            for s in signatures[view.delivery.id]
        }
    return list(views.values())


def verify(session: Session, delivery: Delivery) -> rules.Integrity:
    """Recompute one delivery's hash from its rows and compare it with the stored and signed ones."""
    items = session.scalars(
        select(DeliveryItem)
        .where(DeliveryItem.delivery_id == delivery.id)
        .order_by(DeliveryItem.position, DeliveryItem.id)
    ).all()
    criteria = session.scalars(
        select(DeliveryCriterion)
        .where(DeliveryCriterion.delivery_id == delivery.id)
        .order_by(DeliveryCriterion.position, DeliveryCriterion.id)
    ).all()
    files = session.scalars(
        select(Attachment)
        .where(Attachment.delivery_id == delivery.id)
        .order_by(Attachment.created_at, Attachment.id)
    ).all()
    signed = dict(
        session.execute(
            select(Signature.party, Signature.content_hash).where(
                Signature.delivery_id == delivery.id
            )
        ).all()
    )
    return rules.verify(_hash_of(delivery, items, criteria, files), delivery.content_hash, signed)


def latest(session: Session, request_id: int) -> Delivery | None:
    return session.scalar(
        select(Delivery)
        .where(Delivery.request_id == request_id)
        .order_by(Delivery.delivered_at.desc(), Delivery.id.desc())
        .limit(1)
    )


# ---------------------------------------------------------------------------------------------
# Delivering


def deliver(
    session: Session,
    actor: audit.Actor,
    account: Account,
    sr: ServiceRequest,
    now: datetime,
    timezone: str,
    *,
    service_item: str,
    items: list[str],
    criteria: list[str],
    demo_note: str = "",
    uploads: list[attachments.Upload] = (),  # type: ignore[assignment]
    folder: str,
    max_bytes: int,
    saved: list[Attachment] | None = None,
    locale: str | None = None,
) -> Delivery:
    """The handler delivers: in_progress → pending_acceptance, with a new SD number.

    Raises lifecycle.TransitionError, InvalidInput (missing or vague content) or
    attachments.AttachmentTooLarge (files already written are listed in ``saved`` for the
    caller to discard when it rolls back)."""
    caps = lifecycle_service.capacities(session, sr, account)
    lifecycle.check("deliver", sr.status, caps)
    service_item = (service_item or "").strip()
    items = [t.strip() for t in items if t and t.strip()]
    criteria = [t.strip() for t in criteria if t and t.strip()]
    problems: dict[str, str] = {}
    details: dict[str, list[str]] = {}
    if not service_item:
        problems["service_item"] = "missing"
    if not items:
        problems["items"] = "missing"
    elif len(items) > MAX_LINES:
        problems["items"] = "too-many"
    if not criteria:
        problems["criteria"] = "missing"
    elif len(criteria) > MAX_LINES:
        problems["criteria"] = "too-many"
    if "items" not in problems:
        refused = []
        for text in items:
            message = check_text(session, text, locale)
            if message:
                refused.append(f"“{text}”: {message}")
        if refused:
            details["items"] = refused
    if problems or details:
        raise InvalidInput(problems, details)

    previous = session.scalar(select(func.count()).where(Delivery.request_id == sr.id)) or 0
    lifecycle_service.apply(session, actor, caps, sr, "deliver", now)
    dlv = Delivery(
        number=next_number(session, "SD", now, timezone),
        request_id=sr.id,
        round=previous + 1,
        delivered_by_id=account.id,
        service_item=service_item[:200],
        demo_note=(demo_note or "").strip(),
        delivered_at=now,
        content_hash="",
    )
    session.add(dlv)
    session.flush()
    item_rows = [
        DeliveryItem(delivery_id=dlv.id, position=i, text=t) for i, t in enumerate(items, 1)
    ]
    crit_rows = [
        DeliveryCriterion(delivery_id=dlv.id, position=i, text=t) for i, t in enumerate(criteria, 1)
    ]
    session.add_all(item_rows + crit_rows)
    files: list[Attachment] = []
    for upload in uploads:
        att = attachments.save(
            session,
            actor,
            now,
            upload,
            request_id=sr.id,
            folder=folder,
            max_bytes=max_bytes,
            delivery_id=dlv.id,
        )
        files.append(att)
        if saved is not None:
            saved.append(att)
    dlv.content_hash = _hash_of(dlv, item_rows, crit_rows, files)
    sr.delivered_at = now
    handoffs.delivery_ready(session, sr, dlv)
    audit.record(
        session,
        actor,
        now,
        "delivery.delivered",
        "delivery",
        dlv.number,
        after={
            "request": sr.number,
            "round": dlv.round,
            "service_item": dlv.service_item,
            "items": items,
            "criteria": criteria,
            "files": [f.sha256 for f in files],
            "content_hash": dlv.content_hash,
        },
    )
    session.flush()
    return dlv


# ---------------------------------------------------------------------------------------------
# Signing


class ContentChanged(Exception):
    """The delivery's content is not what was delivered (or not what the signer was shown)."""


def _signature_input(typed_name: str | None, image: str | None) -> tuple[str, str | None, dict]:
    problems: dict[str, str] = {}
    name = rules.clean_typed_name(typed_name)
    if not name:
        problems["typed_name"] = "missing"
    checked = None
    try:
        checked = rules.check_signature_image(image)
    except rules.SignatureImageError as exc:
        problems["signature"] = exc.code
    return name, checked, problems


def accept(
    session: Session,
    actor: audit.Actor,
    account: Account,
    sr: ServiceRequest,
    now: datetime,
    *,
    result: str | None,
    met_ids: set[int],
    other_unmet: str = "",
    rectification: str = "",
    typed_name: str | None,
    image: str | None = None,
    shown_hash: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> Delivery:
    """The customer signs the pending delivery pass (→ completed) or fail (→ in_progress,
    rework count +1). The typed name signs; a drawn signature is added when there is one.

    Raises lifecycle.TransitionError, InvalidInput, or ContentChanged when the content differs
    from what was delivered or from the hash the signer was shown."""
    action = "accept_fail" if result == rules.FAIL else "accept_pass"
    caps = lifecycle_service.capacities(session, sr, account)
    lifecycle.check(action, sr.status, caps)
    lifecycle_service.require_principal(sr, account, action)
    dlv = latest(session, sr.id)
    if dlv is None or dlv.result is not None:
        raise lifecycle.TransitionError("wrong-state", action, sr.status)
    criteria = session.scalars(
        select(DeliveryCriterion)
        .where(DeliveryCriterion.delivery_id == dlv.id)
        .order_by(DeliveryCriterion.position, DeliveryCriterion.id)
    ).all()
    integrity = verify(session, dlv)
    if integrity.changed_since_delivery or (shown_hash and shown_hash != integrity.current_hash):
        raise ContentChanged(dlv.number)

    name, image, problems = _signature_input(typed_name, image)
    decision = None
    try:
        decision = rules.decide(
            result, [(c.id, c.text) for c in criteria], met_ids, other_unmet, rectification
        )
    except rules.DecisionError as exc:
        problems.update(exc.problems)
    if problems or decision is None:
        raise InvalidInput(problems)

    lifecycle_service.apply(
        session, actor, caps, sr, action, now, {"delivery": dlv.number, "result": decision.result}
    )
    for crit in criteria:
        crit.met = decision.met[crit.id]
    dlv.result = decision.result
    dlv.unmet_items = decision.unmet_items
    dlv.rectification = decision.rectification
    dlv.decided_at = now
    sig = Signature(
        delivery_id=dlv.id,
        party=rules.CUSTOMER,
        signer_id=account.id,
        typed_name=name,
        image_png=image,
        signed_at=now,
        ip=(ip or "")[:64] or None,
        user_agent=(user_agent or "")[:300] or None,
        content_hash=integrity.current_hash,
    )
    session.add(sig)
    handoffs.acceptance_decided(session, sr, dlv, account.id)
    if decision.result == rules.FAIL:
        sr.rework_count += 1
    else:
        sr.completed_at = now
        # the handling record's customer confirmation (客户确认签字) is this signature
        record = session.scalar(select(HandlingRecord).where(HandlingRecord.request_id == sr.id))
        if record is not None:
            record.customer_confirmed_name = name
            record.customer_confirmed_at = now
    audit.record(
        session,
        actor,
        now,
        "delivery.signed",
        "delivery",
        dlv.number,
        after={
            "party": rules.CUSTOMER,
            "result": decision.result,
            "met": {str(k): v for k, v in decision.met.items()},
            "unmet_items": decision.unmet_items,
            "rectification": decision.rectification,
            "typed_name": name,
            "drawn": image is not None,
            "content_hash": integrity.current_hash,
        },
    )
    session.flush()
    return dlv


def countersign(
    session: Session,
    actor: audit.Actor,
    account: Account,
    sr: ServiceRequest,
    now: datetime,
    *,
    typed_name: str | None,
    image: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> Delivery:
    """The handler countersigns the accepted delivery: both signatures on one form."""
    caps = lifecycle_service.capacities(session, sr, account)
    lifecycle.check("countersign", sr.status, caps)
    dlv = latest(session, sr.id)
    if dlv is None or dlv.result != rules.PASS:
        raise lifecycle.TransitionError("wrong-state", "countersign", sr.status)
    already = session.scalar(
        select(Signature.id).where(
            Signature.delivery_id == dlv.id, Signature.party == rules.HANDLER
        )
    )
    if already is not None:
        raise InvalidInput({"form": "already-signed"})
    integrity = verify(session, dlv)
    if not integrity.intact:
        raise ContentChanged(dlv.number)
    name, image, problems = _signature_input(typed_name, image)
    if problems:
        raise InvalidInput(problems)
    lifecycle_service.apply(session, actor, caps, sr, "countersign", now, {"delivery": dlv.number})
    session.add(
        Signature(
            delivery_id=dlv.id,
            party=rules.HANDLER,
            signer_id=account.id,
            typed_name=name,
            image_png=image,
            signed_at=now,
            ip=(ip or "")[:64] or None,
            user_agent=(user_agent or "")[:300] or None,
            content_hash=integrity.current_hash,
        )
    )
    audit.record(
        session,
        actor,
        now,
        "delivery.signed",
        "delivery",
        dlv.number,
        after={
            "party": rules.HANDLER,
            "typed_name": name,
            "drawn": image is not None,
            "content_hash": integrity.current_hash,
        },
    )
    session.flush()
    return dlv
