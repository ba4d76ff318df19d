"""Retention (docs/product.md §6): SR/IR/SD/FB, their files and their audit rows are kept at least three
years after closure. Deleting earlier is refused with the date it becomes possible; later an
admin exports a self-contained archive and then purges, both audited.

What a purge removes: the request and every row that hangs off it (found from the foreign keys
of the model, so a table added later is covered), and its stored files. What it keeps: the
audit rows. The log is append-only and hash-chained; its rows name objects by number and id
and are the record that the archive and the purge happened, so the chain stays verifiable.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Table, and_, false, or_, select
from sqlalchemy.orm import Session

from portal.domain.vocabulary import Status
from portal.models import Account, Attachment, AuditEvent, Base, ServiceRequest
from portal.presentation import presenters
from portal.services import audit

RETENTION_YEARS = 3
CLOSED = (Status.CLOSED.value, Status.CANCELLED.value)
ARCHIVED = "record.archived"
PURGED = "record.purged"
# tables that are never part of one request's record, whatever points where
NOT_OWNED = {"audit_events", "accounts", "organisations", "departments"}


class RetentionRefused(Exception):
    """``code``: "open" (not closed), "too-early" (see ``eligible_on``), "not-archived"."""

    def __init__(self, code: str, eligible_at: datetime | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.eligible_at = eligible_at


def closed_at(sr) -> datetime | None:
    if sr.status == Status.CLOSED.value:
        return sr.closed_at or sr.updated_at
    if sr.status == Status.CANCELLED.value:
        return sr.cancelled_at or sr.updated_at
    return None


def add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February: the first moment that is surely N years later
        return moment.replace(year=moment.year + years, month=3, day=1)


def eligible_at(sr) -> datetime | None:
    closed = closed_at(sr)
    return add_years(closed, RETENTION_YEARS) if closed else None


def eligible_on(sr, timezone: str) -> date | None:
    moment = eligible_at(sr)
    return moment.astimezone(ZoneInfo(timezone)).date() if moment else None


def check_deletable(sr, now: datetime) -> None:
    """Raise RetentionRefused unless the retention period of ``sr`` is over."""
    moment = eligible_at(sr)
    if moment is None:
        raise RetentionRefused("open")
    if now < moment:
        raise RetentionRefused("too-early", moment)


# --- what belongs to a request -------------------------------------------------------------------


def owned_tables() -> list[Table]:
    """service_requests and every table that hangs off it by foreign keys, parents first."""
    closure = {"service_requests"}
    changed = True
    while changed:
        changed = False
        for table in Base.metadata.sorted_tables:
            if table.name in closure or table.name in NOT_OWNED:
                continue
            if any(fk.column.table.name in closure for fk in table.foreign_keys):
                closure.add(table.name)
                changed = True
    return [t for t in Base.metadata.sorted_tables if t.name in closure]


def _conditions(request_id: int) -> dict[str, ColumnElement[bool]]:
    """For each owned table, the SQL condition of its rows that belong to the request."""
    tables = owned_tables()
    names = {t.name for t in tables}
    conds: dict[str, ColumnElement[bool]] = {}
    for table in tables:  # parents first, so a child's parents have their condition
        if table.name == "service_requests":
            conds[table.name] = table.c.id == request_id
            continue
        branches = []
        for fk in table.foreign_keys:
            parent = fk.column.table
            if parent.name in names and parent.name in conds:
                branches.append(
                    fk.parent.in_(select(fk.column).where(conds[parent.name]).scalar_subquery())
                )
        conds[table.name] = or_(*branches) if branches else false()
    return conds


def _jsonable(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def collect(session: Session, request_id: int) -> dict[str, list[dict]]:
    """Every row of the request's record, table by table (one query per table)."""
    conds = _conditions(request_id)
    out: dict[str, list[dict]] = {}
    for table in owned_tables():
        rows = session.execute(select(table).where(conds[table.name])).mappings().all()
        out[table.name] = [{k: _jsonable(v) for k, v in row.items()} for row in rows]
    return out


def audit_rows(session: Session, sr: ServiceRequest, record: dict[str, list[dict]]) -> list[dict]:
    """The audit rows about the request and about the rows of its record."""
    ids_by_type: dict[str, list[str]] = {}
    for table, rows in record.items():
        kind = table.rstrip("s") if table != "feedback" else "feedback"
        ids_by_type[kind] = [str(r["id"]) for r in rows if "id" in r]
    branches = [
        and_(AuditEvent.object_type == "service_request", AuditEvent.object_id == sr.number)
    ]
    for kind, ids in ids_by_type.items():
        if ids and kind != "service_request":
            branches.append(and_(AuditEvent.object_type == kind, AuditEvent.object_id.in_(ids)))
    events = session.scalars(select(AuditEvent).where(or_(*branches)).order_by(AuditEvent.id))
    return [
        {c.name: _jsonable(getattr(e, c.key)) for c in AuditEvent.__table__.columns} for e in events
    ]


# --- the list for admins -------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionRow:
    id: int
    number: str
    title: str
    status: str
    closed_at: datetime
    eligible_at: datetime
    archived: bool


def eligible(
    session: Session, now: datetime, after_id: int | None = None, page_size: int = 50
) -> list[RetentionRow]:
    """Closed requests whose retention period is over, oldest id first; two queries."""
    cutoff = now - timedelta(days=365 * RETENTION_YEARS - 1)  # narrowed per row below
    closed_col = ServiceRequest.closed_at
    stmt = (
        select(ServiceRequest)
        .where(
            ServiceRequest.status.in_(CLOSED),
            or_(
                and_(closed_col.is_not(None), closed_col <= cutoff),
                and_(
                    closed_col.is_(None),
                    ServiceRequest.cancelled_at.is_not(None),
                    ServiceRequest.cancelled_at <= cutoff,
                ),
            ),
        )
        .order_by(ServiceRequest.id)
        .limit(page_size * 2)
    )
    if after_id:
        stmt = stmt.where(ServiceRequest.id > after_id)
    found = [sr for sr in session.scalars(stmt) if (eligible_at(sr) or now) <= now][:page_size]
    numbers = [sr.number for sr in found]
    archived = set()
    if numbers:
        archived = set(
            session.scalars(
                select(AuditEvent.object_id).where(
                    AuditEvent.object_type == "service_request",
                    AuditEvent.object_id.in_(numbers),
                    AuditEvent.action == ARCHIVED,
                )
            )
        )
    return [
        RetentionRow(
            sr.id,
            sr.number,
            sr.title,
            sr.status,
            closed_at(sr),
            eligible_at(sr),
            sr.number in archived,
        )
        for sr in found
    ]


def is_archived(session: Session, sr: ServiceRequest) -> bool:
    return (
        session.scalar(
            select(AuditEvent.id).where(
                AuditEvent.object_type == "service_request",
                AuditEvent.object_id == sr.number,
                AuditEvent.action == ARCHIVED,
            )
        )
        is not None
    )


# --- archive -------------------------------------------------------------------------------------


def _simple_form(sr_row: dict, record: dict[str, list[dict]]) -> str:
    """A plain HTML rendering of the request and its forms' rows (used when the printable
    forms are not available)."""
    parts = [
        "<!doctype html><meta charset='utf-8'>",
        f"<title>{html.escape(sr_row['number'])}</title>",
        "<style>table{border-collapse:collapse}td,th{border:1px solid #999;padding:4px;"
        "vertical-align:top;text-align:left}</style>",
    ]
    for table in (
        "service_requests",
        "handling_records",
        "handling_steps",
        "deliveries",
        "delivery_items",
        "delivery_criteria",
        "signatures",
        "feedback",
        "improvement_measures",
        "messages",
    ):
        rows = record.get(table) or []
        if not rows:
            continue
        parts.append(f"<h2>{html.escape(table)}</h2><table>")
        keys = [k for k in rows[0] if k != "image_png"]
        parts.append("<tr>" + "".join(f"<th>{html.escape(k)}</th>" for k in keys) + "</tr>")
        for row in rows:
            parts.append(
                "<tr>"
                + "".join(f"<td>{html.escape(str(row.get(k, '')))}</td>" for k in keys)
                + "</tr>"
            )
        parts.append("</table>")
    return "\n".join(parts)


def _printable_forms(session: Session, sr, viewer, timezone: str) -> dict[str, str] | None:
    """The four printable forms as standalone HTML, from the forms module when it is there."""
    try:
        from portal.services import forms_export
    except ImportError:
        return None
    out: dict[str, str] = {}
    for form in forms_export.FORMS:
        # the archive is the full record: built as for someone on the request
        doc = forms_export.build(
            session, sr, form, viewer, access=presenters.INSIDER, timezone=timezone
        )
        if doc.empty:
            continue
        rows = []
        for row in doc.rows:
            cells = "".join(
                f"<td>{html.escape(forms_export.cell_text(v)).replace(chr(10), '<br>')}</td>"
                for v in row
            )
            rows.append(f"<tr>{cells}</tr>")
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in doc.columns)
        out[form] = (
            "<!doctype html><meta charset='utf-8'>"
            f"<title>{html.escape(str(doc.title))} {html.escape(sr.number)}</title>"
            "<style>table{border-collapse:collapse}td,th{border:1px solid #999;padding:4px;"
            "vertical-align:top;text-align:left}</style>"
            f"<h1>{html.escape(str(doc.title))} · {html.escape(sr.number)}</h1>"
            f"<table><tr>{head}</tr>{''.join(rows)}</table>"
        )
    return out


@dataclass(frozen=True)
class Archive:
    filename: str
    data: bytes
    sha256: str


def archive(
    session: Session,
    actor: audit.Actor,
    sr: ServiceRequest,
    viewer: Account,
    now: datetime,
    upload_folder: str,
    timezone: str,
) -> Archive:
    """A self-contained zip of the request's record: records.json (every row), audit.json, the
    files and the printable forms as HTML. Refused before the retention period is over."""
    check_deletable(sr, now)
    record = collect(session, sr.id)
    events = audit_rows(session, sr, record)
    buffer = io.BytesIO()
    manifest: dict = {
        "number": sr.number,
        "generated_at": now.astimezone(UTC).isoformat(),
        "retention_years": RETENTION_YEARS,
        "tables": {k: len(v) for k, v in record.items()},
        "files": [],
    }
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("records.json", json.dumps(record, ensure_ascii=False, indent=1))
        zf.writestr("audit.json", json.dumps(events, ensure_ascii=False, indent=1))
        for att in record.get("attachments", []):
            path = Path(upload_folder) / att["stored_name"]
            name = f"files/{att['id']}-{att['original_name']}"
            if path.is_file():
                zf.write(path, name)
                manifest["files"].append({"path": name, "sha256": att["sha256"]})
            else:
                manifest["files"].append({"path": name, "missing": True})
        forms = _printable_forms(session, sr, viewer, timezone)
        if forms:
            for form, page in forms.items():
                zf.writestr(f"forms/{form}.html", page)
            manifest["forms"] = sorted(forms)
        else:
            zf.writestr("forms/record.html", _simple_form(record["service_requests"][0], record))
            manifest["forms"] = ["record"]
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    audit.record(
        session,
        actor,
        now,
        ARCHIVED,
        "service_request",
        sr.number,
        after={"sha256": digest, "size": len(data), "tables": manifest["tables"]},
    )
    return Archive(f"{sr.number}-archive.zip", data, digest)


# --- purge ---------------------------------------------------------------------------------------


def purge(
    session: Session,
    actor: audit.Actor,
    sr: ServiceRequest,
    now: datetime,
    upload_folder: str,
) -> list[Path]:
    """Delete the request's record (not its audit rows). Refused before the retention period is
    over and before an archive was exported. Returns the stored files to remove once the
    transaction has committed."""
    check_deletable(sr, now)
    if not is_archived(session, sr):
        raise RetentionRefused("not-archived")
    conds = _conditions(sr.id)
    stored = list(session.scalars(select(Attachment.stored_name).where(conds["attachments"])))
    counts: dict[str, int] = {}
    number = sr.number
    for table in reversed(owned_tables()):  # children first
        result = session.execute(table.delete().where(conds[table.name]))
        counts[table.name] = result.rowcount or 0
    session.expunge(sr)
    audit.record(
        session,
        actor,
        now,
        PURGED,
        "service_request",
        number,
        before={"tables": {k: v for k, v in counts.items() if v}},
        after=None,
    )
    return [Path(upload_folder) / name for name in stored]
