"""The bulk import of contacts at /staff/admin/contacts/import: the preview shows each bad row
with its error and writes no account; confirming imports the good rows (invited unless
unticked); importing the same file again creates nothing; a file that is not a spreadsheet,
one of 10,001 rows, one over the size limit, a used or expired import are refused with nothing
written; XLSX, UTF-8 (with or without BOM) and GB18030 with English or Chinese headings."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from portal.models import Account, AuditEvent, ContactImport
from portal.services import contact_import

URL = "/staff/admin/contacts/import"


@pytest.fixture
def admin(factory):
    return factory.staff("admin")


@pytest.fixture
def admin_client(make_client, admin):
    client = make_client()
    client.login(admin)
    return client


@pytest.fixture
def org(factory):
    return factory.organisation("华东制造有限公司", code="EAST")


HEAD = "Organisation code,Name,E-mail,Phone,Language,Org admin\n"
GOOD = "EAST,王小明,wang@east.example.com,13912345678,zh_CN,yes\nEAST,Lucy Li,lucy@east.example.com,,en,no\n"


def _upload(client, data: bytes, filename: str = "contacts.csv"):
    return client.post(
        URL,
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def _preview(client, data: bytes, filename: str = "contacts.csv") -> tuple[str, str]:
    resp = _upload(client, data, filename)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    import_id = re.search(r"id=([0-9a-f]{32})", resp.location).group(1)
    page = client.get(resp.location)
    assert page.status_code == 200
    return import_id, page.get_data(as_text=True)


def _row(body: str, line: int) -> str:
    found = re.search(rf'<tr data-line="{line}" data-action="(\w+)">(.*?)</tr>', body, re.S)
    assert found, f"no row {line}"
    return found.group(1) + " " + found.group(2)


def _accounts(db_session) -> int:
    return db_session.scalar(select(func.count(Account.id)))


def _by_email(db_session, email: str) -> Account | None:
    return db_session.scalar(select(Account).where(func.lower(Account.email) == email))


def test_the_preview_shows_each_error_at_its_row_and_writes_no_account(
    admin_client, db_session, org
):
    before = _accounts(db_session)
    text = (
        HEAD
        + "EAST,王小明,wang@east.example.com,13912345678,zh_CN,yes\n"  # 2 good
        + "EAST,坏邮箱,not-an-address,,,\n"  # 3 bad e-mail
        + "EAST,王小明,WANG@east.example.com,,,\n"  # 4 duplicate of row 2
        + "NOPE,张三,zhang@nope.example.com,,,\n"  # 5 unknown organisation
        + "EAST,,noname@east.example.com,,,\n"  # 6 missing name
        + "EAST,"
        + "长" * 101
        + ",long@east.example.com,,,\n"  # 7 oversized
        + "EAST,王\x07五,ctrl@east.example.com,,,\n"  # 8 control character
    )
    import_id, body = _preview(admin_client, text.encode())
    assert _row(body, 2).startswith("create")
    assert "Will be created" in _row(body, 2)
    assert "The e-mail address is not valid." in _row(body, 3)
    assert "The same e-mail address is on row 2 already." in _row(body, 4)
    assert "No organisation has this code." in _row(body, 5)
    assert "The name is missing." in _row(body, 6)
    assert "Name is longer than 100 characters." in _row(body, 7)
    assert "Name holds invisible control characters." in _row(body, 8)
    for line in range(3, 9):
        assert _row(body, line).startswith("error"), line
    assert "1 to create, 0 to update, 0 left as they are, 6 with errors" in body
    assert _accounts(db_session) == before
    staged = db_session.get(ContactImport, import_id)
    assert staged is not None and staged.imported_at is None and len(staged.rows) == 7


def test_confirm_imports_the_good_rows_invited_and_a_second_import_creates_nothing(
    admin_client, db_session, org, factory
):
    text = HEAD + GOOD + "EAST,坏邮箱,not-an-address,,,\n"
    import_id, _body = _preview(admin_client, text.encode())
    resp = admin_client.post(f"{URL}/confirm", data={"import_id": import_id, "invite": "y"})
    assert resp.status_code == 302
    wang = _by_email(db_session, "wang@east.example.com")
    lucy = _by_email(db_session, "lucy@east.example.com")
    assert wang.organisation_id == org.id and wang.is_org_admin and wang.locale == "zh_CN"
    assert lucy.locale == "en" and not lucy.is_org_admin and lucy.phone is None
    assert wang.invited_at is not None and lucy.invited_at is not None
    assert _by_email(db_session, "not-an-address") is None
    flashed = admin_client.get(resp.location).get_data(as_text=True)
    assert "2 created, 0 updated, 0 left as they were, 1 rows with errors left out" in flashed
    [event] = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "contact_import.imported")
    ).all()
    assert event.after["created"] == 2

    # the same id again: refused, nothing written
    count = _accounts(db_session)
    again = admin_client.post(f"{URL}/confirm", data={"import_id": import_id, "invite": "y"})
    assert again.status_code == 409
    assert "imported already" in again.get_data(as_text=True)

    # the same file again: every row is left as it is; with a changed phone, that one updates
    second_id, body = _preview(admin_client, text.encode())
    assert _row(body, 2).startswith("unchanged") and _row(body, 3).startswith("unchanged")
    assert admin_client.post(f"{URL}/confirm", data={"import_id": second_id}).status_code in (
        302,
        200,
    )
    assert _accounts(db_session) == count
    changed = text.replace("lucy@east.example.com,,", "lucy@east.example.com,13800002222,")
    third_id, body = _preview(admin_client, changed.encode())
    assert _row(body, 3).startswith("update")
    admin_client.post(f"{URL}/confirm", data={"import_id": third_id, "invite": "y"})
    db_session.refresh(lucy)
    assert lucy.phone == "13800002222"
    assert _accounts(db_session) == count
    [updated] = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "contact.updated")
    ).all()
    assert updated.before == {"phone": ""} and updated.after == {"phone": "13800002222"}


def test_unticking_the_invitation_imports_without_inviting(admin_client, db_session, org):
    import_id, _ = _preview(admin_client, (HEAD + GOOD).encode())
    admin_client.post(f"{URL}/confirm", data={"import_id": import_id})
    assert _by_email(db_session, "wang@east.example.com").invited_at is None


def test_a_contact_of_another_organisation_or_a_staff_email_is_an_error(
    admin_client, db_session, org, factory
):
    factory.customer(factory.organisation(), email="wang@east.example.com")
    staff = factory.staff("engineer")
    text = HEAD + GOOD + f"EAST,某工程师,{staff.email},,,\n"
    _id, body = _preview(admin_client, text.encode())
    assert "belongs to a contact of another organisation" in _row(body, 2)
    assert "belongs to a staff account" in _row(body, 4)


@pytest.mark.parametrize(
    "data, filename",
    [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" * 20, "contacts.xlsx"),  # an .exe
        (bytes(range(256)) * 4, "contacts.csv"),  # binary
        (b"PK\x03\x04" + b"\x00" * 200, "contacts.xlsx"),  # a broken zip
    ],
)
def test_a_file_that_is_not_a_spreadsheet_is_refused(admin_client, db_session, org, data, filename):
    resp = _upload(admin_client, data, filename)
    assert resp.status_code == 422
    assert "This file is not a spreadsheet." in resp.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(ContactImport)) == 0


def test_a_zip_that_is_not_a_workbook_is_refused(admin_client, db_session, org):
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "hello")
    resp = _upload(admin_client, buf.getvalue(), "contacts.xlsx")
    assert resp.status_code == 422
    assert "This file is not a spreadsheet." in resp.get_data(as_text=True)


def test_a_file_of_10001_rows_is_refused(admin_client, db_session, org):
    rows = "".join(f"EAST,联系人{n},c{n}@east.example.com,,,\n" for n in range(10_001))
    resp = _upload(admin_client, (HEAD + rows).encode())
    assert resp.status_code == 422
    assert "more than 10000 rows" in resp.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(ContactImport)) == 0


def test_a_file_over_the_size_limit_is_refused(admin_client, db_session, org, monkeypatch):
    monkeypatch.setattr(contact_import, "MAX_BYTES", 100)
    resp = _upload(admin_client, (HEAD + GOOD * 3).encode())
    assert resp.status_code == 422
    assert "larger than the limit" in resp.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(ContactImport)) == 0


def test_a_file_without_the_headings_is_refused(admin_client, org):
    resp = _upload(admin_client, GOOD.encode())
    assert resp.status_code == 422
    assert "The first row must hold the headings" in resp.get_data(as_text=True)


def test_an_expired_import_is_refused(admin_client, db_session, org):
    import_id, _ = _preview(admin_client, (HEAD + GOOD).encode())
    staged = db_session.get(ContactImport, import_id)
    staged.created_at = staged.created_at - timedelta(hours=25)
    db_session.flush()
    resp = admin_client.post(f"{URL}/confirm", data={"import_id": import_id})
    assert resp.status_code == 422
    assert "This preview has expired." in resp.get_data(as_text=True)
    assert _by_email(db_session, "wang@east.example.com") is None
    assert admin_client.post(f"{URL}/confirm", data={"import_id": "0" * 32}).status_code == 422


def test_an_xlsx_with_chinese_headings(admin_client, db_session, org):
    book = Workbook()
    sheet = book.active
    sheet.append(["客户代码", "姓名", "电子邮件", "手机", "语言", "管理员"])
    sheet.append(["east", "王小明", "wang@east.example.com", 13912345678, "中文", "是"])
    buf = io.BytesIO()
    book.save(buf)
    import_id, body = _preview(admin_client, buf.getvalue(), "通讯录.xlsx")
    assert _row(body, 2).startswith("create") and "13912345678" in _row(body, 2)
    admin_client.post(f"{URL}/confirm", data={"import_id": import_id})
    wang = _by_email(db_session, "wang@east.example.com")
    assert wang.phone == "13912345678" and wang.is_org_admin and wang.locale == "zh_CN"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_utf8_with_or_without_bom_and_gb18030(admin_client, db_session, org, encoding):
    text = "客户编码,姓名,邮箱,电话,语言,管理员\nEAST,王小明,wang@east.example.com,,,否\n"
    _id, body = _preview(admin_client, text.encode(encoding))
    assert _row(body, 2).startswith("create") and "王小明" in _row(body, 2)


def test_the_template_has_the_headings(admin_client):
    resp = admin_client.get(f"{URL}/template.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.data.decode("utf-8-sig")
    assert text.strip() == "Organisation code,Name,E-mail,Phone,Language,Org admin"
    assert 'href="/staff/admin/contacts/import/template.csv"' in admin_client.get(URL).get_data(
        as_text=True
    )


def test_another_admins_import_is_not_theirs(admin_client, make_client, factory, db_session, org):
    import_id, _ = _preview(admin_client, (HEAD + GOOD).encode())
    other = make_client()
    other.login(factory.staff("admin"))
    assert other.get(f"{URL}/preview?id={import_id}").status_code == 404
    assert other.post(f"{URL}/confirm", data={"import_id": import_id}).status_code == 422
    assert _by_email(db_session, "wang@east.example.com") is None


def test_a_nul_in_the_confirmation_or_a_reactivation_writes_nothing(
    admin_client, db_session, org, factory
):
    import_id, _ = _preview(admin_client, (HEAD + GOOD).encode())
    resp = admin_client.post(f"{URL}/confirm", data={"import_id": import_id + "\x00"})
    assert 400 <= resp.status_code < 500
    assert _by_email(db_session, "wang@east.example.com") is None
    contact = factory.customer(org)
    contact.active = False
    db_session.flush()
    resp = admin_client.post(
        f"/staff/admin/contacts/{contact.id}/reactivate", data={"note": "\x00"}
    )
    assert 400 <= resp.status_code < 500
    db_session.refresh(contact)
    assert not contact.active
