from datetime import UTC, datetime, timedelta

from .helpers import next_link, numbers_in

T0 = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)


def _titles(resp):
    return resp.get_data(as_text=True)


def test_contact_sees_only_own_requests(make_client, factory, org_setup):
    s = org_setup
    mine = factory.request(s["alice"], title="小红的请求")
    colleague = factory.request(s["bob"], title="大明的请求")
    foreign = factory.request(s["stranger"], title="外单位的请求")
    alice = make_client()
    alice.login(s["alice"])
    for url in ("/", "/?scope=org"):  # a plain contact cannot widen the scope
        page = alice.get(url).get_data(as_text=True)
        assert numbers_in(page) == [mine.number]
        assert colleague.title not in page and foreign.title not in page


def test_agent_registered_request_is_in_the_contacts_list(make_client, factory, org_setup):
    from portal.services.audit import Actor

    agent = factory.staff("agent")
    by_phone = factory.request(org_setup["alice"], channel="phone", actor=Actor(agent.id))
    alice = make_client()
    alice.login(org_setup["alice"])
    assert numbers_in(alice.get("/").get_data(as_text=True)) == [by_phone.number]


def test_org_admin_switches_between_mine_and_organisation(make_client, factory, org_setup):
    s = org_setup
    own = factory.request(s["admin"], now=T0)
    a = factory.request(s["alice"], now=T0 + timedelta(minutes=1))
    b = factory.request(s["bob"], now=T0 + timedelta(minutes=2))
    foreign = factory.request(s["stranger"], now=T0 + timedelta(minutes=3))
    admin = make_client()
    admin.login(s["admin"])
    assert numbers_in(admin.get("/").get_data(as_text=True)) == [own.number]
    assert numbers_in(admin.get("/?scope=mine").get_data(as_text=True)) == [own.number]
    org_page = admin.get("/?scope=org").get_data(as_text=True)
    assert numbers_in(org_page) == [b.number, a.number, own.number]
    assert foreign.number not in org_page
    # the org admin sees who the contact of a colleague's request is (in full: their org)
    assert "李小红" in org_page
    assert 'value="org" checked' in org_page


def test_status_tabs_count_each_status(make_client, factory, org_setup, db_session):
    alice = org_setup["alice"]
    statuses = ["submitted"] * 3 + ["in_progress"] * 2 + ["awaiting_customer", "closed"]
    for status in statuses:
        sr = factory.request(alice)
        sr.status = status
    factory.request(org_setup["bob"]).status = "closed"  # not hers: not counted
    db_session.flush()
    client = make_client()
    client.login(alice)
    page = client.get("/").get_data(as_text=True)

    def tab_count(label):
        import re

        m = re.search(re.escape(label) + r'\s*<span class="count">(\d+)</span>', page)
        assert m, label
        return int(m.group(1))

    assert tab_count("All") == 7
    assert tab_count("Awaiting classification") == 3
    assert tab_count("Pending assignment") == 0
    assert tab_count("In progress") == 2
    assert tab_count("Awaiting customer") == 1
    assert tab_count("Pending acceptance") == 0
    assert tab_count("Completed") == 0
    assert tab_count("Closed") == 1
    in_progress = client.get("/?status=in_progress").get_data(as_text=True)
    assert len(numbers_in(in_progress)) == 2


def test_search_by_number_and_by_title(make_client, factory, org_setup):
    alice = org_setup["alice"]
    vpn = factory.request(alice, title="VPN 每天下午断开")
    printer = factory.request(alice, title="打印机卡纸")
    client = make_client()
    client.login(alice)
    assert numbers_in(client.get("/", query_string={"q": "打印机"}).get_data(as_text=True)) == [
        printer.number
    ]
    assert numbers_in(client.get("/", query_string={"q": "vpn"}).get_data(as_text=True)) == [
        vpn.number
    ]
    by_number = client.get("/", query_string={"q": vpn.number.lower()}).get_data(as_text=True)
    assert numbers_in(by_number) == [vpn.number]
    nothing = client.get("/", query_string={"q": "100%_"}).get_data(as_text=True)
    assert numbers_in(nothing) == []
    assert "No request matches" in nothing


def test_keyset_paging_gives_every_row_once(make_client, factory, org_setup, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 4)
    alice = org_setup["alice"]
    created = []
    for i in range(11):
        # pairs of requests share an update time: the id breaks the tie
        created.append(factory.request(alice, now=T0 + timedelta(minutes=i // 2)))
    expected = [
        sr.number for sr in sorted(created, key=lambda r: (r.updated_at, r.id), reverse=True)
    ]
    client = make_client()
    client.login(alice)
    seen, url, pages = [], "/", 0
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += numbers_in(page)
        pages += 1
        if pages > 1:
            assert "First page" in page
        url = next_link(page)
    assert pages == 3
    assert seen == expected


def test_htmx_request_gets_only_the_table_fragment(make_client, factory, org_setup):
    alice = org_setup["alice"]
    sr = factory.request(alice)
    client = make_client()
    client.login(alice)
    resp = client.get(
        "/?status=submitted", headers={"HX-Request": "true", "HX-Target": "request-table"}
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<html" not in body and "<form" not in body
    assert body.lstrip().startswith('<div id="request-table"')
    assert sr.number in body
    assert "HX-Request" in resp.headers.get("Vary", "")
    full = client.get("/?status=submitted").get_data(as_text=True)
    assert "<html" in full and 'id="request-table"' in full


def _with_handlers(factory, contact, n, engineers):
    rows = []
    for i in range(n):
        sr = factory.request(contact)
        sr.handler_id = engineers[i % len(engineers)].id
        sr.status = "in_progress"
        rows.append(sr)
    factory.session.flush()
    return rows


def test_list_runs_the_same_number_of_queries_for_3_and_30_rows(
    make_client, factory, org_setup, count_queries
):
    engineers = [factory.staff("engineer", name=f"张工{i}") for i in range(5)]
    few, many = org_setup["alice"], org_setup["bob"]
    _with_handlers(factory, few, 3, engineers)
    _with_handlers(factory, many, 30, engineers)
    counted = []
    for contact, rows in ((few, 3), (many, 30)):
        client = make_client()
        client.login(contact)
        with count_queries() as statements:
            page = client.get("/").get_data(as_text=True)
        assert len(numbers_in(page)) == rows
        assert "张*" in page and "张工0" not in page  # handler masked
        counted.append(len(statements))
    assert counted[0] == counted[1]
