"""The audit page (issue 12): events as sentences in the reader's language with a details table,
never raw keys or JSON; filters by staff name, action, object and dates; keyset pages in a
constant number of queries (portal/services/audit.audit_page)."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from portal.models import utcnow
from portal.services import audit
from portal.services.audit import Actor, AuditFilters


def _visible(resp) -> str:
    """The page's text as a reader sees it: no markup, attributes, scripts or styles."""
    body = resp.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def _main(resp) -> str:
    text = _visible(resp)
    return text[text.index("Audit log") if "Audit log" in text else text.index("审计日志") :]


def _admin(factory, name="赵静", locale="en"):
    return factory.staff("admin", name=name, locale=locale)


def _scene(factory, db_session):
    admin = _admin(factory)
    org = factory.organisation(name="华东制造")
    contact = factory.customer(org, name="欧阳娜娜", phone="13912345678", email="nana@example.com")
    now = utcnow()
    me = Actor(admin.id)
    audit.record(
        db_session,
        me,
        now,
        "organisation.updated",
        "organisation",
        org.id,
        before={"sla_policy": "标准"},
        after={"sla_policy": "金牌"},
    )
    audit.record(
        db_session,
        me,
        now,
        "contact.updated",
        "contact",
        contact.id,
        before={"name": "欧阳娜娜", "phone": "13912345678"},
        after={"name": "欧阳娜", "phone": "13912340000", "is_org_admin": True},
    )
    audit.record(db_session, me, now, "organisation.merged", "organisation", org.id, after={"x": 1})
    sr = factory.request(contact)  # request.submitted, by the contact
    audit.record(
        db_session,
        audit.SYSTEM,
        now,
        "sla.response_warn",
        "service_request",
        sr.number,
        before={"escalation_level": 0},
        after={"escalation_level": 0, "due_at": now.isoformat(), "notified": [admin.id]},
    )
    return admin, org, contact, sr


def test_the_page_says_events_as_sentences_not_keys_or_json(make_client, factory, db_session):
    admin, org, contact, sr = _scene(factory, db_session)
    client = make_client()
    client.login(admin)
    text = _main(client.get("/staff/admin/audit"))
    assert "赵静 changed 华东制造's SLA policy from 标准 to 金牌" in text
    assert "赵静 did «organisation merged» on organisation 华东制造" in text
    assert f"System warned that the response time of service request {sr.number} runs out" in text
    assert f"欧* submitted service request {sr.number}" in text
    # the contact's change, masked: the sentence and its details
    assert "赵静 changed 欧*: name from 欧* to 欧*, phone from ****5678 to ****0000" in text
    assert "organisation admin" in text and "Yes" in text
    for raw in ("欧阳娜娜", "13912345678", "nana@example.com"):
        assert raw not in client.get("/staff/admin/audit").get_data(as_text=True)
    assert "{" not in text and "}" not in text
    for key in ("organisation.updated", "contact.updated", "request.submitted", "sla.", "_warn"):
        assert key not in text


def test_the_page_in_chinese(make_client, factory, db_session):
    admin, org, contact, sr = _scene(factory, db_session)
    admin.locale = "zh_CN"
    db_session.flush()
    client = make_client()
    client.login(admin)
    text = _main(client.get("/staff/admin/audit"))
    assert "赵静将华东制造的SLA 策略从“标准”改为“金牌”" in text
    assert f"欧*提交了服务请求“{sr.number}”" in text
    assert "详情" in text and "字段" in text and "变更前" in text
    assert "{" not in text and "organisation.updated" not in text and "changed" not in text


def test_the_filters(make_client, factory, db_session):
    admin, org, contact, sr = _scene(factory, db_session)
    other = factory.staff("admin", name="钱多多")
    audit.record(
        db_session,
        Actor(other.id),
        utcnow(),
        "department.created",
        "department",
        factory.department().id,
        after={"code": "ops"},
    )
    client = make_client()
    client.login(admin)

    def sentences(**query) -> list[str]:
        body = client.get("/staff/admin/audit", query_string=query).get_data(as_text=True)
        return [html.unescape(s) for s in re.findall(r'class="audit-sentence">([^<]*)<', body)]

    by_name = sentences(actor="多多")
    assert by_name and all(s.startswith("钱多多") for s in by_name)
    assert not sentences(actor="欧阳")  # a customer's name is not searched
    assert sentences(action="organisation.updated") == [
        "赵静 changed 华东制造's SLA policy from 标准 to 金牌"
    ]
    assert len(sentences(action="organisation.")) == 2  # updated and merged
    assert sentences(object_type="service_request", object_id=sr.number)
    assert all(sr.number in s for s in sentences(object_id=sr.number))
    # the dates are the desk's days (Asia/Shanghai here), not UTC's: 18:00 UTC is already tomorrow
    today = datetime.now(ZoneInfo(client.application.config["PORTAL_TIMEZONE"])).date()
    assert sentences(since=today.isoformat(), until=today.isoformat())
    assert sentences(until=(today - timedelta(days=2)).isoformat()) == []
    # the action filter is a select of the known actions, labelled
    body = client.get("/staff/admin/audit").get_data(as_text=True)
    assert '<option value="organisation.updated">changed</option>' in body
    assert '<optgroup label="Organisation">' in body
    # a bad date is said at its field, the page still answers
    resp = client.get("/staff/admin/audit?since=not-a-date")
    assert resp.status_code == 200 and "has-error" in resp.get_data(as_text=True)


def test_keyset_pages_in_a_constant_number_of_queries(db_session, factory, count_queries):
    admin = _admin(factory)
    org = factory.organisation()
    contact = factory.customer(org)

    def burst(n: int) -> None:
        for i in range(n):
            audit.record(
                db_session,
                Actor(admin.id),
                utcnow(),
                "organisation.updated",
                "organisation",
                org.id,
                before={"code": f"A{i}"},
                after={"code": f"B{i}"},
            )
            audit.record(
                db_session,
                Actor(contact.id),
                utcnow(),
                "contact.updated",
                "contact",
                contact.id,
                before={"phone": "1"},
                after={"phone": "2"},
            )
            audit.record(
                db_session,
                Actor(admin.id),
                utcnow(),
                "staff.updated",
                "staff",
                admin.id,
                after={"level": i},
            )

    burst(2)
    with count_queries() as few:
        small = audit.audit_page(db_session, AuditFilters(), page_size=50)
    burst(20)
    with count_queries() as many:
        large = audit.audit_page(db_session, AuditFilters(), page_size=50)
    assert len(small) >= 6
    assert len(large) == 50
    assert len(many) == len(few) == 3  # the events; organisations; accounts (contact and staff)
    row = next(r for r in large if r.event.action == "contact.updated")
    assert row.object_is_contact and row.actor_is_contact and row.object_label == contact.name
    # the next page starts below the last row, without overlap
    older = audit.audit_page(db_session, AuditFilters(), before_id=large[-1].event.id, page_size=50)
    assert older and max(r.event.id for r in older) < min(r.event.id for r in large)
