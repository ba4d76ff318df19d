"""The staff queue: views, filters, counts, keyset pages, fragments, masking, query counts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.models import Collaborator, utcnow
from tests.staff.helpers import link, numbers, view_counts

BASE = utcnow().replace(microsecond=0) - timedelta(days=2)


@pytest.fixture
def desk(factory, db_session):
    """Two organisations, three staff and eight requests in every state that matters."""
    acme = factory.organisation("Acme Steel", code="ACME")
    bolt = factory.organisation("Bolt Logistics", code="BOLT")
    alice = factory.customer(
        acme, name="王小明", phone="13912341234", email="wang@acme.example.com"
    )
    bob = factory.customer(bolt, name="赵大力", phone="13800005678")
    me = factory.staff("engineer", name="Me Engineer", locale="en")
    other = factory.staff("engineer", name="Other Engineer", locale="en")
    agent = factory.staff("agent", name="Agent Nosy", locale="en")

    specs = {
        # key: (contact, status, priority, handler, channel, type, title)
        "submitted": (alice, "submitted", None, None, "portal", "fault", "Printer jams on floor 3"),
        "unassigned": (
            bob,
            "pending_assignment",
            "P1",
            None,
            "phone",
            "fault",
            "Warehouse scanner down",
        ),
        "mine_wip": (
            alice,
            "in_progress",
            "P2",
            me,
            "email",
            "optimisation",
            "Slow monthly report",
        ),
        "waiting": (
            bob,
            "awaiting_customer",
            "P3",
            other,
            "portal",
            "consultation",
            "VPN question",
        ),
        "accept": (
            alice,
            "pending_acceptance",
            "P1",
            me,
            "on_site",
            "delivery",
            "Install new server",
        ),
        "closed": (bob, "closed", "P2", me, "portal", "fault", "Old printer issue"),
        "cancelled": (alice, "cancelled", None, None, "portal", "consultation", "Never mind"),
        "completed": (bob, "completed", "P3", other, "phone", "delivery", "Quarterly inspection"),
    }
    rows = {}
    for i, (key, (contact, status, prio, handler, channel, rtype, title)) in enumerate(
        specs.items()
    ):
        sr = factory.request(
            contact, title=title, channel=channel, type=rtype, now=BASE + timedelta(minutes=i)
        )
        sr.status = status
        sr.priority = prio
        sr.handler_id = handler.id if handler else None
        sr.updated_at = BASE + timedelta(hours=i)
        rows[key] = sr
    db_session.flush()
    return {"acme": acme, "bolt": bolt, "me": me, "other": other, "agent": agent, "rows": rows}


def nums(desk, *keys):
    return {desk["rows"][k].number for k in keys}


@pytest.fixture
def me_client(client, desk):
    client.login(desk["me"])
    return client


@pytest.mark.parametrize(
    "view, expected",
    [
        ("mine", ["mine_wip", "accept", "closed"]),
        ("unassigned", ["unassigned"]),
        ("awaiting_classification", ["submitted"]),
        ("awaiting_customer", ["waiting"]),
        ("pending_acceptance", ["accept"]),
        ("open", ["submitted", "unassigned", "mine_wip", "waiting", "accept"]),
        ("closed", ["closed", "cancelled"]),
    ],
)
def test_each_view_shows_its_requests(me_client, desk, view, expected):
    shown = numbers(me_client.get(f"/staff/queue?view={view}"))
    assert set(shown) == nums(desk, *expected)
    assert len(shown) == len(expected)


def test_default_view_is_all_open_newest_update_first(me_client, desk):
    shown = numbers(me_client.get("/staff/queue"))
    r = desk["rows"]
    assert shown == [
        r[k].number for k in ("accept", "waiting", "mine_wip", "unassigned", "submitted")
    ]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("status=in_progress", ["mine_wip"]),
        ("status=completed", ["completed"]),
        ("priority=P1", ["unassigned", "accept"]),
        ("priority=P3", ["waiting", "completed"]),
        ("priority=none", ["submitted", "cancelled"]),
        ("type=delivery", ["accept", "completed"]),
        ("channel=phone", ["unassigned", "completed"]),
        ("channel=on_site", ["accept"]),
        ("mine=y", ["mine_wip", "accept", "closed"]),
        ("unassigned=y", ["submitted", "unassigned", "cancelled"]),
        ("q=printer", ["submitted", "closed"]),
        ("priority=P2&type=fault", ["closed"]),
    ],
)
def test_each_filter_narrows_to_the_right_rows(me_client, desk, query, expected):
    shown = numbers(me_client.get(f"/staff/queue?view=all&{query}"))
    assert sorted(shown) == sorted(nums(desk, *expected))


@pytest.mark.parametrize("typed", ["ACME", "acme", "Acme Steel", "steel", "cm"])
def test_the_organisation_box_finds_an_organisation_by_code_or_name(me_client, desk, typed):
    shown = numbers(me_client.get(f"/staff/queue?view=all&org={typed}"))
    assert set(shown) == nums(desk, "submitted", "mine_wip", "accept", "cancelled")


def test_the_organisation_box_is_a_text_field_not_a_list_of_every_organisation(me_client, desk):
    body = me_client.get("/staff/queue").get_data(as_text=True)
    assert 'name="org"' in body and '<select id="org"' not in body
    assert "Bolt Logistics</option>" not in body
    # what was typed stays in the box; a name that matches nothing shows nothing
    body = me_client.get("/staff/queue?view=all&org=bolt").get_data(as_text=True)
    assert re.search(r'name="org"[^>]*value="bolt"|value="bolt"[^>]*name="org"', body)
    assert numbers(me_client.get("/staff/queue?view=all&org=nobody-here")) == []
    # a % or _ is a character, not a wildcard
    assert numbers(me_client.get("/staff/queue?view=all&org=%25")) == []


def test_organisation_and_assignee_filters(me_client, desk):
    shown = numbers(me_client.get("/staff/queue?view=all&org=ACME"))
    assert set(shown) == nums(desk, "submitted", "mine_wip", "accept", "cancelled")
    other = desk["other"].id
    shown = numbers(me_client.get(f"/staff/queue?view=all&assignee={other}"))
    assert set(shown) == nums(desk, "waiting", "completed")
    # filters stack on the view
    shown = numbers(me_client.get(f"/staff/queue?view=open&assignee={other}"))
    assert set(shown) == nums(desk, "waiting")


def test_text_finds_a_number_exactly_and_nothing_else(me_client, desk):
    target = desk["rows"]["waiting"].number
    assert numbers(me_client.get(f"/staff/queue?view=all&q={target.lower()}")) == [target]
    # a number is not a substring search: a prefix of it finds nothing
    assert numbers(me_client.get(f"/staff/queue?view=all&q={target[:-1]}")) == []


def test_bad_filter_values_are_ignored_not_an_error(me_client, desk):
    resp = me_client.get("/staff/queue?view=nonsense&status=bogus&assignee=abc&after=%%%")
    assert set(numbers(resp)) == nums(
        desk, "submitted", "unassigned", "mine_wip", "waiting", "accept"
    )


def test_counts_per_view(me_client, desk):
    counts = view_counts(me_client.get("/staff/queue/counts"))
    assert counts == {
        "mine": "3",
        "unassigned": "1",
        "awaiting_classification": "1",
        "awaiting_customer": "1",
        "pending_acceptance": "1",
        "open": "5",
        "closed": "2",
        "all": "8",
    }
    # the page shows the same counts, and the fragment polls itself every 30 s
    page = me_client.get("/staff/queue")
    assert view_counts(page) == counts
    body = page.get_data(as_text=True)
    assert 'hx-trigger="every 30s"' in body
    assert "/staff/queue/counts" in body


def test_counts_are_capped(me_client, desk, app, monkeypatch):
    monkeypatch.setitem(app.config, "COUNT_CAP", 3)
    counts = view_counts(me_client.get("/staff/queue/counts"))
    assert counts["open"] == "3+"
    assert counts["all"] == "3+"
    assert counts["mine"] == "3"  # exactly the cap is still exact
    assert counts["closed"] == "2"


def test_counts_follow_changes(me_client, desk, db_session):
    assert view_counts(me_client.get("/staff/queue/counts"))["unassigned"] == "1"
    # a classification moves the request on and, like every change, touches its update time
    desk["rows"]["submitted"].status = "pending_assignment"
    desk["rows"]["submitted"].updated_at = utcnow()
    db_session.flush()
    counts = view_counts(me_client.get("/staff/queue/counts"))
    assert counts["awaiting_classification"] == "0"
    assert counts["unassigned"] == "2"


# ------------------------------------------------------------------------------------ paging


@pytest.fixture
def many(factory, db_session, desk):
    """25 more open requests with ties on the sort keys, so paging has to use the id."""
    contact = factory.customer(desk["acme"])
    made = []
    for i in range(25):
        sr = factory.request(contact, title=f"Batch {i}", now=BASE + timedelta(minutes=100 + i))
        sr.status = "in_progress"
        sr.priority = [None, "P1", "P2", "P3"][i % 4]
        sr.updated_at = BASE + timedelta(hours=i // 3)  # three rows share each update time
        sr.resolution_due_at = None if i % 5 == 0 else BASE + timedelta(days=1, hours=i % 4)
        made.append(sr)
    db_session.flush()
    return made


def _walk(client, first_url):
    seen, pages, url = [], [], first_url
    while url:
        resp = client.get(url)
        page = numbers(resp)
        assert 0 < len(page) <= 4
        pages.append(page)
        seen.extend(page)
        url = link(resp, "next")
        assert len(pages) < 50
    return seen, pages, resp


def _expected_order(rows, sort, desc_flip=False):
    big = BASE + timedelta(days=3650)
    if sort == "updated":
        key = lambda s: (-s.updated_at.timestamp(), -s.id)  # noqa: E731
    elif sort == "priority":
        key = lambda s: (s.priority is None, s.priority or "", -s.updated_at.timestamp(), -s.id)  # noqa: E731
    elif sort == "due":
        key = lambda s: (s.resolution_due_at is None, s.resolution_due_at or big, s.id)  # noqa: E731
    elif sort == "submitted":
        key = lambda s: (-s.submitted_at.timestamp(), -s.id)  # noqa: E731
    else:
        key = lambda s: -s.id  # noqa: E731
    ordered = sorted(rows, key=key)
    if desc_flip:
        # reversed direction; rows without a value stay last
        with_value = [s for s in ordered if not _is_null(s, sort)]
        without = [s for s in ordered if _is_null(s, sort)]
        ordered = list(reversed(with_value)) + list(reversed(without))
    return [s.number for s in ordered]


def _is_null(sr, sort):
    return (sort == "priority" and sr.priority is None) or (
        sort == "due" and sr.resolution_due_at is None
    )


@pytest.mark.parametrize(
    "sort, direction, flip",
    [
        ("updated", "", False),
        ("priority", "", False),
        ("due", "", False),
        ("submitted", "", False),
        ("number", "", False),
        ("due", "desc", True),
        ("updated", "asc", True),
    ],
)
def test_keyset_paging_visits_every_row_once_in_order(
    me_client, app, monkeypatch, desk, many, sort, direction, flip
):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 4)
    open_rows = [
        r
        for r in desk["rows"].values()
        if r.status
        in (
            "submitted",
            "pending_assignment",
            "in_progress",
            "awaiting_customer",
            "pending_acceptance",
        )
    ] + many
    url = f"/staff/queue?view=open&sort={sort}" + (f"&dir={direction}" if direction else "")
    seen, pages, last = _walk(me_client, url)
    assert seen == _expected_order(open_rows, sort, flip)
    assert len(seen) == len(set(seen)) == 30

    # and back again with "previous": the same pages in reverse
    back, resp = [], last
    while prev := link(resp, "prev"):
        resp = me_client.get(prev)
        back.append(numbers(resp))
    assert back == list(reversed(pages[:-1]))
    assert link(resp, "first") is None  # the first page offers no way further back


def test_paging_keeps_filters(me_client, app, monkeypatch, desk, many):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 4)
    seen, _pages, _last = _walk(me_client, "/staff/queue?view=open&priority=P1")
    expected = {s.number for s in many if s.priority == "P1"} | nums(desk, "unassigned", "accept")
    assert sorted(seen) == sorted(expected)


def test_deep_page_skips_no_rows(me_client, app, monkeypatch, desk, many):
    """The fifth page is fetched from its cursor: the database skips nothing (no OFFSET > 0)."""
    from sqlalchemy import event

    monkeypatch.setitem(app.config, "PAGE_SIZE", 4)
    url = "/staff/queue?view=open"
    for _ in range(4):
        url = link(me_client.get(url), "next")
    seen = []

    def _capture(conn, cursor, statement, parameters, context, executemany):
        if "service_requests" in statement and "ORDER BY" in statement:
            seen.append((statement, parameters))

    engine = app.extensions["portal_db"].engine
    event.listen(engine, "before_cursor_execute", _capture)
    try:
        assert len(numbers(me_client.get(url, headers={"HX-Request": "true"}))) == 4
    finally:
        event.remove(engine, "before_cursor_execute", _capture)
    ((statement, parameters),) = seen
    # SQLite spells every LIMIT as "LIMIT ? OFFSET ?": the offset given must be 0
    if "OFFSET" in statement.upper():
        assert list(parameters)[-1] == 0


# ------------------------------------------------------------------------------------ htmx


def test_htmx_request_gets_only_the_table(me_client, desk):
    resp = me_client.get("/staff/queue?view=all&priority=P1", headers={"HX-Request": "true"})
    body = resp.get_data(as_text=True)
    assert "<html" not in body and 'queue-filters"' not in body.split("form=")[0]
    assert '<table class="queue-table">' in body
    assert "queue-views" not in body  # the counts are not recomputed for the table
    assert sorted(numbers(resp)) == sorted(nums(desk, "unassigned", "accept"))
    assert "HX-Request" in resp.headers["Vary"]


def test_full_page_has_the_table_once_and_an_htmx_filter_form(me_client, desk):
    body = me_client.get("/staff/queue").get_data(as_text=True)
    assert "<html" in body
    assert body.count('<table class="queue-table">') == 1
    assert 'hx-target="#queue-table"' in body and 'hx-push-url="true"' in body


def test_boosted_navigation_and_history_restore_get_the_page(me_client, desk):
    for headers in (
        {"HX-Request": "true", "HX-Boosted": "true"},
        {"HX-Request": "true", "HX-History-Restore-Request": "true"},
    ):
        assert "<html" in me_client.get("/staff/queue", headers=headers).get_data(as_text=True)


# ------------------------------------------------------------------------------------ masking


def test_contact_is_masked_for_unrelated_staff(client, desk):
    client.login(desk["agent"])
    body = client.get("/staff/queue?view=all&q=Slow").get_data(as_text=True)
    assert "****1234" in body
    assert "13912341234" not in body
    assert "王小明" not in body and "王*" in body


def test_contact_is_full_for_the_handler_and_a_collaborator(client, make_client, desk, db_session):
    client.login(desk["me"])  # handler of "Slow monthly report"
    body = client.get("/staff/queue?view=all&q=Slow").get_data(as_text=True)
    assert "13912341234" in body and "王小明" in body

    # the agent becomes a collaborator on it: now full for them too, and only on that one
    sr = desk["rows"]["mine_wip"]
    db_session.add(
        Collaborator(
            request_id=sr.id,
            account_id=desk["agent"].id,
            interface_person="Li",
            scope="database",
            added_by_id=desk["me"].id,
        )
    )
    db_session.flush()
    agent = make_client()
    agent.login(desk["agent"])
    body = agent.get("/staff/queue?view=all&org=ACME").get_data(as_text=True)
    assert body.count("13912341234") == 1
    assert "****1234" in body  # the other Acme requests stay masked


# ------------------------------------------------------------------------------------ cost


def _add_rows(factory, db_session, desk, n):
    contact = factory.customer(desk["bolt"])
    for i in range(n):
        sr = factory.request(contact, title=f"Load {i}")
        sr.status = "in_progress"
        sr.priority = "P2"
        sr.handler_id = (desk["me"] if i % 2 else desk["other"]).id
        if i % 3 == 0:
            db_session.add(
                Collaborator(
                    request_id=sr.id,
                    account_id=desk["me"].id,
                    interface_person="x",
                    scope="y",
                    added_by_id=desk["other"].id,
                )
            )
    db_session.flush()


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}])
def test_queue_runs_the_same_number_of_queries_for_3_and_40_rows(
    client, factory, db_session, count_queries, desk, headers
):
    from portal.queue import redis_conn

    client.login(desk["me"])
    url = "/staff/queue?view=open&channel=portal"
    _add_rows(factory, db_session, desk, 1)  # 3 portal rows open with "submitted" and "waiting"
    client.get(url, headers=headers)  # warm up
    redis_conn().flushdb()  # both measures count the views afresh (the cache is keyed anyway)
    with count_queries() as small:
        resp = client.get(url, headers=headers)
    assert len(numbers(resp)) == 3
    _add_rows(factory, db_session, desk, 37)
    with count_queries() as large:
        resp = client.get(url, headers=headers)
    assert len(numbers(resp)) == 40
    assert len(small) == len(large), (small, large)


def test_the_organisation_filter_costs_the_same_with_3_or_63_organisations(
    client, factory, db_session, count_queries, desk
):
    from portal.queue import redis_conn

    client.login(desk["me"])
    url = "/staff/queue?view=all&org=acme"
    client.get(url)  # warm up
    redis_conn().flushdb()
    with count_queries() as few:
        resp = client.get(url)
    assert len(numbers(resp)) == 4
    for i in range(60):
        factory.organisation(f"Acme branch {i:02d}", code=f"ACME-B{i:02d}")
    db_session.flush()
    redis_conn().flushdb()
    with count_queries() as many:
        resp = client.get(url)
    assert len(numbers(resp)) == 4  # the branches have no request
    assert "Acme branch" not in resp.get_data(as_text=True)
    assert len(few) == len(many), (few, many)


# ------------------------------------------------------------------------------------ access


def test_customer_session_gets_403(client, desk, db_session):
    from portal.models import Account

    customer = db_session.get(Account, desk["rows"]["submitted"].contact_id)
    client.login(customer)
    assert client.get("/staff/queue").status_code == 403
    assert client.get("/staff/queue/counts").status_code == 403
    assert client.get(f"/staff/requests/{desk['rows']['submitted'].number}").status_code == 403


def test_anonymous_is_sent_to_staff_login(client, desk):
    resp = client.get("/staff/queue")
    assert resp.status_code == 302 and resp.location.startswith("/staff/login")


# ------------------------------------------------------------------------------------ due times


def test_due_countdown_says_the_risk_in_words(me_client, desk, db_session):
    now = utcnow()
    r = desk["rows"]
    r["unassigned"].submitted_at = now - timedelta(hours=3)
    r["unassigned"].resolution_due_at = now - timedelta(hours=1, minutes=30)  # breached
    r["mine_wip"].submitted_at = now - timedelta(hours=20)
    r["mine_wip"].resolution_due_at = now + timedelta(hours=4, minutes=10)  # 83% used: at risk
    r["accept"].submitted_at = now - timedelta(hours=1)
    r["accept"].resolution_due_at = now + timedelta(days=2, hours=5, minutes=30)  # fine
    r["waiting"].resolution_due_at = now + timedelta(hours=8)
    r["waiting"].paused_since = now - timedelta(hours=1)  # clock stopped
    for key, row in r.items():  # submission sets due times now: the others have none here
        if key not in ("unassigned", "mine_wip", "accept", "waiting"):
            row.resolution_due_at = None
    db_session.flush()
    body = me_client.get("/staff/queue?view=open&sort=due").get_data(as_text=True)
    assert 'class="due due-breached"' in body and "Overdue by 1h 3" in body
    assert 'class="due due-at_risk"' in body and "At risk: 4h " in body
    assert 'class="due due-ok"' in body and "2d 5h left" in body
    assert 'class="due due-paused"' in body and ">Paused<" in body
    # soonest due first, requests without a due time last
    shown = numbers(me_client.get("/staff/queue?view=open&sort=due"))
    assert shown[:4] == [r[k].number for k in ("unassigned", "mine_wip", "waiting", "accept")]
    assert shown[4] == r["submitted"].number


def test_no_match_offers_to_search_all_requests(me_client, desk):
    resp = me_client.get("/staff/queue?view=open&status=closed")
    assert numbers(resp) == []
    assert "Search all requests" in resp.get_data(as_text=True)
    assert numbers(me_client.get("/staff/queue?view=all&status=closed")) == [
        desk["rows"]["closed"].number
    ]


def test_links_carry_only_the_list_arguments(me_client, desk):
    body = me_client.get(
        "/staff/queue?view=all&priority=P1&_external=1&_scheme=javascript&junk=1",
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert "javascript:" not in body and "junk" not in body and "_external" not in body
    assert "priority=P1" in body  # the sort links keep the filters
