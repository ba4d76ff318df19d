"""Mail triage in a real browser: a mail from a sender the desk does not know arrives through
`portal mail receive`; the agent sees it counted in the nav, opens it, finds the customer by
phone (masked results, no reload) and makes it a request; the flash links the new request."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from playwright.sync_api import expect

from tests.inbound.mails import mail

NAV_COUNT = "performance.getEntriesByType('navigation').length"


def test_an_agent_makes_a_mail_from_an_unknown_sender_a_request(visit, live_desk):
    subject = f"Label printer offline {datetime.now(UTC):%H%M%S}"
    sender = "night.shift@unknown-sender.example"
    raw = mail(sender, subject, "The label printer in hall 2 stopped printing at 02:00.")
    assert live_desk.portal("mail", "receive", input=raw.decode()).stdout.strip() == "triage"

    agent = visit("agent")
    agent.login("agent@desk.example.com", staff=True)
    page = agent.page
    agent.goto("/staff/queue", "queue")
    nav = page.locator("#mail-nav")
    expect(nav.locator(".badge")).to_be_visible()  # the count loads after the page
    with page.expect_navigation():
        nav.click()
    expect(page.get_by_role("heading", level=1, name="Mail")).to_be_visible()
    row = page.locator("table.mail-list tbody tr", has_text=subject)
    expect(row).to_contain_text(sender)
    expect(row).to_contain_text("The sender is not a known contact.")
    agent.check("mail triage list")

    with page.expect_navigation():
        row.get_by_role("link", name=subject).click()
    expect(page.get_by_role("heading", level=1, name=subject)).to_be_visible()
    expect(page.locator(".mail-text")).to_contain_text("stopped printing")
    agent.check("one mail")

    navigations = page.evaluate(NAV_COUNT)
    page.get_by_label("Find the customer").fill("13812345678")
    page.get_by_role("button", name="Search").click()
    results = page.locator("#contact-results")
    expect(results.get_by_role("radio")).to_have_count(1)
    expect(results).to_contain_text("****5678")
    assert "13812345678" not in results.inner_html()
    assert page.evaluate(NAV_COUNT) == navigations, "the search reloaded the page"
    results.get_by_role("radio").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Make the request", exact=True).click()
    flash = page.locator(".flash")
    expect(flash).to_contain_text(re.compile(r"The mail is now request SR-\d{8}-\d{3,}\."))
    agent.check("mail handled")
    with page.expect_navigation():
        flash.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1, name=subject)).to_be_visible()
    number = page.url.rsplit("/", 1)[1]
    ((channel, status),) = live_desk.sql(
        "select r.channel, m.status from service_requests r "
        "join inbound_mails m on m.request_id = r.id where r.number = :number",
        number=number,
    )
    assert (channel, status) == ("email", "request")
