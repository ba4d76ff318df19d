"""The dispatcher's board: breached, at risk, overdue-not-started, awaiting customer, load per
engineer; refreshes itself through htmx; a fixed number of queries; only for dispatchers,
supervisors and admins."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from portal.models import HandlingRecord, HandlingStep, SlaEvent, utcnow


def _section(html: str, key: str) -> list[str]:
    m = re.search(rf'class="board-section board-{key}".*?</section>', html, re.S)
    assert m, key
    return re.findall(r'data-number="([^"]+)"', m.group(0))


@pytest.fixture
def desk(factory, db_session):
    now = utcnow()
    org = factory.organisation("Acme Steel")
    contact = factory.customer(org)
    eng = factory.staff("engineer", name="Eng Ada")
    eng2 = factory.staff("engineer", name="Eng Bo")
    dispatcher = factory.staff("dispatcher")

    # due times as the policy sets them (P2: 24 h), so that only the requests meant to be at
    # risk have passed their stored warning instant (75 % of the target used)
    def req(status="in_progress", due=timedelta(hours=21), priority="P2", **fields):
        sr = factory.request(contact, now=now - timedelta(hours=3))
        sr.status, sr.priority = status, priority
        sr.first_response_at = sr.submitted_at
        sr.resolution_due_at = now + due
        for k, v in fields.items():
            setattr(sr, k, v)
        db_session.flush()
        return sr

    breached = req(due=-timedelta(minutes=10), handler_id=eng.id, escalation_level=1)
    resp_breached = req(status="pending_assignment", first_response_at=None)
    resp_breached.response_due_at = now - timedelta(minutes=1)
    # P1, 4 h: 30 min left, past its warning instant (the board reads the stored instant, not
    # whether the warning job has run yet)
    at_risk = req(due=timedelta(minutes=30), handler_id=eng.id, priority="P1")
    fine = req(due=timedelta(days=14), handler_id=eng2.id, priority="P3")
    not_started = req(handler_id=eng2.id, assigned_at=now - timedelta(hours=9))
    db_session.add(
        SlaEvent(request_id=not_started.id, kind="not_started", due_at=now - timedelta(hours=1))
    )
    waiting = req(status="awaiting_customer", paused_since=now - timedelta(hours=1))
    record = HandlingRecord(number=f"IR-T-{fine.id}", request_id=fine.id, handler_id=eng2.id)
    db_session.add(record)
    db_session.flush()
    db_session.add_all(
        [
            HandlingStep(
                record_id=record.id,
                author_id=eng2.id,
                occurred_at=now - timedelta(minutes=5),
                operation="Checked the connection pool settings; raised max to 50.",
                hours=Decimal("1.5"),
            ),
            HandlingStep(
                record_id=record.id,
                author_id=eng2.id,
                occurred_at=now - timedelta(days=30),
                operation="An old step of an earlier week, not counted this week.",
                hours=Decimal("7"),
            ),
        ]
    )
    db_session.flush()
    return {
        "dispatcher": dispatcher,
        "eng": eng,
        "eng2": eng2,
        "breached": breached,
        "resp_breached": resp_breached,
        "at_risk": at_risk,
        "fine": fine,
        "not_started": not_started,
        "waiting": waiting,
        "req": req,
    }


def test_the_board_shows_each_list_and_the_load(client, desk):
    client.login(desk["dispatcher"])
    resp = client.get("/staff/board")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    # most overdue first
    assert _section(html, "breached") == [desk["breached"].number, desk["resp_breached"].number]
    assert _section(html, "at-risk") == [desk["at_risk"].number]
    assert _section(html, "not-started") == [desk["not_started"].number]
    assert _section(html, "awaiting-customer") == [desk["waiting"].number]
    assert desk["fine"].number not in html
    assert "Level 1" in html

    load = re.search(rf'data-engineer="{desk["eng2"].id}">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", load)
    # name, P1, P2, P3, open, hours this week (the old step is not counted)
    assert cells == ["Eng Bo", "0", "1", "1", "2", "1.5"]
    load = re.search(rf'data-engineer="{desk["eng"].id}">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r"<td[^>]*>([^<]*)</td>", load) == ["Eng Ada", "1", "1", "0", "2", "0.0"]


def test_the_board_refreshes_itself_through_htmx(client, desk):
    client.login(desk["dispatcher"])
    page = client.get("/staff/board").get_data(as_text=True)
    assert 'hx-trigger="every 15s"' in page
    assert 'hx-get="/staff/board"' in page
    fragment = client.get("/staff/board", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and 'id="board-body"' in body
    assert fragment.headers.get("Vary") and "HX-Request" in fragment.headers["Vary"]


@pytest.mark.parametrize(
    "roles,status",
    [(("engineer",), 403), (("agent",), 403), (("supervisor",), 200), (("admin",), 200)],
)
def test_only_dispatchers_supervisors_and_admins_see_the_board(client, factory, roles, status):
    client.login(factory.staff(*roles))
    assert client.get("/staff/board").status_code == status


def test_the_board_link_is_in_the_nav_for_those_who_may_see_it(client, factory):
    client.login(factory.staff("dispatcher"))
    assert 'href="/staff/board"' in client.get("/staff/queue").get_data(as_text=True)
    other = factory.staff("engineer")
    client.post("/staff/logout")
    client.login(other)
    assert 'href="/staff/board"' not in client.get("/staff/queue").get_data(as_text=True)


def test_the_board_runs_a_fixed_number_of_queries(client, desk, count_queries):
    client.login(desk["dispatcher"])
    client.get("/staff/board")
    with count_queries() as few:
        assert client.get("/staff/board", headers={"HX-Request": "true"}).status_code == 200
    for _ in range(15):
        desk["req"](due=-timedelta(minutes=5), handler_id=desk["eng"].id)
        desk["req"](status="awaiting_customer", paused_since=utcnow())
    with count_queries() as many:
        resp = client.get("/staff/board", headers={"HX-Request": "true"})
    assert len(_section(resp.get_data(as_text=True), "breached")) == 17
    assert len(many) == len(few)


def test_the_board_in_chinese(client, factory, desk):
    chinese = factory.staff("dispatcher", locale="zh_CN")
    client.login(chinese)
    html = client.get("/staff/board").get_data(as_text=True)
    assert 'lang="zh-CN"' in html
    assert desk["breached"].number in html
