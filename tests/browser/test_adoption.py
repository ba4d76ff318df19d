"""A company adopts the portal, in a real browser, from an empty database to a working desk.

The operator runs `portal db upgrade` (the fixture) and `portal users create` for the first admin;
everything else happens on the pages: the admin creates a department, a category with two skills,
an SLA policy "金牌" (P1: response 1 h, resolution 2 h) and an organisation on it; invites an
engineer, who reads the invitation from the mail server and sets a password; gives the engineer
the skill on the skill matrix; imports three contacts from an XLSX file. One imported contact
takes the invitation and submits a P1 fault in that category; the supervisor classifies it, the
ranking puts the skilled engineer first and the response is due one hour after submission.
Another contact forgets the password, resets it by mail and logs in with the new one; the
session the contact had open before is refused from then on.

The mail is real: the desk's worker sends it over SMTP to aiosmtpd (tests/mail_server.py); the
links in it are built from PORTAL_BASE_URL, the desk's own address.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from openpyxl import Workbook
from playwright.sync_api import expect

from tests.mail_server import body_text

ADMIN_EMAIL = "zhao.jing@adopt.example.com"
ADMIN_PASSWORD = "Adopt-Kettle-2026"
ENGINEER_EMAIL = "zhang.qiang@adopt.example.com"
ENGINEER_PASSWORD = "Copper-Kite-Field-2026"
CONTACTS = [
    ("HDZZ", "李明", "li.ming@hdzz.example.com", "13812345678", "zh_CN", "no"),
    ("HDZZ", "王芳", "wang.fang@hdzz.example.com", "13987654321", "zh_CN", "yes"),
    ("HDZZ", "Chen Tao", "chen.tao@hdzz.example.com", "", "en", "no"),
]
MAIL_WAIT = 60  # seconds: the worker sends the outbox within a second or two


def _link(server, address: str, path: str) -> str:
    """The link in the newest mail to ``address`` that leads to ``path``."""

    def to_address(message) -> bool:
        return address in (message["To"] or "") and path in body_text(message)

    message = server.wait_for(to_address, timeout=MAIL_WAIT)
    found = re.search(rf"https?://\S+{re.escape(path)}\S+", body_text(message))
    assert found, f"no {path} link in the mail to {address}"
    return found.group(0).rstrip(".,)>")


def _set_password(person, link: str, password: str) -> None:
    page = person.page
    person.goto(link, "set a password from the mail")
    page.locator("input[name=new_password]").fill(password)
    page.locator("input[name=repeat_password]").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Set the password").click()
    expect(page.locator(".flash")).to_contain_text("Your password has been set.")


def _contacts_file(folder: Path) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(["客户编码", "姓名", "邮箱", "电话", "语言", "管理员"])
    for row in CONTACTS:
        sheet.append(list(row))
    path = folder / "contacts.xlsx"
    book.save(path)
    return path


def _new_entry(page, heading_id: str):
    return page.locator(f"section[aria-labelledby={heading_id}] form")


def test_a_fresh_install_becomes_a_working_desk_through_its_pages(
    visit_empty, empty_desk, mail_server, tmp_path
):
    # ---- the operator: the first admin, and a second engineer without skills -----------------
    empty_desk.portal(
        "users", "create", "--kind", "staff", "--email", ADMIN_EMAIL, "--name", "赵静",
        "--role", "admin", "--role", "supervisor", "--role", "dispatcher",
        "--password", ADMIN_PASSWORD,
    )  # fmt: skip
    empty_desk.portal(
        "users", "create", "--kind", "staff", "--email", "wang.tao@adopt.example.com",
        "--name", "王涛", "--role", "engineer", "--password", "Jade-Bridge-Lamp-2026",
    )  # fmt: skip

    admin = visit_empty("admin")
    admin.login(ADMIN_EMAIL, staff=True, password=ADMIN_PASSWORD)
    page = admin.page
    with page.expect_navigation():
        page.get_by_role("link", name="Administration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    admin.check("administration")

    # ---- a department, a category and two skills under it ------------------------------------
    admin.goto("/staff/admin/departments", "departments")
    form = _new_entry(page, "new-department-h")
    form.get_by_label("Code", exact=True).fill("support")
    form.get_by_label("Name (Chinese)", exact=True).fill("技术支持部")
    form.get_by_label("Name (English)", exact=True).fill("Technical support")
    with page.expect_navigation():
        form.get_by_role("button", name="Add department").click()
    expect(page.locator("input[value='Technical support']")).to_have_count(1)

    admin.goto("/staff/admin/categories", "categories")
    form = _new_entry(page, "new-category-h")
    form.get_by_label("Request type", exact=True).select_option("fault")
    form.get_by_label("Code", exact=True).fill("database")
    form.get_by_label("Name (Chinese)", exact=True).fill("数据库")
    form.get_by_label("Name (English)", exact=True).fill("Database")
    with page.expect_navigation():
        form.get_by_role("button", name="Add category").click()
    expect(page.locator("input[value='Database']")).to_have_count(1)

    admin.goto("/staff/admin/skills", "skills")
    for code, zh, en in (
        ("db-performance", "数据库性能", "Database performance"),
        ("db-recovery", "数据库恢复", "Database recovery"),
    ):
        form = _new_entry(page, "new-skill-h")
        form.get_by_label("Code", exact=True).fill(code)
        form.get_by_label("Name (Chinese)", exact=True).fill(zh)
        form.get_by_label("Name (English)", exact=True).fill(en)
        form.get_by_label("Request type", exact=True).select_option("fault")
        form.get_by_label("Category", exact=True).select_option(label="Database")
        with page.expect_navigation():
            form.get_by_role("button", name="Add skill").click()
        expect(page.locator(f"input[value='{en}']")).to_have_count(1)
    admin.check("two skills")

    # ---- the SLA policy 金牌: P1 response 1 h, resolution 2 h, round the clock --------------
    admin.goto("/staff/admin/sla-policies", "SLA policies")
    form = _new_entry(page, "new-policy-h")
    form.get_by_label("Policy name", exact=True).fill("金牌")
    with page.expect_navigation():
        form.get_by_role("button", name="Create policy").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("金牌")
    page.locator("#P1_respond_amount").fill("1")
    page.locator("#P1_respond_unit").select_option("hours")
    page.locator("#P1_resolve_amount").fill("2")
    page.locator("#P1_resolve_unit").select_option("hours")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile(r"^Save as version")).click()
    expect(page.locator("#P1_respond_amount")).to_have_value("1")
    admin.check("policy saved")

    # ---- the organisation, on that policy ----------------------------------------------------
    admin.goto("/staff/admin/organisations", "organisations")
    page.locator("section[aria-labelledby=org-new-h] summary").click()
    form = _new_entry(page, "org-new-h")
    form.get_by_label("Organisation code", exact=True).fill("HDZZ")
    form.get_by_label("Organisation name", exact=True).fill("华东制造有限公司")
    form.get_by_label("SLA policy", exact=True).select_option(label="金牌")
    with page.expect_navigation():
        form.get_by_role("button", name="Create organisation").click()
    expect(page.locator("[name=sla_policy] option:checked")).to_have_text("金牌")
    admin.check("organisation created")

    # ---- the admin invites an engineer, who sets a password from the mail --------------------
    admin.goto("/staff/admin/staff", "staff")
    page.locator("section[aria-labelledby=staff-invite-h] summary").click()
    form = _new_entry(page, "staff-invite-h")
    form.get_by_label("Name", exact=True).fill("张强")
    form.get_by_label("E-mail", exact=True).fill(ENGINEER_EMAIL)
    form.get_by_label("Engineer", exact=True).check()
    form.get_by_label("Department", exact=True).select_option(label="Technical support")
    with page.expect_navigation():
        form.get_by_role("button", name="Send the invitation").click()
    expect(page.locator(".flash")).to_contain_text("张强")

    engineer = visit_empty("engineer")
    _set_password(
        engineer, _link(mail_server, ENGINEER_EMAIL, "/staff/password/set/"), ENGINEER_PASSWORD
    )
    engineer.login(ENGINEER_EMAIL, staff=True, password=ENGINEER_PASSWORD)

    # ---- the admin gives the engineer the skill on the skill matrix --------------------------
    [(engineer_id,)] = empty_desk.sql("SELECT id FROM accounts WHERE email = :e", e=ENGINEER_EMAIL)
    [(skill_id,)] = empty_desk.sql("SELECT id FROM skills WHERE code = 'db-performance'")
    admin.goto("/staff/admin/skills/matrix", "skill matrix")
    page.locator(f"[name=level-{engineer_id}-{skill_id}]").fill("4")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the skill matrix").click()
    expect(page.locator(f"[name=level-{engineer_id}-{skill_id}]")).to_have_value("4")
    admin.check("skill matrix saved")

    # ---- three contacts from an XLSX file: a preview, then the import ------------------------
    admin.goto("/staff/admin/contacts/import", "contact import")
    page.locator("input[type=file]").set_input_files(str(_contacts_file(tmp_path)))
    with page.expect_navigation():
        page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#import-summary")).to_contain_text("3 to create")
    admin.check("import preview")
    with page.expect_navigation():
        page.get_by_role("button", name="Import", exact=True).click()
    rows = empty_desk.sql("SELECT email FROM accounts WHERE kind = 'customer' ORDER BY email")
    assert sorted(r[0] for r in rows) == sorted(c[2] for c in CONTACTS)

    # ---- 李明 takes the invitation and submits a P1 fault in that category -------------------
    customer = visit_empty("customer", locale="zh-CN")
    li_ming = CONTACTS[0][2]
    link = _link(mail_server, li_ming, "/password/set/")
    assert "/staff/" not in link
    _set_password_zh(customer, link, "Plum-Rain-Window-2026")
    customer.login(li_ming, password="Plum-Rain-Window-2026")
    cp = customer.page
    customer.goto("/requests/new", "new request")
    form = cp.locator("form.form-stack")
    form.locator("input[name=type][value=fault]").check()
    form.locator("[name=category]").select_option(label="数据库")
    form.locator("input[name=urgency][value=P1]").check()
    form.locator("[name=title]").fill("生产库主从同步中断")
    form.locator("[name=description]").fill("今天 9 点起生产数据库主从同步中断,报表数据停在 8:55。")
    with cp.expect_navigation():
        form.locator("button[type=submit]").last.click()
    number = cp.locator(".request-head .number").inner_text().strip()
    assert re.fullmatch(r"SR-\d{8}-\d{3,}", number), number
    customer.check("request submitted")

    # ---- the supervisor classifies it; the ranking puts the skilled engineer first -----------
    admin.goto(f"/staff/requests/{number}", "the new request")
    classify = page.locator("#panel-classify")
    classify.get_by_label("Category", exact=True).select_option(label="Database")
    classify.get_by_label("Priority", exact=True).select_option("P1")
    classify.get_by_label("Confirmed with the customer", exact=True).fill(
        "电话确认:生产库同步中断,影响全部报表。"
    )
    classify.get_by_role("button", name="Save classification").click()
    expect(page.locator("header.request-header .chip")).to_have_text("Pending assignment")
    candidates = page.locator("#panel-assign tr.candidate")
    expect(candidates.first).to_contain_text("张强")
    expect(candidates.first.locator(".candidate-reason")).to_contain_text("Database performance")
    expect(page.locator("#panel-assign")).to_contain_text("王涛")
    expect(page.locator(".sla-measured")).to_contain_text("金牌")
    admin.check("classified, candidates ranked")
    [(submitted, due)] = empty_desk.sql(
        "SELECT submitted_at, response_due_at FROM service_requests WHERE number = :n", n=number
    )
    assert due - submitted == timedelta(hours=1), (submitted, due)

    # ---- 王芳 forgets her password; the reset ends the session she had open -----------------
    wang_fang = CONTACTS[1][2]
    first_device = visit_empty("contact, first device", locale="zh-CN")
    _set_password_zh(
        first_device, _link(mail_server, wang_fang, "/password/set/"), "River-Stone-Bell-2026"
    )
    first_device.login(wang_fang, password="River-Stone-Bell-2026")

    second_device = visit_empty("contact, second device")
    sp = second_device.page
    second_device.goto("/login", "login")
    with sp.expect_navigation():
        sp.get_by_role("link", name="Forgot password?").click()
    sp.locator("input[name=email]").fill(wang_fang)
    with sp.expect_navigation():
        sp.get_by_role("button", name="Send the link").click()
    expect(sp.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    _set_password(
        second_device, _link(mail_server, wang_fang, "/password/reset/"), "River-Stone-Bell-new-2026"
    )
    second_device.login(wang_fang, password="River-Stone-Bell-new-2026")
    second_device.goto("/", "home with the new password")
    expect(sp).not_to_have_url(re.compile(r"/login"))

    first_device.page.goto(first_device.url("/"))
    expect(first_device.page).to_have_url(re.compile(r"/login"))


def _set_password_zh(person, link: str, password: str) -> None:
    """The set-password page of a Chinese reader (the invitation mail was in Chinese)."""
    page = person.page
    person.goto(link, "set a password from the mail")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("[\u4e00-\u9fff]"))
    page.locator("input[name=new_password]").fill(password)
    page.locator("input[name=repeat_password]").fill(password)
    with page.expect_navigation():
        page.locator("main button.button-primary").click()
    expect(page).to_have_url(re.compile(r"/login"))
