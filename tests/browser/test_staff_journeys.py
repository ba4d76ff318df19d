"""Staff journeys in a real browser: a request the desk takes by phone on the Register screen,
seen by the agent and by the customer; the contact card masked for staff who are not on a request
and full for its handler; the dispatcher's board noticing a breached deadline by itself, without a
reload.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

NAV_COUNT = "performance.getEntriesByType('navigation').length"


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


# --- 1. a request the desk registered by phone -----------------------------------------------------


def test_phone_request_registered_by_the_desk_reaches_agent_and_customer(visit, live_desk):
    phone, email = "13812345678", "li.ming@acme.example.com"
    name, org_name = "李明", "华东制造有限公司"
    title = f"车间报工终端无法提交 {datetime.now(UTC):%H%M%S}"

    # the agent opens the Register screen from the navigation
    agent = visit("agent")
    agent.login("agent@desk.example.com", staff=True)
    page = agent.page
    with page.expect_navigation():
        page.get_by_role("link", name="Register request").click()
    expect(page.get_by_role("heading", level=1, name="Register a request")).to_be_visible()
    agent.check("register")

    # the caller gives his mobile number: the search answers in place, masked
    navigations = page.evaluate(NAV_COUNT)
    page.get_by_label("Find the customer").fill(phone)
    page.get_by_role("button", name="Search").click()
    results = page.locator("#contact-results")
    found = results.get_by_role("radio", name=org_name)
    expect(found).to_have_count(1)
    expect(results).to_contain_text(f"{name[0]}*")
    expect(results).to_contain_text("****" + phone[-4:])
    expect(results).to_contain_text("l***@acme.example.com")
    results_html = results.inner_html()
    assert phone not in results_html and email not in results_html and name not in results_html
    assert page.evaluate(NAV_COUNT) == navigations, "the search reloaded the page"
    agent.check("register, contact found")
    agent.shot("register-contact-found", full_page=True)

    # he is the one: the channel, the customer's fields, register
    found.check()
    page.get_by_role("radio", name="Phone", exact=True).check()
    page.get_by_role("radio", name="Fault").check()
    page.get_by_role("radio", name="P2 important").check()
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Description", exact=True).fill(
        "李明来电:三号车间的报工终端从早班开始点“提交”后一直转圈,约 20 人无法报工。"
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Register request").click()
    expect(page).to_have_url(re.compile(r"/staff/requests/SR-\d{8}-\d{3,}$"))
    number = page.url.rsplit("/", 1)[1]
    expect(page.locator(".flash")).to_contain_text(f"Request {number} has been registered.")
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
    agent.check("request registered by phone")
    facts = page.locator(".request-header .facts")
    expect(
        facts.locator("div", has=page.locator("dt", has_text="Channel")).locator("dd")
    ).to_have_text("Phone")
    expect(
        facts.locator("div", has=page.locator("dt", has_text="Organisation")).locator("dd")
    ).to_have_text(org_name)
    expect(
        facts.locator("div", has=page.locator("dt", has_text="Registered by")).locator("dd")
    ).to_have_text("刘洋")
    # the agent is not on the request: the customer's name is masked on the contact card
    expect(page.locator(".contact-card .contact-name")).to_have_text(name[0] + "*")
    (row,) = live_desk.sql(
        """
        select sr.channel, sr.status, c.email, creator.email
          from service_requests sr
          join accounts c on c.id = sr.contact_id
          join accounts creator on creator.id = sr.created_by_id
         where sr.number = :number
        """,
        number=number,
    )
    assert tuple(row) == ("phone", "submitted", email, "agent@desk.example.com")

    # the customer sees it among their requests, and that the desk registered it by phone
    customer = visit("customer")
    customer.login(email)
    cpage = customer.goto("/", "my requests")
    expect(cpage.get_by_role("heading", level=1, name="My requests")).to_be_visible()
    mine = cpage.locator("#request-table tbody tr", has_text=number)
    expect(mine).to_be_visible()
    expect(mine).to_contain_text(title)
    mine.get_by_role("link", name=number).click()
    expect(cpage.get_by_role("heading", level=1, name=title)).to_be_visible()
    customer.check("request registered by phone (customer)")
    expect(cpage.locator(".timeline-submitted")).to_contain_text(
        f"Registered by the service desk via Phone for {name}"
    )
    # the contact themself sees their own contact data in full
    expect(cpage.locator("section[aria-labelledby=contact-h]")).to_contain_text(email)

    # the search went out as /staff/requests/new?q=<the number>: gunicorn's access log
    # (deploy/gunicorn.conf.py) records the path and never the query, and no log keeps the full
    # phone number (the portal's log masking covers the rest)
    logs = live_desk.logs(tail=10**8)
    assert '"GET /staff/requests/new HTTP/1.1" 200' in logs, "the access log did not record it"
    assert "/staff/requests/new?q=" not in logs
    assert phone not in logs


# --- 2. masked for staff not on the request, full for the handler ----------------------------------


def test_contact_masked_for_staff_not_on_the_request_and_full_for_the_handler(visit, live_desk):
    rows = live_desk.sql(
        """
        select sr.number, sr.contact_name, sr.contact_phone, sr.contact_email
          from service_requests sr
          join accounts h on h.id = sr.handler_id
         where h.email = 'engineer1@desk.example.com'
           and sr.contact_phone is not null and sr.contact_email is not null
           and not exists (
                 select 1 from collaborators c join accounts a on a.id = c.account_id
                  where c.request_id = sr.id and a.email = 'engineer2@desk.example.com')
           and not exists (
                 select 1 from contact_reveals r join accounts a on a.id = r.account_id
                  where r.request_id = sr.id and a.email = 'engineer2@desk.example.com')
         order by sr.submitted_at desc
        """
    )
    assert rows, "the demo has a request handled by engineer1 that engineer2 is not on"
    number, name, phone, email = rows[0]
    digits = _digits(phone)
    local, domain = email.rsplit("@", 1)

    # engineer2 is not on it: masks, and the full values nowhere in the HTML
    outsider = visit("engineer2")
    outsider.login("engineer2@desk.example.com", staff=True)
    page = outsider.goto(f"/staff/requests/{number}", "request, not on it")
    card = page.locator(".contact-card")
    expect(card.locator(".contact-phone")).to_have_text("****" + digits[-4:])
    expect(card.locator(".contact-email")).to_have_text(f"{local[0]}***@{domain}")
    expect(card.locator(".contact-name")).to_have_text(name[0] + "*")
    expect(card).to_contain_text("Masked: shown in full only to the handler and collaborators")
    html = page.content()
    assert phone not in html and digits not in html, "the full phone number is in the page"
    assert email not in html, "the full e-mail address is in the page"
    assert name not in html, "the contact's full name is in the page"
    outsider.shot("contact-masked")

    # engineer1 handles it: the full values
    handler = visit("engineer1")
    handler.login("engineer1@desk.example.com", staff=True)
    hpage = handler.goto(f"/staff/requests/{number}", "request, handler")
    hcard = hpage.locator(".contact-card")
    expect(hcard.locator(".contact-phone")).to_have_text(phone)
    expect(hcard.locator(".contact-email")).to_have_text(email)
    expect(hcard.locator(".contact-name")).to_have_text(name)
    expect(hcard).not_to_contain_text("Masked")


# --- 3. the board notices a breach by itself ------------------------------------------------------


def test_board_shows_a_breach_without_a_reload(visit, live_desk):
    rows = live_desk.sql(
        """
        select sr.id, sr.number
          from service_requests sr
         where sr.status = 'in_progress' and sr.handler_id is not null
           and sr.paused_since is null and sr.escalation_level = 0
           and sr.first_response_at is not null
           and sr.resolution_due_at > now() + interval '1 hour'
         order by sr.id
         limit 1
        """
    )
    assert rows, "the demo has an open, assigned request whose resolution is not due soon"
    request_id, number = rows[0]

    dispatcher = visit("dispatcher")
    dispatcher.login("dispatcher@desk.example.com", staff=True)
    page = dispatcher.goto("/staff/board", "board")
    expect(page.get_by_role("heading", level=1, name="Dispatcher board")).to_be_visible()
    breached = page.locator("section.board-breached")
    expect(breached.locator(f"tr[data-number='{number}']")).to_have_count(0)
    navigations = page.evaluate(NAV_COUNT)
    page.evaluate("window.__journeyMarker = 1")

    # time passes: the resolution falls due in three seconds (its warning instant moved with it,
    # to now); the worker's sweep (every second here) notices, the board's poll (2 s) shows it
    now = datetime.now(UTC)
    live_desk.sql(
        "update service_requests set resolution_due_at = :due, resolution_warn_at = :warn,"
        " updated_at = :now where id = :id",
        due=now + timedelta(seconds=3),
        warn=now,
        now=now,
        id=request_id,
    )

    row = breached.locator(f"tr[data-number='{number}']")
    expect(row).to_be_visible(timeout=15_000)
    # the breach escalated the request (level 1, to the supervisor): the board shows the level
    expect(row.locator("td").last).to_have_text("Level 1", timeout=10_000)
    assert page.evaluate(NAV_COUNT) == navigations, "the board reloaded the page"
    assert page.evaluate("window.__journeyMarker") == 1, "the board reloaded the page"
    assert page.url.endswith("/staff/board")
    dispatcher.check("board after the breach")
    dispatcher.shot("dispatcher-board")

    # recorded once, as the escalation of the resolution clock
    events = live_desk.sql(
        "select count(*) from sla_events where request_id = :id and kind = 'resolution_breach'",
        id=request_id,
    )
    assert events[0][0] == 1, events

    # and the dispatcher's request page shows the escalation level and the events
    row.get_by_role("link", name=number).click()
    expect(page.locator("#panel-escalation .escalation-level")).to_have_text("Level 1")
    expect(page.locator("#panel-escalation")).to_contain_text("Resolution breached (level 1)")
    dispatcher.check("request after the breach")

    # the supervisor, the escalation target, was told
    supervisor = visit("supervisor")
    supervisor.login("supervisor@desk.example.com", staff=True)
    spage = supervisor.goto("/staff/notifications", "notifications (supervisor)")
    escalated = spage.locator("li.notif[data-kind=resolution_breach]", has_text=number)
    expect(escalated).to_contain_text("Escalated to you (level 1)")
