"""The staff Register screen (docs/product.md §2 step 1, ``/staff/requests/new``): the desk's intake for
calls, e-mails and visits, with the contact search masked and an optional initial
classification for supervisors."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, Classification, ServiceRequest

URL = "/staff/requests/new"
PHONE = "13812345678"
EMAIL = "li.ming@acme.example.com"
NAME = "李明"
RESULTS = re.compile(r'<fieldset[^>]*id="contact-results".*?</fieldset>', re.S)


@pytest.fixture
def desk(factory):
    acme = factory.organisation("华东制造有限公司", code="ACME")
    other = factory.organisation("星辰零售", code="STAR")
    factory.category("fault", "login", name_zh="登录与认证", name_en="Login")
    return {
        "acme": acme,
        "other": other,
        "li": factory.customer(acme, name=NAME, phone=PHONE, email=EMAIL),
        "zhao": factory.customer(
            other, name="赵敏", phone="13700001111", email="zhao@star.example"
        ),
        "agent": factory.staff("agent", name="刘洋"),
    }


def _form(contact_id, **overrides):
    data = {
        "contact": str(contact_id) if contact_id is not None else "",
        "channel": "phone",
        "type": "fault",
        "urgency": "P2",
        "title": "ERP 无法登录",
        "description": "客户来电:早上 8 点起 ERP 登录页提示数据库连接超时,车间 30 人受影响。",
        "expected_completion": "",
        "contact_name": "",
        "contact_phone": "",
        "contact_email": "",
    }
    data.update(overrides)
    return data


def _results(html: str) -> str:
    found = RESULTS.search(html)
    assert found, "no contact results on the page"
    return found.group(0)


def _count(db_session, model) -> int:
    return db_session.scalar(select(func.count()).select_from(model))


def test_the_agent_registers_a_phone_request_for_a_customer(client, db_session, desk):
    client.login(desk["agent"])
    page = client.get(URL).get_data(as_text=True)
    assert "Register a request" in page
    assert 'href="/staff/requests/new" aria-current="page"' in page  # the nav link

    resp = client.post(URL, data=_form(desk["zhao"].id), content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    match = re.fullmatch(r"/staff/requests/(SR-\d{8}-\d{3,})", resp.location)
    assert match, resp.location
    number = match.group(1)

    sr = db_session.scalar(select(ServiceRequest).where(ServiceRequest.number == number))
    assert (sr.contact_id, sr.organisation_id) == (desk["zhao"].id, desk["other"].id)
    assert sr.created_by_id == desk["agent"].id
    assert (sr.channel, sr.status, sr.type, sr.proposed_urgency) == (
        "phone",
        "submitted",
        "fault",
        "P2",
    )
    # the contact fields left empty: the contact's own on record
    assert (sr.contact_name, sr.contact_phone, sr.contact_email) == (
        "赵敏",
        "13700001111",
        "zhao@star.example",
    )
    assert sr.response_due_at is not None  # the SLA clocks started at submission
    event = db_session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "request.submitted", AuditEvent.object_id == number
        )
    )
    assert event.actor_id == desk["agent"].id
    assert event.after["channel"] == "phone"

    detail = client.get(resp.location).get_data(as_text=True)
    assert f"Request {number} has been registered." in detail
    assert re.search(r"<dt>Channel</dt><dd>Phone</dd>", detail)
    assert re.search(r"<dt>Registered by</dt><dd>刘洋</dd>", detail)
    # the agent is not on the request: the contact stays masked on its page
    assert "13700001111" not in detail and "****1111" in detail


def test_the_customer_sees_who_registered_it_and_how(client, make_client, db_session, desk):
    client.login(desk["agent"])
    resp = client.post(
        URL,
        data=_form(
            desk["li"].id,
            channel="email",
            contact_name="李明(代)",
            contact_phone="021-66668888",
        ),
    )
    number = resp.location.rsplit("/", 1)[1]
    sr = db_session.scalar(select(ServiceRequest).where(ServiceRequest.number == number))
    assert (sr.channel, sr.contact_name, sr.contact_phone, sr.contact_email) == (
        "email",
        "李明(代)",
        "021-66668888",
        EMAIL,
    )
    customer = make_client()
    customer.login(desk["li"])
    assert number in customer.get("/").get_data(as_text=True)
    page = customer.get(f"/requests/{number}").get_data(as_text=True)
    assert "Registered by the service desk via E-mail for 李明(代)" in page


@pytest.mark.parametrize("q", [PHONE, "138 1234 5678", "+86 138-1234-5678", EMAIL, EMAIL.upper()])
def test_search_finds_a_whole_phone_number_or_e_mail_and_shows_them_masked(client, desk, q):
    client.login(desk["agent"])
    fragment = client.get(URL, query_string={"q": q}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    body = fragment.get_data(as_text=True)
    assert 'id="contact-results"' in body
    assert "<html" not in body  # the fragment alone
    assert f'value="{desk["li"].id}"' in body
    assert "李*" in body and "****5678" in body and "l***@acme.example.com" in body
    assert "华东制造有限公司" in body
    for secret in (PHONE, EMAIL, NAME, "1234-5678"):
        assert secret not in body
    assert f'value="{desk["zhao"].id}"' not in body

    # without JavaScript: the whole page, with the same results
    page = client.get(URL, query_string={"q": q}).get_data(as_text=True)
    assert "<html" in page
    results = _results(page)
    assert f'value="{desk["li"].id}"' in results and "****5678" in results
    assert PHONE not in results and EMAIL not in results and NAME not in results


@pytest.mark.parametrize("q", ["12345678", "5678", "li.ming@", "acme.example.com", "@acme"])
def test_fragments_of_a_phone_number_or_e_mail_find_nobody(client, desk, q):
    client.login(desk["agent"])
    body = client.get(URL, query_string={"q": q}, headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert 'type="radio"' not in body
    assert "No customer contact matches" in body


@pytest.mark.parametrize("q", ["李", "华东", "acme", "STAR"])
def test_search_by_part_of_a_name_or_an_organisation(client, desk, q):
    client.login(desk["agent"])
    body = client.get(URL, query_string={"q": q}, headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    expected = desk["zhao"] if q == "STAR" else desk["li"]
    assert f'value="{expected.id}"' in body


def test_search_skips_staff_inactive_contacts_and_wildcards(client, factory, db_session, desk):
    gone = factory.customer(desk["acme"], name="李离职", phone="13600009999")
    gone.active = False
    staff = factory.staff("engineer", name="李工程")
    db_session.flush()
    client.login(desk["agent"])

    def ids(q):
        body = client.get(URL, query_string={"q": q}, headers={"HX-Request": "true"})
        return set(re.findall(r'name="contact" value="(\d+)"', body.get_data(as_text=True)))

    assert ids("李") == {str(desk["li"].id)}
    assert str(gone.id) not in ids("13600009999")
    assert str(staff.id) not in ids(staff.email)
    assert ids("%") == set() and ids("_") == set()


def test_search_costs_the_same_queries_for_many_matches(client, factory, desk, count_queries):
    client.login(desk["agent"])

    def run():
        with count_queries() as statements:
            resp = client.get(URL, query_string={"q": "客户"}, headers={"HX-Request": "true"})
        assert resp.status_code == 200
        return len(statements), resp.get_data(as_text=True).count('type="radio"')

    factory.customer(desk["acme"], name="王客户")
    few = run()
    for _ in range(12):
        factory.customer(desk["other"], name="陈客户")
    many = run()
    assert (few[1], many[1]) == (1, 13)
    assert few[0] == many[0]


@pytest.mark.parametrize("roles", [("engineer",), ("dispatcher",), ("engineer", "dispatcher")])
def test_engineers_and_dispatchers_may_not_register(client, db_session, factory, desk, roles):
    client.login(factory.staff(*roles))
    assert client.get(URL).status_code == 403
    assert (
        client.get(URL, query_string={"q": PHONE}, headers={"HX-Request": "true"}).status_code
        == 403
    )
    before = _count(db_session, ServiceRequest)
    assert client.post(URL, data=_form(desk["li"].id)).status_code == 403
    assert _count(db_session, ServiceRequest) == before
    queue = client.get("/staff/queue").get_data(as_text=True)
    assert 'href="/staff/requests/new"' not in queue


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
def test_agents_supervisors_and_admins_see_the_link(client, factory, role):
    client.login(factory.staff(role))
    assert 'href="/staff/requests/new"' in client.get("/staff/queue").get_data(as_text=True)
    assert client.get(URL).status_code == 200


def test_validation_errors_keep_typed_values_and_save_nothing(client, db_session, desk):
    client.login(desk["agent"])
    before = (_count(db_session, ServiceRequest), _count(db_session, AuditEvent))
    resp = client.post(
        URL,
        data=_form(
            None,
            channel="on_site",
            urgency="P1",
            title="",
            description="VPN 在 9 点后断开",
            contact_email="not-an-email",
            contact_phone="13912345678",
        ),
    )
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "Please correct the fields marked below." in page
    assert "Find the customer and choose the contact it is for." in page
    assert "Give the request a short title." in page
    assert "Enter a valid e-mail address." in page
    assert "VPN 在 9 点后断开" in page
    assert 'value="not-an-email"' in page and 'value="13912345678"' in page
    assert re.search(r'<input[^>]*checked[^>]*value="P1"|<input[^>]*value="P1"[^>]*checked', page)
    assert re.search(r'<input[^>]*checked[^>]*value="on_site"|value="on_site"[^>]*checked', page)
    # the count of audit events: a failed login or the like would add one; nothing did
    assert (_count(db_session, ServiceRequest), _count(db_session, AuditEvent)) == before

    # with a contact chosen and another mistake, the chosen contact comes back chosen (masked)
    resp = client.post(URL, data=_form(desk["li"].id, description=""))
    assert resp.status_code == 422
    results = _results(resp.get_data(as_text=True))
    assert re.search(rf'value="{desk["li"].id}"[^>]*checked', results)
    assert "****5678" in results and PHONE not in results
    assert _count(db_session, ServiceRequest) == before[0]


def test_a_contact_that_cannot_be_chosen_is_refused(client, factory, db_session, desk):
    client.login(desk["agent"])
    staff = factory.staff("engineer")
    for bad in (staff.id, 999_999):
        resp = client.post(URL, data=_form(bad))
        assert resp.status_code == 422
        assert "That contact cannot be chosen: search again." in resp.get_data(as_text=True)
    # the portal is not a channel the desk registers by
    resp = client.post(URL, data=_form(desk["li"].id, channel="portal"))
    assert resp.status_code == 422
    assert not db_session.scalar(
        select(ServiceRequest.id).where(ServiceRequest.contact_id == desk["li"].id)
    )


def test_a_supervisor_may_classify_while_registering(client, factory, db_session, desk):
    supervisor = factory.staff("supervisor", name="主管")
    client.login(supervisor)
    page = client.get(URL).get_data(as_text=True)
    assert "Initial classification (optional)" in page

    # asked for, the classification needs its answers; nothing is saved until it has them
    data = _form(desk["li"].id, classify_now="y", **{"classify-confirmed_details": ""})
    resp = client.post(URL, data=data)
    assert resp.status_code == 422
    assert "Record what was confirmed with the customer." in resp.get_data(as_text=True)
    assert _count(db_session, Classification) == 0

    data = _form(
        desk["li"].id,
        classify_now="y",
        **{
            "category": "fault:login",
            "classify-impact_scope": "core",
            "classify-urgency": "high",
            "classify-business_importance": "high",
            "classify-priority": "",
            "classify-confirmed_details": "与李明电话确认:车间 30 人无法登录 ERP,今日需恢复。",
        },
    )
    resp = client.post(URL, data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    sr = db_session.scalar(select(ServiceRequest).where(ServiceRequest.contact_id == desk["li"].id))
    assert (sr.status, sr.priority, sr.type, sr.category) == (
        "pending_assignment",
        "P1",
        "fault",
        "login",
    )
    record = db_session.scalar(select(Classification).where(Classification.request_id == sr.id))
    assert record.classified_by_id == supervisor.id
    actions = db_session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_id == sr.number).order_by(AuditEvent.id)
    ).all()
    assert actions[:2] == ["request.submitted", "request.classify"]


def test_an_agent_is_not_offered_the_classification(client, db_session, desk):
    client.login(desk["agent"])
    assert "Initial classification" not in client.get(URL).get_data(as_text=True)
    data = _form(
        desk["li"].id,
        classify_now="y",
        **{"classify-impact_scope": "core", "classify-confirmed_details": "x"},
    )
    resp = client.post(URL, data=data)
    assert resp.status_code == 302
    sr = db_session.scalar(select(ServiceRequest).where(ServiceRequest.contact_id == desk["li"].id))
    assert sr.status == "submitted" and sr.priority is None


def test_the_page_in_chinese(client, factory, desk):
    client.login(factory.staff("agent", locale="zh_CN"))
    page = client.get(URL, query_string={"q": PHONE}).get_data(as_text=True)
    assert 'lang="zh-CN"' in page
    for text in ("登记服务请求", "渠道", "电话", "电子邮件", "现场", "本请求的联系人", "故障类"):
        assert text in page, text
    assert "影响核心业务" in page and "李*" in page and "****5678" in page
    assert "Register a request" not in page and "Channel" not in page
    resp = client.post(URL, data=_form(None, title=""))
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "请更正下方标出的字段。" in page and "请为请求填写简短的标题。" in page
    assert "Give the request a short title." not in page
