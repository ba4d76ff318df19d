"""A whole day at the desk, in a real browser, the same journey in English and in Chinese.

One fault request through the template's six steps, each person in their own browser and only
through the pages: the customer submits it with a screenshot; the supervisor finds it in the
queue and classifies it; the dispatcher assigns it from the ranked candidates and adds a
collaborator; the engineer logs a step and asks the customer something; the customer finds it on
their notifications page, marks it read, follows it to the request and answers; the engineer
delivers; the customer draws a signature and fails the acceptance with an unmet
item; the staff side sees the rework; the engineer reworks and delivers again; the customer
passes it with a drawn signature and rates the service; the request is closed with the rating.

What is asserted is what each person would notice on the page, in the page's language: the
Chinese texts are the catalogue's msgstr (portal/translations/zh_Hans_CN/…/messages.po).
"""

from __future__ import annotations

import re
import struct
import zlib
from functools import cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "portal" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"

CUSTOMER = "li.ming@acme.example.com"
SUPERVISOR = "supervisor@desk.example.com"
DISPATCHER = "dispatcher@desk.example.com"
ENGINEER = "engineer1@desk.example.com"
ENGINEER_NAME = "张强"
COLLABORATOR_NAME = "王涛"

SR_NUMBER = re.compile(r"SR-\d{8}-\d{3,}")
SD_NUMBER = re.compile(r"SD-\d{8}-\d{3,}")
FB_NUMBER = re.compile(r"FB-\d{8}-\d{3,}")


@cache
def _zh_catalogue() -> dict[str, str]:
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f)
    return {m.id: m.string for m in catalogue if m.id and not m.fuzzy and isinstance(m.id, str)}


class Words:
    """The page's words: the msgid in English, its msgstr in Chinese (which must exist)."""

    def __init__(self, locale: str) -> None:
        self.zh = locale.startswith("zh")

    def __call__(self, msgid: str, **params) -> str:
        text = msgid
        if self.zh:
            text = _zh_catalogue().get(msgid, "")
            assert text, f"no Chinese translation for {msgid!r}"
        return text % params if params else text

    def pattern(self, msgid: str, **groups: str) -> re.Pattern:
        """The message as a regular expression, its placeholders matching ``groups``."""
        text = re.escape(self(msgid))
        for name, regex in groups.items():
            text = text.replace(re.escape(f"%({name})s"), regex)
        return re.compile(text)


def _png(path: Path) -> Path:
    """A small real PNG (16×16, grey): what a customer's screenshot is to the sniffer."""
    width = height = 16
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return path


def _draw_signature(page: Page, form) -> None:
    """Sign on the signature_pad canvas with the mouse, as a person would; signature.js writes
    the drawing into the hidden input after the stroke."""
    canvas = form.locator("canvas.signature-canvas")
    expect(canvas).to_be_visible()
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box and box["width"] > 50 and box["height"] > 20, box
    x, y, width, height = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + width * 0.1, y + height * 0.6)
    page.mouse.down()
    for i in range(1, 13):
        page.mouse.move(x + width * (0.1 + 0.065 * i), y + height * (0.6 - 0.3 * (i % 2)), steps=2)
    page.mouse.up()
    expect(form.locator("input[type=hidden][name$=signature]")).to_have_value(
        re.compile(r"^data:image/png;base64,.{200,}")
    )


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_a_whole_day_at_the_desk(visit, live_desk, tmp_path, locale):
    w = Words(locale)
    tag = "zh" if w.zh else "en"
    title = f"生产系统无法登录 ({tag})" if w.zh else f"Users cannot log in to production ({tag})"
    question = (
        "请提供数据库服务器的运维账号"
        if w.zh
        else "Please send us an ops account for the database server"
    )
    answer = "账号 ops_admin 已通过邮件发送" if w.zh else "Account ops_admin sent by e-mail"
    first_step = (
        "远程登录系统排查,定位为数据库连接池耗尽"
        if w.zh
        else "Logged in remotely; the database connection pool is exhausted"
    )
    rework_step = "补充故障根因时间线" if w.zh else "Added the root-cause timeline to the report"
    unmet = "报告缺少根因时间线" if w.zh else "The report has no root-cause timeline"
    criteria = (
        ["系统登录无异常", "故障报告内容完整"]
        if w.zh
        else ["Users log in without errors", "The fault report is complete"]
    )

    # ---- (1) the customer submits a fault with a screenshot ---------------------------------
    customer = visit("customer", locale=locale)
    customer.login(CUSTOMER)
    cp = customer.page
    customer.goto("/requests/new", "new request")
    expect(cp.get_by_role("heading", level=1)).to_have_text(w("New request"))
    form = cp.locator("form.form-stack")
    form.get_by_role("radio", name=w("Fault")).check()
    form.get_by_role("radio", name=w("P2 important")).check()
    form.get_by_label(w("Title"), exact=True).fill(title)
    form.get_by_label(w("Description"), exact=True).fill(
        "所有用户登录时提示数据库连接超时。"
        if w.zh
        else "Every user gets a database timeout at login."
    )
    form.locator("input[type=file]").set_input_files(str(_png(tmp_path / "login-error.png")))
    with cp.expect_navigation():
        form.get_by_role("button", name=w("Submit request")).click()
    number = cp.locator(".request-head .number").inner_text().strip()
    assert SR_NUMBER.fullmatch(number), number
    expect(cp).to_have_url(re.compile(rf"/requests/{number}$"))
    expect(cp.locator(".flash")).to_have_text(
        w("Your request %(number)s has been submitted.", number=number)
    )
    expect(cp.locator(".request-head .chip")).to_have_text(w("Awaiting classification"))
    files = cp.locator("section[aria-labelledby=files-h]")
    expect(files.get_by_role("link", name="login-error.png")).to_be_visible()
    customer.check("request submitted")

    # ---- (2) the supervisor finds it in the queue and classifies it -------------------------
    supervisor = visit("supervisor", locale=locale)
    supervisor.login(SUPERVISOR, staff=True)
    sp = supervisor.page
    expect(sp).to_have_url(re.compile(r"/staff/queue"))  # where staff land after logging in
    search = sp.locator("#queue-filters input[name=q]")
    search.fill(number)
    search.press("Enter")
    rows = sp.locator("#queue-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(title)
    expect(rows.first.locator(".chip")).to_have_text(w("Awaiting classification"))
    rows.first.get_by_role("link", name=number).click()
    expect(sp).to_have_url(re.compile(rf"/staff/requests/{number}$"))
    classify = sp.locator("#panel-classify")
    expect(classify.get_by_role("heading")).to_have_text(w("Classify"))
    supervisor.check("classification form")
    # the category is chosen from the desk's list of the request's type, named in the language
    classify.get_by_label(w("Category"), exact=True).select_option(
        label="数据库" if w.zh else "Database"
    )
    classify.get_by_label(w("Priority"), exact=True).select_option("P2")
    classify.get_by_label(w("Confirmed with the customer"), exact=True).fill(
        "电话确认:全部用户无法登录,期望当天恢复。"
        if w.zh
        else "Confirmed by phone: nobody can log in; back today."
    )
    classify.get_by_role("button", name=w("Save classification")).click()
    header = sp.locator("header.request-header")
    expect(header.locator(".chip")).to_have_text(w("Pending assignment"))
    expect(sp.locator("#panel-classify [role=status]")).to_have_text(
        w("Classified: %(type)s, %(priority)s.", type=w("Fault"), priority=w("P2 important"))
    )
    expect(header).to_contain_text(w("P2 important"))
    expect(header).to_contain_text("数据库" if w.zh else "Database")
    supervisor.check("classified")

    # ---- (3) the dispatcher assigns it from the ranked candidates, adds a collaborator ------
    dispatcher = visit("dispatcher", locale=locale)
    dispatcher.login(DISPATCHER, staff=True)
    dp = dispatcher.page
    dispatcher.goto(f"/staff/requests/{number}", "request to assign")
    assign = dp.locator("#panel-assign")
    candidate = assign.locator("tr.candidate", has_text=ENGINEER_NAME)
    # the ranking says why: the matching skill and its level, the open load
    expect(candidate.locator(".candidate-reason")).to_contain_text(
        w.pattern("Skill %(skill)s level %(level)s", skill=".+", level=r"[1-5]")
    )
    candidate.get_by_role("radio").check()
    assign.get_by_role("button", name=w("Assign and notify")).click()
    header = dp.locator("header.request-header")
    expect(header.locator(".chip")).to_have_text(w("In progress"))
    expect(dp.locator("#panel-assign [role=status]")).to_have_text(
        w("Assigned to %(name)s; they have been notified.", name=ENGINEER_NAME)
    )
    expect(header).to_contain_text(ENGINEER_NAME)
    collab = dp.locator("#panel-collaborator")
    person = collab.get_by_label(w("Collaborator"), exact=True)
    # the option reads "王涛 · <department>"
    person.select_option(
        person.locator("option", has_text=COLLABORATOR_NAME).get_attribute("value")
    )
    collab.get_by_label(w("Interface person"), exact=True).fill(COLLABORATOR_NAME)
    collab.get_by_label(w("What they collaborate on"), exact=True).fill(
        "重启数据库服务并检查主从复制"
        if w.zh
        else "Restart the database service and check replication"
    )
    collab.get_by_role("button", name=w("Add collaborator")).click()
    expect(dp.locator("#panel-collaborator [role=status]")).to_have_text(
        w("%(name)s now collaborates on this request.", name=COLLABORATOR_NAME)
    )
    expect(dp.locator("section[aria-labelledby=h-collab]")).to_contain_text(COLLABORATOR_NAME)
    dispatcher.check("assigned with a collaborator")

    # ---- (4) the engineer logs a step and asks the customer ---------------------------------
    engineer = visit("engineer", locale=locale)
    engineer.login(ENGINEER, staff=True)
    ep = engineer.page
    engineer.goto(f"/staff/requests/{number}", "assigned request")
    step = ep.locator("#panel-step")
    step.get_by_label(w("Operation and result"), exact=True).fill(first_step)
    step.get_by_role("button", name=w("Add step")).click()
    expect(ep.locator("#panel-step [role=status]")).to_have_text(
        w("Step added to the handling record.")
    )
    handling = ep.locator("section[aria-labelledby=h-handling]")
    expect(handling).to_contain_text(first_step)
    ask = ep.locator("#panel-ask")
    ask.get_by_label(w("What the customer should provide"), exact=True).fill(question)
    ask.get_by_role("button", name=w("Ask and notify the customer")).click()
    header = ep.locator("header.request-header")
    expect(header.locator(".chip")).to_have_text(w("Awaiting customer"))
    asked = ep.locator("section[aria-labelledby=h-timeline] li.entry-cooperation")
    expect(asked).to_contain_text(w("Asked the customer"))
    expect(asked).to_contain_text(question)
    engineer.check("asked the customer")

    # ---- (4b) the customer reads the notification on their page and marks it read -----------
    customer.goto("/notifications", "notifications with the question")
    group = cp.locator("article.notif-group", has=cp.locator("h3", has_text=number)).first
    expect(group.locator("h3")).to_contain_text(title)
    told = group.locator("li.notif-unread[data-kind=cooperation_requested]")
    expect(told).to_have_count(1)
    expect(told.locator("a.notif-text")).to_have_attribute(
        "href", f"/requests/{number}#panel-answer"
    )
    badge = cp.locator("#notif-badge .badge")
    unread = int(badge.get_attribute("data-unread"))
    told_id = told.get_attribute("id")
    told.get_by_role("button", name=re.compile("^" + re.escape(w("Mark read")))).click()
    expect(cp.locator(f"#{told_id}")).to_have_class(re.compile(r"\bnotif-read\b"))
    if unread > 1:
        expect(badge).to_have_attribute("data-unread", str(unread - 1))
    else:
        expect(badge).to_have_count(0)
    customer.check("notification marked read")
    customer.shot(f"customer-notifications-{tag}")
    cp.locator(f"#{told_id} a.notif-text").click()
    expect(cp).to_have_url(re.compile(rf"/requests/{number}#panel-answer$"))

    # ---- (5) the customer sees the question and answers it ----------------------------------
    customer.goto(f"/requests/{number}", "request with a question")
    expect(cp.locator(".request-head .chip")).to_have_text(w("Awaiting customer"))
    panel = cp.locator("#panel-answer")
    expect(panel.get_by_role("heading")).to_have_text(
        w("The service desk needs something from you")
    )
    expect(panel.locator(".question-what")).to_have_text(question)
    expect(cp.locator("#panel-progress")).to_contain_text(first_step)
    panel.get_by_label(w("Your answer"), exact=True).fill(answer)
    with cp.expect_navigation():
        panel.get_by_role("button", name=w("Send answer")).click()
    expect(cp.locator(".flash")).to_have_text(
        w("Thank you: your answer has been sent and the work continues.")
    )
    expect(cp.locator(".request-head .chip")).to_have_text(w("In progress"))
    expect(cp.locator("#panel-progress .answer")).to_have_text(answer)
    customer.check("question answered")

    # ---- (6) the engineer sees the answer and delivers ---------------------------------------
    def deliver(round_: int) -> str:
        # a reply typed but not yet sent survives the refresh that follows the delivery
        draft = ep.locator("#panel-composer textarea")
        draft_text = f"Draft reply {round_}: not sent yet"
        draft.fill(draft_text)
        panel = ep.locator("#panel-deliver")
        panel.get_by_label(w("Service item"), exact=True).fill(
            "生产系统故障修复" if w.zh else "Production login fault repair"
        )
        panel.get_by_label(w("Deliverables"), exact=True).fill(
            "故障原因分析报告\n系统恢复操作记录"
            if w.zh
            else "Fault cause analysis report\nLog of the database recovery steps"
        )
        panel.get_by_label(w("Acceptance criteria"), exact=True).fill("\n".join(criteria))
        panel.get_by_role("button", name=w("Deliver to the customer")).click()
        notice = ep.locator("#delivery-panels > .flash")
        expect(notice).to_contain_text(SD_NUMBER)
        sd = SD_NUMBER.search(notice.inner_text()).group(0)
        expect(notice).to_have_text(
            w("Delivered as %(number)s; waiting for the customer's acceptance.", number=sd)
        )
        # the rest of the page follows: status, and no more asking the customer
        expect(ep.locator("header.request-header .chip")).to_have_text(w("Pending acceptance"))
        expect(ep.locator("#panel-ask")).to_have_count(0)
        expect(ep.locator("#panel-composer textarea")).to_have_value(draft_text)
        ep.locator("#panel-composer textarea").fill("")
        engineer.check(f"delivered (round {round_})")
        return sd

    timeline = ep.locator("section[aria-labelledby=h-timeline] li.entry-cooperation")
    engineer.goto(f"/staff/requests/{number}", "answered request")
    expect(timeline.locator(".answer")).to_contain_text(answer)
    expect(ep.locator("header.request-header .chip")).to_have_text(w("In progress"))
    first_sd = deliver(1)

    # ---- (7) the customer signs a fail with an unmet item; the desk sees the rework ---------
    def review(sd: str, *, passes: bool) -> None:
        customer.goto(f"/requests/{number}", f"delivery {sd} to review")
        expect(cp.locator(".request-head .chip")).to_have_text(w("Pending acceptance"))
        panel = cp.locator("#panel-acceptance")
        expect(panel.get_by_role("heading", level=2)).to_have_text(
            w("Review the delivery %(number)s", number=sd)
        )
        customer.check(f"acceptance form {sd}")
        form = panel.locator("form")
        checklist = form.locator("fieldset.criteria-checklist")
        checklist.get_by_label(criteria[0]).check()
        if passes:
            checklist.get_by_label(criteria[1]).check()
            form.get_by_label(w("Pass: the delivery meets the criteria")).check()
        else:
            expect(checklist.get_by_label(criteria[1])).not_to_be_checked()
            form.get_by_label(w("Fail: something is not met")).check()
            form.get_by_label(w("Unmet items"), exact=True).fill(unmet)
            form.get_by_label(w("Rectification asked for"), exact=True).fill(
                "补充数据库连接池耗尽的时间线"
                if w.zh
                else "Add the timeline of the pool exhaustion"
            )
        form.get_by_label(w("Your name, typed (your signature)")).fill("李明")
        _draw_signature(cp, form)
        customer.shot(f"whole-day-{tag}-{'pass' if passes else 'fail'}-signed")
        with cp.expect_navigation():
            form.get_by_role("button", name=w("Sign"), exact=True).click()

    review(first_sd, passes=False)
    expect(cp.locator(".flash")).to_have_text(
        w(
            "You did not accept %(number)s; the handler will rework it as you asked.",
            number=first_sd,
        )
    )
    expect(cp.locator(".request-head .chip")).to_have_text(w("In progress"))
    history = cp.locator("#panel-deliveries article.delivery", has_text=first_sd)
    expect(history.locator(".chip")).to_have_text(w("Not accepted"))
    expect(history).to_contain_text(unmet)
    customer.check("delivery not accepted")

    engineer.goto(f"/staff/requests/{number}", "request to rework")
    header = ep.locator("header.request-header")
    expect(header.locator(".chip")).to_have_text(w("In progress"))
    rework = header.locator("div", has=ep.get_by_text(w("Rework count"), exact=True))
    expect(rework.locator("dd")).to_have_text("1")
    expect(ep.locator("#panel-deliver .notice-warn")).to_contain_text(
        w("The customer did not accept %(number)s.", number=first_sd)
    )
    expect(ep.locator("#panel-deliver .notice-warn")).to_contain_text(unmet)
    signed = ep.locator("#panel-deliveries article.delivery", has_text=first_sd)
    expect(signed.locator(".chip")).to_have_text(w("Not accepted"))
    expect(signed.get_by_role("img", name=w("Drawn signature"))).to_be_visible()
    step = ep.locator("#panel-step")
    step.get_by_label(w("Operation and result"), exact=True).fill(rework_step)
    step.get_by_role("button", name=w("Add step")).click()
    expect(ep.locator("#panel-step [role=status]")).to_have_text(
        w("Step added to the handling record.")
    )
    expect(ep.locator("section[aria-labelledby=h-handling]")).to_contain_text(rework_step)
    second_sd = deliver(2)
    assert second_sd != first_sd

    # ---- (8) the customer passes it with a drawn signature and rates the service ------------
    review(second_sd, passes=True)
    expect(cp.locator(".flash")).to_have_text(
        w("You accepted %(number)s. Please rate the service below.", number=second_sd)
    )
    expect(cp.locator(".request-head .chip")).to_have_text(w("Completed"))
    expect(
        cp.locator("#panel-deliveries article.delivery", has_text=second_sd).locator(".chip")
    ).to_have_text(w("Accepted"))
    rate = cp.locator("#panel-rate")
    expect(rate.get_by_role("heading", level=2)).to_have_text(w("Rate the service"))
    customer.check("rating form")
    for legend, score in (
        ("Response timeliness", "5"),
        ("Handling effect", "4"),
        ("Service attitude", "5"),
    ):
        rate.get_by_role("group", name=w(legend)).get_by_label(score, exact=True).check()
    rate.get_by_label(w("Suggestions"), exact=True).fill(
        "响应很快,报告可以更早提供" if w.zh else "Quick response; the report could come sooner"
    )
    with cp.expect_navigation():
        rate.get_by_role("button", name=w("Send my rating")).click()
    flash = cp.locator(".flash")
    expect(flash).to_contain_text(FB_NUMBER)
    fb = FB_NUMBER.search(flash.inner_text()).group(0)
    expect(flash).to_have_text(w("Thank you for your feedback (%(number)s).", number=fb))
    expect(cp.locator(".request-head .chip")).to_have_text(w("Closed"))
    expect(cp.locator("#panel-rate .score-mean")).to_have_text("4.7")
    customer.check("rated and closed")

    # the desk sees the request closed with the rating
    supervisor.goto(f"/staff/requests/{number}", "closed request")
    expect(sp.locator("header.request-header .chip")).to_have_text(w("Closed"))
    feedback = sp.locator("#panel-feedback")
    expect(feedback.get_by_role("heading", level=2)).to_contain_text(fb)
    expect(feedback.locator(".score-mean")).to_have_text("4.7")
    rework = sp.locator(
        "header.request-header div", has=sp.get_by_text(w("Rework count"), exact=True)
    )
    expect(rework.locator("dd")).to_have_text("1")
