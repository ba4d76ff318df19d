"""The customer's submit form and the staff queue work by keyboard alone.

After logging in (the harness may use the mouse for that), these journeys press keys only: Tab,
Shift+Tab, arrow keys, Enter and typing. No clicks, no ``fill``, no ``select_option``. Along the
way the focused element must be on screen and show a focus indicator, and a swap of the queue
table by htmx must not drop the focus back at the top of the page.
"""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

CUSTOMER = "li.ming@acme.example.com"
SUPERVISOR = "supervisor@desk.example.com"
PAGE_SIZE = 50  # portal/config.py

# the focused element, for messages ("INPUT#title", "A 'Next'")
DESCRIBE_FOCUS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return 'BODY';
  const text = (e.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 30);
  return e.tagName + (e.id ? '#' + e.id : '') + (e.name ? `[name=${e.name}]` : '')
    + (text ? ` '${text}'` : '');
}"""

# is the focused element on screen, and does it draw a focus indicator?
FOCUS_RING = """() => {
  const e = document.activeElement;
  const s = getComputedStyle(e);
  const r = e.getBoundingClientRect();
  return {
    element: e.tagName + (e.id ? '#' + e.id : ''),
    outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0,
    shadow: s.boxShadow !== 'none',
    onScreen: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0
      && r.top < window.innerHeight && r.left < window.innerWidth,
  };
}"""


def focused(page) -> str:
    return page.evaluate(DESCRIBE_FOCUS)


def tab_to(page, selector: str, *, limit: int, key: str = "Tab") -> list[str]:
    """Press ``key`` until the focused element matches ``selector``; returns the stops passed."""
    passed = []
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate("(s) => !!document.activeElement?.matches(s)", selector):
            return passed
        passed.append(focused(page))
    raise AssertionError(f"{key} x{limit} did not reach {selector}; stops: {passed}")


def assert_focus_shown(page, what: str) -> None:
    ring = page.evaluate(FOCUS_RING)
    assert ring["onScreen"], f"{what} ({ring['element']}) has the focus but is off screen"
    assert ring["outline"] or ring["shadow"], (
        f"{what} ({ring['element']}) has the focus but no visible focus indicator"
    )


def assert_focus_inside(page, selector: str, what: str) -> None:
    inside = page.evaluate(
        "(s) => { const r = document.querySelector(s); "
        "return !!r && document.activeElement !== document.body && r.contains(document.activeElement); }",
        selector,
    )
    assert inside, f"{what}: the focus is on {focused(page)}, not in {selector}"


def test_customer_submits_a_request_by_keyboard_alone(visit, live_desk):
    customer = visit("customer")
    customer.login(CUSTOMER)
    page = customer.page
    keys = page.keyboard
    customer.goto("/requests/new", "new request")

    # the first stop is the skip link, shown when focused; Enter on it moves the focus to <main>
    keys.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    assert_focus_shown(page, "the skip link")
    keys.press("Enter")
    expect(page.locator("main#main")).to_be_focused()

    # the type: the group's first radio is the next stop; an arrow key chooses the next type
    keys.press("Tab")
    expect(page.locator("#type-0")).to_be_focused()
    assert_focus_shown(page, "the first type radio")
    keys.press("ArrowDown")
    consultation = page.locator("input[name=type][value=consultation]")
    expect(consultation).to_be_focused()
    expect(consultation).to_be_checked()
    assert_focus_shown(page, "the chosen type radio")

    # the category: a select of the desk's list, left as it is (not chosen)
    keys.press("Tab")
    expect(page.locator("select[name=category]")).to_be_focused()
    assert_focus_shown(page, "the category select")

    # the urgency: Tab lands on the checked radio (P3 by default), ArrowUp chooses P2
    keys.press("Tab")
    expect(page.locator("input[name=urgency][value=P3]")).to_be_focused()
    keys.press("ArrowUp")
    p2 = page.locator("input[name=urgency][value=P2]")
    expect(p2).to_be_focused()
    expect(p2).to_be_checked()
    assert_focus_shown(page, "the urgency radio")

    # first attempt: the title left empty, the description typed
    keys.press("Tab")
    title = page.locator("#title")
    expect(title).to_be_focused()
    assert_focus_shown(page, "the title field")
    keys.press("Tab")
    description = page.locator("#description")
    expect(description).to_be_focused()
    assert_focus_shown(page, "the description field")
    text = "The warehouse printer stops after every page since Monday."
    keys.type(text)

    # on through the date, the prefilled contact fields and the attachments to the submit button
    passed = tab_to(page, "button[type=submit]", limit=20)
    for field in ("contact_name", "contact_phone", "contact_email", "attachments"):
        assert any(f"#{field}" in stop for stop in passed), f"Tab skipped #{field}: {passed}"
    expect(page.locator("#contact_name")).to_have_value("李明")
    expect(page.locator("#contact_email")).to_have_value(CUSTOMER)
    submit = page.get_by_role("button", name="Submit request")
    expect(submit).to_be_focused()
    assert_focus_shown(page, "the submit button")
    customer.expect_status(422)  # the refusal answers 422 with the form and its errors
    with page.expect_navigation():
        keys.press("Enter")

    # refused: announced, the typed text and the choices kept, the focus on the field to correct
    expect(page.get_by_role("alert")).to_have_text("Please correct the fields marked below.")
    expect(page.locator("#title-error")).to_have_text("Give the request a short title.")
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(description).to_have_value(text)
    expect(consultation).to_be_checked()
    expect(p2).to_be_checked()
    expect(title).to_be_focused()
    customer.check("new request refused (no title)")

    # second attempt: type the title where the focus is, then on to the submit button
    subject = f"Keyboard-only request {uuid.uuid4().hex[:6]}"
    keys.type(subject)
    assert_focus_shown(page, "the title field after the error")
    tab_to(page, "button[type=submit]", limit=25)
    assert_focus_shown(page, "the submit button after the error")
    with page.expect_navigation():
        keys.press("Enter")

    expect(page).to_have_url(re.compile(r"/requests/SR-\d{8}-\d{3,}$"))
    number = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", level=1)).to_contain_text(subject)
    expect(page.locator(".flash-success")).to_contain_text(number)
    customer.check("request submitted by keyboard")
    saved = live_desk.sql(
        "SELECT title, description, type, proposed_urgency FROM service_requests "
        "WHERE number = :number",
        number=number,
    )
    assert saved == [(subject, text, "consultation", "P2")], saved


def _fill_the_queue(live_desk, at_least: int) -> list[str]:
    """Closed copies of a closed demo request, numbered on a day of their own, so that the "All"
    view has more than one page. Returns their numbers (removed again by the caller)."""
    total = live_desk.sql("SELECT count(*) FROM service_requests")[0][0]
    missing = max(0, at_least - total)
    if not missing:
        return []
    columns = [
        name
        for (name,) in live_desk.sql(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = 'service_requests' "
            "AND column_name NOT IN ('id', 'number', 'title') ORDER BY ordinal_position"
        )
    ]
    listed = ", ".join(columns)
    rows = live_desk.sql(
        f"INSERT INTO service_requests (number, title, {listed}) "
        f"SELECT 'SR-19990101-' || lpad(g::text, 3, '0'), 'Paging filler ' || g, {listed} "
        "FROM service_requests s, generate_series(1, :n) g "
        "WHERE s.id = (SELECT min(id) FROM service_requests WHERE status = 'closed') "
        "RETURNING number",
        n=missing,
    )
    return [number for (number,) in rows]


def test_staff_queue_by_keyboard_alone(visit, live_desk):
    staff = visit("supervisor")
    staff.login(SUPERVISOR, staff=True)
    page = staff.page
    keys = page.keyboard
    staff.goto("/staff/queue", "queue")
    table = page.locator("#queue-table")
    numbers = table.locator("tbody td.col-number a")
    expect(numbers.first).to_be_visible()
    before = set(numbers.all_text_contents())

    # Tab from the top of the page to the status filter
    status = page.locator("#status")
    tab_to(page, "#status", limit=40)
    assert_focus_shown(page, "the status filter")

    # arrow down through the options as a keyboard user does: each step is a change, and so an
    # htmx request; the table must end up showing the option the select ends on
    by_id = [  # newest first: the order of the Number sort (portal/services/queue.py)
        number
        for (number,) in live_desk.sql(
            "SELECT number FROM service_requests WHERE status = 'in_progress' ORDER BY id DESC"
        )
    ]
    expected = set(by_id)
    assert 0 < len(expected) <= PAGE_SIZE and expected != before, expected
    for _ in range(3):  # Any status → Awaiting classification → Pending assignment → In progress
        keys.press("ArrowDown")
    expect(status).to_have_value("in_progress")
    expect(page).to_have_url(re.compile(r"[?&]status=in_progress(&|$)"))
    expect(table.locator("tbody .chip.status-in_progress")).to_have_count(len(expected))
    expect(table.locator("tbody tr")).to_have_count(len(expected))
    assert set(numbers.all_text_contents()) == expected
    # the select sits outside the swapped table: it keeps the focus
    expect(status).to_be_focused()
    assert_focus_shown(page, "the status filter after the swap")
    staff.check("queue filtered by status (keyboard)")

    # sort by number: the header link is inside the swapped table; the focus stays on it
    tab_to(page, "#queue-table thead a", limit=15)
    sort_link = table.locator("thead th", has_text="Number").get_by_role("link")
    expect(sort_link).to_be_focused()
    assert_focus_shown(page, "the Number sort link")
    keys.press("Enter")
    expect(table.locator("thead th[aria-sort]")).to_contain_text("Number")
    expect(numbers).to_have_text(by_id)
    expect(page).to_have_url(re.compile(r"status=in_progress"))
    assert_focus_inside(page, "#queue-table", "after sorting by keyboard")
    expect(sort_link).to_be_focused()
    staff.check("queue sorted by number (keyboard)")

    # on to the first request link in the table; Enter opens the request
    tab_to(page, "#queue-table tbody a", limit=10)
    assert_focus_shown(page, "the request link")
    first = numbers.first.inner_text()
    expect(numbers.first).to_be_focused()
    keys.press("Enter")
    expect(page).to_have_url(re.compile(rf"/staff/requests/{first}$"))
    expect(page.locator(".request-number")).to_contain_text(first)
    staff.check("request page opened by keyboard")

    # paging: the "All" view filled to more than one page
    fillers = _fill_the_queue(live_desk, PAGE_SIZE + 5)
    try:
        staff.goto("/staff/queue?view=all", "queue, all requests")
        page_one = numbers.all_text_contents()
        assert len(page_one) == PAGE_SIZE
        tab_to(page, "a[rel=next]", limit=PAGE_SIZE + 40)
        assert_focus_shown(page, "the Next page link")
        keys.press("Enter")
        expect(page).to_have_url(re.compile(r"[?&]after="))
        expect(numbers.first).not_to_have_text(page_one[0])
        page_two = numbers.all_text_contents()
        assert page_two and not set(page_two) & set(page_one), page_two
        # the link pressed was replaced with the table: the focus must stay in the table
        assert_focus_inside(page, "#queue-table", "after Next")
        staff.check("queue page 2 (keyboard)")

        # and from there, back to the first page by keyboard (First page comes before Next)
        on_next = page.evaluate("() => document.activeElement.matches('a[rel=next]')")
        tab_to(page, "a[rel=first]", limit=PAGE_SIZE + 40, key="Shift+Tab" if on_next else "Tab")
        assert_focus_shown(page, "the First page link")
        keys.press("Enter")
        expect(page).not_to_have_url(re.compile(r"[?&](after|before)="))
        expect(numbers.first).to_have_text(page_one[0])
        assert numbers.all_text_contents() == page_one
        assert_focus_inside(page, "#queue-table", "after First page")
        keys.press("Tab")
        assert_focus_inside(page, "#queue-table", "Tab after First page")
        staff.check("queue page 1 again (keyboard)")
    finally:
        if fillers:
            live_desk.sql("DELETE FROM service_requests WHERE number = ANY(:n)", n=fillers)
