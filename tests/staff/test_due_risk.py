"""The "At risk" badge of the queue and the request page follows the request's stored warning
instant (the policy's warn percentage of the target, in working time on its calendar), and
agrees with the dispatcher's board at every instant."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)


def queue_risk(client, number: str) -> str:
    body = client.get("/staff/queue?view=all").get_data(as_text=True)
    m = re.search(rf'<tr class="risk-(\w+)">\s*<td class="col-number"><a [^>]*>{number}</a>', body)
    assert m, f"{number} not in the queue"
    return m.group(1)


def page_risk(client, number: str) -> str:
    body = client.get(f"/staff/requests/{number}").get_data(as_text=True)
    header = re.search(r'<header class="request-header".*?</header>', body, re.S).group(0)
    m = re.search(r'class="due due-(\w+)"', header)
    return m.group(1) if m else "none"


def board_lists(client) -> dict[str, list[str]]:
    body = client.get("/staff/board", headers={"HX-Request": "true"}).get_data(as_text=True)
    out = {}
    for key in ("breached", "at-risk"):
        m = re.search(rf'class="board-section board-{key}".*?</section>', body, re.S)
        out[key] = re.findall(r'data-number="([^"]+)"', m.group(0))
    return out


@pytest.fixture
def contact(factory):
    return factory.customer(factory.organisation())


@pytest.fixture
def look(client, factory):
    """``with look(instant) as c``: the dispatcher's client, logged in at that instant."""
    dispatcher = factory.staff("dispatcher")

    @contextmanager
    def at_instant(instant: datetime):
        with freeze_time(instant):
            client.login(dispatcher)
            yield client

    return at_instant


def test_a_p3_is_at_risk_after_three_quarters_of_its_working_hours(look, factory, contact):
    # Mon 28 Sep 11:00: 24 working hours end on Thu 8 Oct 11:00 (National Day in between); 75 %
    # (18 h) is used on Wed 30 Sep at 14:00
    sr = factory.request(contact, urgency="P3", now=at(2026, 9, 28, 11))
    assert sr.resolution_due_at == at(2026, 10, 8, 11)
    assert sr.resolution_warn_at == at(2026, 9, 30, 14)
    with look(at(2026, 9, 30, 13, 59)) as c:
        assert queue_risk(c, sr.number) == "ok"
        assert page_risk(c, sr.number) == "ok"
    with look(at(2026, 9, 30, 17, 59)) as c:  # 22 of its 24 working hours used
        assert queue_risk(c, sr.number) == "at_risk"
        assert page_risk(c, sr.number) == "at_risk"
        assert "At risk: 7d 17h left" in c.get("/staff/queue?view=all").get_data(as_text=True)


def test_a_p3_one_working_hour_in_is_not_at_risk_after_the_holiday(look, factory, contact):
    # Wed 30 Sep 17:00: one working hour that day, then the National Day week off
    sr = factory.request(contact, urgency="P3", now=at(2026, 9, 30, 17))
    assert sr.resolution_warn_at == at(2026, 10, 10, 10)
    with look(at(2026, 10, 8, 5)) as c:
        assert queue_risk(c, sr.number) == "ok"
        assert page_risk(c, sr.number) == "ok"
    with look(sr.resolution_warn_at) as c:  # 18 working hours: Sat 10 Oct (调休) 10:00
        assert queue_risk(c, sr.number) == "at_risk"
        assert page_risk(c, sr.number) == "at_risk"


def test_the_badge_and_the_board_agree_at_every_instant(look, factory, contact, db_session):
    start = at(2026, 9, 28, 11)
    p3 = factory.request(contact, urgency="P3", now=start)
    p2 = factory.request(contact, urgency="P2", now=at(2026, 10, 8, 9))
    for sr in (p3, p2):  # answered: only the resolution clock is left to warn about
        sr.first_response_at = sr.submitted_at + timedelta(minutes=30)
    db_session.flush()
    instants = {start + timedelta(hours=6 * i) for i in range(50)}
    for sr in (p3, p2):
        for edge in (sr.resolution_warn_at, sr.resolution_due_at):
            instants |= {edge - timedelta(seconds=1), edge, edge + timedelta(seconds=1)}
    seen = set()
    for instant in sorted(instants):
        with look(instant) as c:
            board = board_lists(c)
            for sr in (p3, p2):
                if instant < sr.submitted_at:
                    continue
                badge = queue_risk(c, sr.number)
                on_board = (
                    "breached"
                    if sr.number in board["breached"]
                    else "at_risk"
                    if sr.number in board["at-risk"]
                    else "ok"
                )
                assert badge == on_board, (sr.number, instant, badge, board)
                assert page_risk(c, sr.number) == badge, (sr.number, instant)
                seen.add(badge)
    assert seen == {"ok", "at_risk", "breached"}
