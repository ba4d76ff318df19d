"""The bulk import of customer contacts: a spreadsheet (XLSX, or CSV in UTF-8 with or without
a BOM, or GB18030 as Chinese Excel saves it) read and checked into a ContactImport, shown to the
admin as a preview, then imported on confirmation.

- What a file is is judged by its content, never its name: an XLSX is a zip holding the OOXML
  parts; a CSV is text without NUL bytes. Anything else is refused, and so are a file over
  ``MAX_BYTES`` and one of more than ``MAX_ROWS`` rows. A refusal writes nothing.
- Each row is checked on its own (a missing name, a bad or duplicate e-mail, an unknown
  organisation, an oversized value, control characters, …): its problems are kept as codes
  with their values, worded in the reader's language by the page, and the row is left out.
- The import is idempotent by e-mail: a contact that exists already keeps everything but its
  name and phone, which change only when the file says otherwise; importing the same file
  again creates nothing. Each new contact is invited unless the admin says not to.
- The staged rows live in the database (not in the cookie, not on one machine's disk) and
  expire after ``MAX_AGE``; an import id works once.
"""

from __future__ import annotations

import csv
import io
import secrets
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal.domain.characters import has_control_characters
from portal.domain.vocabulary import AccountKind
from portal.models import Account, ContactImport, Organisation
from portal.services import audit, contacts
from portal.services.audit import Actor

MAX_ROWS = 10_000
MAX_BYTES = 5 * 1024 * 1024
MAX_AGE = timedelta(hours=24)
CELL_MAX = 1000  # longer than any field: kept only to say it is too long
_CHUNK = 500

# the columns, by the headings accepted for each (compared in lower case, spaces squeezed)
COLUMNS: dict[str, tuple[str, ...]] = {
    "organisation": (
        "organisation code",
        "organization code",
        "organisation",
        "客户编码",
        "客户代码",
    ),
    "name": ("name", "姓名"),
    "email": ("e-mail", "email", "邮箱", "电子邮件"),
    "phone": ("phone", "mobile", "电话", "手机"),
    "language": ("language", "语言"),
    "org_admin": ("org admin", "organisation admin", "organization admin", "管理员"),
}
REQUIRED_COLUMNS = ("organisation", "name", "email")
TEMPLATE_HEADINGS = {
    "en": ["Organisation code", "Name", "E-mail", "Phone", "Language", "Org admin"],
    "zh_CN": ["客户编码", "姓名", "邮箱", "电话", "语言", "管理员"],
}
LANGUAGES = {
    "": None,
    "zh_cn": "zh_CN",
    "zh": "zh_CN",
    "zh-cn": "zh_CN",
    "中文": "zh_CN",
    "chinese": "zh_CN",
    "简体中文": "zh_CN",
    "en": "en",
    "english": "en",
    "英文": "en",
    "英语": "en",
}
YES = {"yes", "y", "true", "1", "x", "是", "√", "✓"}
NO = {"", "no", "n", "false", "0", "否"}

CREATE, UPDATE, UNCHANGED, ERROR = "create", "update", "unchanged", "error"


class ImportRefused(Exception):
    """The whole file or import is refused; ``code`` says why (the page words it), with its
    values."""

    def __init__(self, code: str, **values) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


# --- reading the file ---------------------------------------------------------------------


def _squeeze(text: str) -> str:
    return " ".join(text.replace("\u3000", " ").split()).lower()


_HEADING_TO_COLUMN = {_squeeze(h): col for col, heads in COLUMNS.items() for h in heads}


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _is_xlsx(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return False
    return "[Content_Types].xml" in names and "xl/workbook.xml" in names


def _xlsx_rows(data: bytes):
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a damaged workbook: whatever openpyxl raises, it is refused
        raise ImportRefused("not-a-spreadsheet") from exc
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            return
        for row in sheet.iter_rows(values_only=True):
            yield [_cell_text(v) for v in row]
    finally:
        book.close()


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise ImportRefused("not-a-spreadsheet")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused("not-a-spreadsheet")


def _csv_rows(data: bytes):
    text = _decode(data)
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count) if first else ","
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        yield [cell.strip() for cell in row]


@dataclass
class Table:
    columns: dict[str, int]  # column → index in a row
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (line in the file, cells)


def read_table(data: bytes) -> Table:
    """The heading row and the data rows of the file (blank rows skipped). Refused: a file
    that is not a spreadsheet, too large, without the headings, or with more than MAX_ROWS
    rows."""
    if len(data) > MAX_BYTES:
        raise ImportRefused("too-large", limit=MAX_BYTES)
    if not data.strip():
        raise ImportRefused("empty")
    source = _xlsx_rows(data) if _is_xlsx(data) else _csv_rows(data)
    table: Table | None = None
    try:
        for line, cells in enumerate(source, start=1):
            if not any(cells):
                continue
            if table is None:
                columns = {}
                for index, heading in enumerate(cells):
                    column = _HEADING_TO_COLUMN.get(_squeeze(heading))
                    if column and column not in columns:
                        columns[column] = index
                missing = [c for c in REQUIRED_COLUMNS if c not in columns]
                if missing:
                    raise ImportRefused("no-headings")
                table = Table(columns)
                continue
            if len(table.rows) >= MAX_ROWS:
                raise ImportRefused("too-many-rows", limit=MAX_ROWS)
            table.rows.append((line, cells))
    except csv.Error as exc:
        raise ImportRefused("not-a-spreadsheet") from exc
    if table is None:
        raise ImportRefused("no-headings")
    if not table.rows:
        raise ImportRefused("empty")
    return table


# --- checking the rows --------------------------------------------------------------------


def _value(table: Table, cells: list[str], column: str) -> str:
    index = table.columns.get(column)
    if index is None or index >= len(cells):
        return ""
    return cells[index][:CELL_MAX]


def _in_chunks(values: list[str]):
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _organisations(session: Session, codes: set[str]) -> dict[str, tuple[int, str, bool]]:
    found: dict[str, tuple[int, str, bool]] = {}
    for chunk in _in_chunks(sorted(codes)):
        for org_id, code, active in session.execute(
            select(Organisation.id, Organisation.code, Organisation.active).where(
                func.upper(Organisation.code).in_(chunk)
            )
        ):
            found[code.upper()] = (org_id, code, active)
    return found


def _accounts(session: Session, emails: set[str]) -> dict[str, Account]:
    found: dict[str, Account] = {}
    for chunk in _in_chunks(sorted(emails)):
        for account in session.scalars(select(Account).where(func.lower(Account.email).in_(chunk))):
            found[account.email.lower()] = account
    return found


def _problem(code: str, column: str | None = None, **values) -> dict:
    return {"code": code, "column": column, **values}


def check_rows(session: Session, table: Table) -> list[dict]:
    """Each data row with its values, its problems and what importing would do with it.
    A fixed number of queries per 500 rows (organisations and accounts looked up in bulk)."""
    raw = []
    for line, cells in table.rows:
        raw.append((line, {column: _value(table, cells, column) for column in COLUMNS}))
    codes = {r["organisation"].upper() for _line, r in raw if r["organisation"]}
    emails = {r["email"].lower() for _line, r in raw if r["email"]}
    orgs = _organisations(session, codes)
    existing = _accounts(session, emails)
    first_line: dict[str, int] = {}
    checked = []
    for line, r in raw:
        problems: list[dict] = []
        for column, value in r.items():
            if has_control_characters(value):
                problems.append(_problem("control-characters", column))
                r[column] = "".join(ch for ch in value if not has_control_characters(ch))
        name, email, phone = r["name"], r["email"].lower(), r["phone"] or None
        if not name:
            problems.append(_problem("name-missing", "name"))
        elif len(name) > contacts.NAME_MAX:
            problems.append(_problem("too-long", "name", max=contacts.NAME_MAX))
        if not email:
            problems.append(_problem("email-missing", "email"))
        elif len(email) > contacts.EMAIL_MAX:
            problems.append(_problem("too-long", "email", max=contacts.EMAIL_MAX))
        elif contacts.email_problem(email) is not None:
            problems.append(_problem("email-invalid", "email"))
        elif email in first_line:
            problems.append(_problem("email-duplicate", "email", line=first_line[email]))
        if email and email not in first_line:
            first_line[email] = line
        if phone and len(phone) > contacts.PHONE_MAX:
            problems.append(_problem("too-long", "phone", max=contacts.PHONE_MAX))
        elif contacts.phone_problem(phone) is not None:
            problems.append(_problem("phone-invalid", "phone"))
        language_key = r["language"].strip().lower()
        if language_key not in LANGUAGES:
            problems.append(_problem("language-unknown", "language"))
        admin_key = r["org_admin"].strip().lower()
        if admin_key not in YES and admin_key not in NO:
            problems.append(_problem("org-admin-unknown", "org_admin"))
        org = orgs.get(r["organisation"].upper()) if r["organisation"] else None
        if not r["organisation"]:
            problems.append(_problem("organisation-missing", "organisation"))
        elif org is None:
            problems.append(_problem("organisation-unknown", "organisation"))
        elif not org[2]:
            problems.append(_problem("organisation-inactive", "organisation"))
        account = existing.get(email) if email else None
        action, changes = CREATE, []
        if account is not None and not problems:
            if account.kind != AccountKind.CUSTOMER.value:
                problems.append(_problem("email-staff", "email"))
            elif org is not None and account.organisation_id != org[0]:
                problems.append(_problem("email-other-organisation", "email"))
            else:
                if account.name != name:
                    changes.append("name")
                if (account.phone or None) != phone:
                    changes.append("phone")
                action = UPDATE if changes else UNCHANGED
        if problems:
            action = ERROR
        checked.append(
            {
                "line": line,
                "organisation": org[1] if org else r["organisation"],
                "organisation_id": org[0] if org else None,
                "name": name,
                "email": email,
                "phone": phone or "",
                "language": LANGUAGES.get(language_key),
                "org_admin": admin_key in YES,
                "action": action,
                "changes": changes,
                "problems": problems,
            }
        )
    return checked


def stage(
    session: Session, actor: Actor, now: datetime, filename: str, data: bytes
) -> ContactImport:
    """Read and check the file and keep its rows for the preview (refused: ImportRefused,
    nothing written)."""
    table = read_table(data)
    rows = check_rows(session, table)
    staged = ContactImport(
        id=secrets.token_hex(16),
        created_by_id=actor.account_id,
        created_at=now,
        filename=(filename or "contacts")[:255],
        rows=rows,
    )
    session.add(staged)
    session.flush()
    return staged


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def load(session: Session, actor: Actor, now: datetime, import_id: str) -> ContactImport:
    """The staged import for its preview or its confirmation: the admin's own, not expired,
    not imported yet."""
    staged = session.get(ContactImport, (import_id or "")[:32]) if import_id else None
    if staged is None or staged.created_by_id != actor.account_id:
        raise ImportRefused("unknown")
    if staged.imported_at is not None:
        raise ImportRefused("used")
    if _aware(staged.created_at) + MAX_AGE < now:
        raise ImportRefused("expired")
    return staged


@dataclass(frozen=True)
class Summary:
    create: int = 0
    update: int = 0
    unchanged: int = 0
    error: int = 0


def summary(rows: list[dict]) -> Summary:
    counts = {CREATE: 0, UPDATE: 0, UNCHANGED: 0, ERROR: 0}
    for row in rows:
        counts[row["action"]] += 1
    return Summary(counts[CREATE], counts[UPDATE], counts[UNCHANGED], counts[ERROR])


def run(
    session: Session, actor: Actor, now: datetime, import_id: str, *, invite: bool = True
) -> Summary:
    """Import the good rows of the staged import, once. Each row is looked at again (the
    desk may have changed since the preview): a new e-mail is created (and invited), an
    existing contact of the same organisation gets the file's name and phone if they differ,
    anything else is left alone."""
    staged = load(session, actor, now, import_id)
    # claim it atomically: a second confirmation (a double click, two tabs) finds it used
    claimed = session.execute(
        update(ContactImport)
        .where(ContactImport.id == staged.id, ContactImport.imported_at.is_(None))
        .values(imported_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise ImportRefused("used")
    good = [r for r in staged.rows if r["action"] != ERROR]
    existing = _accounts(session, {r["email"] for r in good})
    created = updated = unchanged = 0
    for row in good:
        account = existing.get(row["email"])
        if account is None:
            contact = contacts.create(
                session,
                actor,
                now,
                contacts.ContactDetails(
                    name=row["name"],
                    email=row["email"],
                    organisation_id=row["organisation_id"],
                    phone=row["phone"] or None,
                    is_org_admin=row["org_admin"],
                    locale=row["language"],
                ),
                invite=invite,
            )
            existing[row["email"]] = contact
            created += 1
            continue
        if (
            account.kind != AccountKind.CUSTOMER.value
            or account.organisation_id != row["organisation_id"]
        ):
            continue
        details = contacts.ContactDetails(
            name=row["name"],
            email=account.email,
            organisation_id=account.organisation_id,
            phone=row["phone"] or None,
            is_org_admin=account.is_org_admin,
            locale=account.locale or contacts.DEFAULT_LOCALE,
        )
        if contacts.update(session, actor, now, account, details):
            updated += 1
        else:
            unchanged += 1
    result = Summary(created, updated, unchanged, len(staged.rows) - len(good))
    audit.record(
        session,
        actor,
        now,
        "contact_import.imported",
        "contact_import",
        staged.id,
        after={
            "file": staged.filename,
            "created": created,
            "updated": updated,
            "unchanged": unchanged,
            "left_out": result.error,
        },
    )
    return result


def template_csv(locale: str) -> bytes:
    """The file to fill in: the headings in the reader's language, UTF-8 with a BOM (so
    Excel opens the Chinese headings right)."""
    out = io.StringIO()
    csv.writer(out).writerow(TEMPLATE_HEADINGS.get(locale, TEMPLATE_HEADINGS["en"]))
    return ("\ufeff" + out.getvalue()).encode("utf-8")
