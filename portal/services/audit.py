"""The audit log (docs/product.md §6): append-only, hash-chained, written in the caller's transaction.

Each row's ``hash`` is SHA-256 over the canonical JSON of its fields and ``prev_hash`` (the hash
of the row before it). Ids are given here, gapless (the last id + 1), so a removed row shows as
a gap as well as a broken link. Writers are serialised while they read the last row: SQLite's
transactions are BEGIN IMMEDIATE already; on PostgreSQL a transaction-scoped advisory lock is
taken first. The application refuses to update or delete rows (the session guards below); on
PostgreSQL a trigger refuses too (migration 0003). ``portal audit verify`` walks the chain.

Removing the newest rows cannot be seen from the chain alone; everything before the last row is
covered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, event, select, text
from sqlalchemy.orm import Session, aliased

from portal.domain.ids import parse_id
from portal.models import (
    Account,
    Attachment,
    AuditEvent,
    Calendar,
    Category,
    Delivery,
    Department,
    Feedback,
    GroupBot,
    ImprovementMeasure,
    Mailbox,
    Organisation,
    ServicePlan,
    ServiceRequest,
    Skill,
    VaguePhrase,
)

# pg_advisory_xact_lock key of the audit chain (any constant the application does not reuse)
CHAIN_LOCK = 7_305_112_001
TRIGGER = "audit_events_append_only"
_DISABLE_TRIGGER = text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
_ENABLE_TRIGGER = text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
_UNGUARDED = "audit_unguarded"


@dataclass(frozen=True)
class Actor:
    """Who acts, and from where: passed into every service."""

    account_id: int | None
    ip: str | None = None
    http_request_id: str | None = None


SYSTEM = Actor(account_id=None)


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete audit rows."""


def _normalise(data: dict | None) -> dict | None:
    """The JSON the database will give back (string keys; dates and decimals as text), so the
    hash computed now is the hash recomputed from the stored row later."""
    if data is None:
        return None
    return json.loads(json.dumps(data, default=str, ensure_ascii=False))


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(row: AuditEvent) -> bytes:
    fields = {
        "id": row.id,
        "occurred_at": _time(row.occurred_at),
        "actor_id": row.actor_id,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "before": row.before,
        "after": row.after,
        "ip": row.ip,
        "http_request_id": row.http_request_id,
        "prev_hash": row.prev_hash,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def row_hash(row: AuditEvent) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})


def record(
    session: Session,
    actor: Actor,
    now: datetime,
    action: str,
    obj_type: str,
    obj_id: object,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    _lock_chain(session)
    last = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    # rows of this transaction not flushed yet (record() may run inside a flush hook)
    pending = [o for o in session.new if isinstance(o, AuditEvent) and o.id is not None]
    if pending:
        newest = max(pending, key=lambda o: o.id)
        if last is None or newest.id > last.id:
            last = newest
    event_ = AuditEvent(
        id=(last.id + 1) if last else 1,
        occurred_at=now.astimezone(UTC),
        actor_id=actor.account_id,
        action=action,
        object_type=obj_type,
        object_id=str(obj_id)[:40],
        before=_normalise(before),
        after=_normalise(after),
        ip=(actor.ip or None) and actor.ip[:64],
        http_request_id=(actor.http_request_id or None) and actor.http_request_id[:40],
        prev_hash=last.hash if last else None,
    )
    event_.hash = row_hash(event_)
    session.add(event_)
    # written now, so that any other session on this database reads it as the last row; inside a
    # flush (a flush hook recording an event) it goes out with that flush
    if not getattr(session, "_flushing", False):
        session.flush()
    return event_


# --- verification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    row_id: int
    kind: str  # "changed", "removed", "relinked"
    detail: str


def verify(session: Session, batch: int = 2000) -> Problem | None:
    """The first row that was changed or removed, or None when the chain is whole."""
    prev_id: int | None = None
    prev_hash: str | None = None
    after_id = 0
    while True:
        rows = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.id > after_id)
                .order_by(AuditEvent.id)
                .limit(batch)
                .execution_options(populate_existing=True)
            )
        )
        if not rows:
            return None
        for row in rows:
            expected_id = 1 if prev_id is None else prev_id + 1
            if row.id != expected_id:
                first = expected_id
                missing = f"{first}" if row.id - 1 == first else f"{first}–{row.id - 1}"
                return Problem(first, "removed", f"row(s) {missing} missing before row {row.id}")
            if row.prev_hash != prev_hash:
                return Problem(
                    row.id, "relinked", "its prev_hash is not the hash of the row before"
                )
            if row.hash != row_hash(row):
                return Problem(row.id, "changed", "its content does not match its hash")
            prev_id, prev_hash = row.id, row.hash
            session.expunge(row)  # a long log is walked in constant memory
        after_id = rows[-1].id


# --- the audit page ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    """What the audit page is narrowed to. ``action`` is one action, or a prefix ending with a
    dot (``contact.``: every contact event); ``actor`` part of a staff member's name; ``until``
    is exclusive."""

    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditRow:
    """One event with the names the page says it with (raw: the presentation masks contacts)."""

    event: AuditEvent
    actor_name: str | None
    actor_is_contact: bool
    object_label: str | None = None
    object_label_en: str | None = None
    request_number: str | None = None
    object_is_contact: bool = False


@dataclass(frozen=True)
class _Label:
    label: str | None
    label_en: str | None = None
    request_number: str | None = None
    contact: bool = False


def _ints(ids: set[str]) -> list[int]:
    return [n for n in map(parse_id, ids) if n is not None]


def _accounts(session: Session, ids: set[str]) -> dict[str, _Label]:
    rows = session.execute(
        select(Account.id, Account.name, Account.kind).where(Account.id.in_(_ints(ids)))
    )
    return {str(i): _Label(name, contact=kind == "customer") for i, name, kind in rows}


def _named(model, *, bilingual: bool = False, column: str = "name"):
    def load(session: Session, ids: set[str]) -> dict[str, _Label]:
        if bilingual:
            cols = (model.id, model.name_zh, model.name_en)
        else:
            cols = (model.id, getattr(model, column), getattr(model, column))
        rows = session.execute(select(*cols).where(model.id.in_(_ints(ids))))
        return {str(i): _Label(zh, en) for i, zh, en in rows}

    return load


def _attachments(session: Session, ids: set[str]) -> dict[str, _Label]:
    rows = session.execute(
        select(Attachment.id, Attachment.original_name, ServiceRequest.number)
        .join(ServiceRequest, ServiceRequest.id == Attachment.request_id)
        .where(Attachment.id.in_(_ints(ids)))
    )
    return {str(i): _Label(name, request_number=number) for i, name, number in rows}


def _numbered(model):
    def load(session: Session, ids: set[str]) -> dict[str, _Label]:
        rows = session.execute(
            select(model.number, ServiceRequest.number)
            .join(ServiceRequest, ServiceRequest.id == model.request_id)
            .where(model.number.in_(ids))
        )
        return {own: _Label(own, request_number=number) for own, number in rows}

    return load


def _measures(session: Session, ids: set[str]) -> dict[str, _Label]:
    rows = session.execute(
        select(ImprovementMeasure.id, ImprovementMeasure.measure, ServiceRequest.number)
        .outerjoin(Feedback, Feedback.id == ImprovementMeasure.feedback_id)  # None: a meeting's
        .outerjoin(ServiceRequest, ServiceRequest.id == Feedback.request_id)
        .where(ImprovementMeasure.id.in_(_ints(ids)))
    )
    return {str(i): _Label(text[:60], request_number=number) for i, text, number in rows}


# how each type of object is named: one query per type present on a page, whatever its length
LABELS = {
    "organisation": _named(Organisation),
    "contact": _accounts,
    "staff": _accounts,
    "account": _accounts,
    "department": _named(Department, bilingual=True),
    "category": _named(Category, bilingual=True),
    "skill": _named(Skill, bilingual=True),
    "vague_phrase": _named(VaguePhrase, column="phrase"),
    "calendar": _named(Calendar),
    "mailbox": _named(Mailbox),
    "attachment": _attachments,
    "delivery": _numbered(Delivery),
    "feedback": _numbered(Feedback),
    "improvement_measure": _measures,
    "group_bot": _named(GroupBot),
    "service_plan": _named(ServicePlan, column="title"),
}


def _where(filters: AuditFilters) -> list:
    where = []
    if filters.action:
        if filters.action.endswith("."):
            where.append(AuditEvent.action.startswith(filters.action, autoescape=True))
        else:
            where.append(AuditEvent.action == filters.action)
    if filters.object_type:
        where.append(AuditEvent.object_type == filters.object_type)
    if filters.object_id:
        where.append(AuditEvent.object_id == filters.object_id)
    if filters.actor:
        # staff names only: a customer's name is contact data, masked on the page
        named = select(Account.id).where(
            Account.kind == "staff",
            Account.name.icontains(filters.actor, autoescape=True),
        )
        where.append(AuditEvent.actor_id.in_(named))
    if filters.since:
        where.append(AuditEvent.occurred_at >= filters.since)
    if filters.until:
        where.append(AuditEvent.occurred_at < filters.until)
    return where


def audit_page(
    session: Session, filters: AuditFilters, before_id: int | None = None, page_size: int = 50
) -> list[AuditRow]:
    """The newest events matching ``filters`` older than ``before_id`` (keyset paging), with
    the actor's name and the object's label (a request's number where the object belongs to
    one). One query for the events and one per type of object on the page."""
    where = _where(filters)
    if before_id:
        where.append(AuditEvent.id < before_id)
    who = aliased(Account)
    found = session.execute(
        select(AuditEvent, who.name, who.kind)
        .outerjoin(who, who.id == AuditEvent.actor_id)
        .where(and_(True, *where))
        .order_by(AuditEvent.id.desc())
        .limit(page_size)
    ).all()
    # the ids wanted of each loader (contacts, staff and accounts are one query)
    wanted: dict[object, set[str]] = {}
    for e, _name, _kind in found:
        if e.object_type in LABELS:
            wanted.setdefault(LABELS[e.object_type], set()).add(e.object_id)
    loaded = {load: load(session, ids) for load, ids in wanted.items()}
    labels = {t: loaded[load] for t, load in LABELS.items() if load in loaded}
    rows = []
    for e, name, kind in found:
        label = labels.get(e.object_type, {}).get(e.object_id)
        number = label.request_number if label else None
        if e.object_type == "service_request":
            number = e.object_id
        elif number is None and isinstance(e.after, dict):
            number = e.after.get("request") if isinstance(e.after.get("request"), str) else None
        rows.append(
            AuditRow(
                event=e,
                actor_name=name,
                actor_is_contact=kind == "customer",
                object_label=label.label if label else None,
                object_label_en=label.label_en if label else None,
                request_number=number,
                object_is_contact=bool(label and label.contact) or e.object_type == "contact",
            )
        )
    return rows


# --- append-only guards --------------------------------------------------------------------------


@contextmanager
def unguarded(session: Session) -> Iterator[None]:
    """Allow deleting audit rows in this block: ONLY for wiping a whole database (the demo's
    --reset) and tests' clean-up of committed test data. On PostgreSQL it also suspends the
    trigger inside the caller's transaction (the role must own the table)."""
    session.info[_UNGUARDED] = True
    pg = session.get_bind().dialect.name == "postgresql"
    if pg:
        session.execute(_DISABLE_TRIGGER)
    try:
        yield
    finally:
        if pg:
            session.execute(_ENABLE_TRIGGER)
        session.info.pop(_UNGUARDED, None)


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, _flush_context, _instances) -> None:
    if session.info.get(_UNGUARDED):
        return
    for obj in session.deleted:
        if isinstance(obj, AuditEvent):
            raise AuditLogIsAppendOnly(f"audit row {obj.id} may not be deleted")
    for obj in session.dirty:
        if isinstance(obj, AuditEvent) and session.is_modified(obj, include_collections=False):
            raise AuditLogIsAppendOnly(f"audit row {obj.id} may not be changed")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk(state) -> None:
    if not (state.is_update or state.is_delete) or state.session.info.get(_UNGUARDED):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) == AuditEvent.__tablename__:
        raise AuditLogIsAppendOnly("audit rows may not be changed or deleted")
