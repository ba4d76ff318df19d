"""The notification settings pages: each side's, reached from its account page; per category
instant, daily digest or off; bad input errors and writes nothing (docs/product.md §9)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.models import NotificationPreference
from portal.services import preferences


def _logged_in(make_client, account):
    client = make_client()
    client.login(account)
    return client


SIDES = [("customer", ""), ("staff", "/staff")]


def _account(factory, side):
    return factory.customer() if side == "customer" else factory.staff("engineer")


@pytest.mark.parametrize(("side", "prefix"), SIDES)
def test_the_page_shows_the_choices_and_saves_them(make_client, factory, db_session, side, prefix):
    account = _account(factory, side)
    client = _logged_in(make_client, account)
    assert f'href="{prefix}/account/notifications"' in client.get(f"{prefix}/account").text
    page = client.get(f"{prefix}/account/notifications")
    assert page.status_code == 200
    html = page.text
    for label in ("Mail at once", "Daily digest", "No mail", "Improvement measures"):
        assert label in html
    assert 'name="mode-sla" value="instant" checked' in html
    assert "Security mail (invitations, password resets) is always sent." in html

    resp = client.post(
        f"{prefix}/account/notifications",
        data={"mode-sla": "digest", "mode-feedback": "off", "mode-conversation": "instant"},
    )
    assert resp.status_code == 302
    modes = preferences.modes_for(db_session, account.id)
    assert (modes["sla"], modes["feedback"], modes["conversation"]) == ("digest", "off", "instant")
    shown = client.get(f"{prefix}/account/notifications").text
    assert 'name="mode-sla" value="digest" checked' in shown
    assert 'name="mode-feedback" value="off" checked' in shown


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mode-sla": "digest", "mode-feedback": "weekly"}, "Choose one of"),
        ({"mode-sla": "digest", "mode-security": "off"}, "There is no notification category"),
    ],
)
def test_a_bad_value_errors_and_writes_nothing(make_client, factory, db_session, data, message):
    customer = factory.customer()
    client = _logged_in(make_client, customer)
    resp = client.post("/account/notifications", data=data)
    assert resp.status_code == 422
    assert message in resp.text
    # what was chosen validly is kept on the page, and nothing is stored
    assert 'name="mode-sla" value="digest" checked' in resp.text
    count = db_session.scalar(
        select(func.count())
        .select_from(NotificationPreference)
        .where(NotificationPreference.account_id == customer.id)
    )
    assert count == 0


def test_without_the_csrf_token_nothing_is_written(make_client, factory, db_session):
    customer = factory.customer()
    client = _logged_in(make_client, customer)
    resp = client.post("/account/notifications", data={"mode-sla": "off"}, csrf=False)
    assert resp.status_code == 400
    assert preferences.modes_for(db_session, customer.id)["sla"] == "instant"


def test_a_customer_cannot_reach_the_staff_page(make_client, factory):
    client = _logged_in(make_client, factory.customer())
    assert client.get("/staff/account/notifications").status_code == 403
    assert client.post("/staff/account/notifications", data={"mode-sla": "off"}).status_code == 403


def test_the_page_speaks_chinese(make_client, factory):
    client = _logged_in(make_client, factory.customer(locale="zh_CN"))
    html = client.get("/account/notifications").text
    assert "每日摘要" in html and "Daily digest" not in html
