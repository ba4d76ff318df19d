"""The SLA policy pages (/staff/admin/sla-policies): the list, a new policy, new targets as a new
version, bad input kept and refused, supervisors read-only, both languages; and the request
page's SLA panel naming the policy and version a request is measured against."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, SlaPolicy, SlaPolicyVersion
from portal.services import sla_policies
from portal.services.audit import SYSTEM
from tests.test_get_writes import recorded_writes

SH = ZoneInfo("Asia/Shanghai")
LIST = "/staff/admin/sla-policies"


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)


@pytest.fixture
def admin(make_client, factory):
    client = make_client()
    client.login(factory.staff("admin"))
    return client


@pytest.fixture
def builtin(db_session):
    return sla_policies.builtin_policy(db_session)


def _form(db_session, policy, **changes) -> dict:
    """The targets form as the page fills it in, with ``changes`` (``P1_respond_amount``: "1")."""
    data = {}
    for t in sla_policies.current_targets(db_session, policy):
        for name in sla_policies.TARGET_FIELDS:
            data[f"{t.priority}_{name}"] = str(getattr(t, name))
    data.update(changes)
    return data


def _versions(db_session) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(SlaPolicyVersion))


def _field_error(body: str, field: str) -> str:
    m = re.search(rf'id="{field}-error">([^<]*)<', body)
    return m.group(1) if m else ""


def test_the_list_shows_each_policy_with_its_version_organisations_and_targets(
    admin, factory, db_session, builtin
):
    gold = sla_policies.create(db_session, SYSTEM, at(2026, 11, 1), "金牌", None)
    sla_policies.update_targets(
        db_session,
        SYSTEM,
        at(2026, 11, 1),
        gold,
        [
            sla_policies.Targets("P1", 1, "hours", 2, "hours", 75, 30),
            *sla_policies.current_targets(db_session, gold)[1:],
        ],
    )
    for _ in range(2):
        org = factory.organisation()
        sla_policies.set_organisation_policy(db_session, SYSTEM, at(2026, 11, 1), org, gold)
    db_session.flush()
    body = admin.get(LIST).get_data(as_text=True)
    row = re.search(rf'<tr data-policy="{gold.id}">.*?</tr>', body, re.S).group(0)
    assert "金牌" in row
    assert '<td class="sla-version">2</td>' in row
    assert '<td class="sla-organisations">2</td>' in row
    assert "P1 1 h / 2 h" in row and "P3 8 working h / 3 working days" in row
    standard = re.search(rf'<tr data-policy="{builtin.id}">.*?</tr>', body, re.S).group(0)
    assert "Standard" in standard and "built-in" in standard
    assert f'href="/staff/admin/sla-policies/{gold.id}"' in row


def test_the_pages_in_chinese(make_client, factory, builtin):
    client = make_client()
    client.login(factory.staff("admin", locale="zh_CN"))
    body = client.get(LIST).get_data(as_text=True)
    assert "标准" in body and "内置" in body and "P1 2 小时 / 4 小时" in body
    page = client.get(f"{LIST}/{builtin.id}").get_data(as_text=True)
    assert "修改只对之后提交的请求生效。" in page
    assert "保存为版本 2" in page


def test_a_new_policy_starts_as_a_copy_and_its_page_shows_the_versions(
    admin, factory, db_session, builtin
):
    resp = admin.post(LIST, data={"new-name": "金牌", "new-copy_from": str(builtin.id)})
    assert resp.status_code == 302
    gold = db_session.scalar(select(SlaPolicy).where(SlaPolicy.name == "金牌"))
    assert resp.location.endswith(f"/staff/admin/sla-policies/{gold.id}")
    assert [
        (t.priority, t.respond_amount) for t in sla_policies.current_targets(db_session, gold)
    ] == [("P1", 2), ("P2", 4), ("P3", 8)]
    org = factory.organisation(name="华东制造")
    sla_policies.set_organisation_policy(db_session, SYSTEM, at(2026, 11, 1), org, gold)
    contact = factory.customer(org)
    factory.request(contact, urgency="P1")
    factory.request(contact, urgency="P2")
    db_session.commit()

    page = admin.get(f"{LIST}/{gold.id}").get_data(as_text=True)
    assert "A change applies to requests submitted afterwards." in page
    assert "2 open requests keep the targets of version 1." in page
    assert "华东制造" in page

    resp = admin.post(f"{LIST}/{gold.id}", data=_form(db_session, gold, P1_respond_amount="1"))
    assert resp.status_code == 302
    assert sla_policies.current_version(db_session, gold.id).number == 2
    page = admin.get(f"{LIST}/{gold.id}").get_data(as_text=True)
    assert "Saved as version 2" in page
    assert "0 open requests keep the targets of version 2." in page
    assert "2 more open requests are still measured against earlier versions." in page
    entry = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "sla_policy.updated")
    ).one()
    assert entry.after["changes"] == "P1 response 2 h → 1 h"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("P1_respond_amount", "0", "A whole number from 1 to 1000."),
        ("P2_resolve_amount", "-3", "A whole number from 1 to 1000."),
        ("P3_respond_amount", "99999999999999999999", "A whole number from 1 to 1000."),
        ("P1_respond_amount", "two", "A whole number from 1 to 1000."),
        ("P1_warn_percent", "100", "A percentage from 1 to 99."),
        ("P2_warn_percent", "0", "A percentage from 1 to 99."),
        ("P3_escalate_after_minutes", "0", "A number of minutes from 1 to 10080."),
    ],
)
def test_bad_targets_come_back_with_the_error_at_the_field_and_save_nothing(
    admin, db_session, builtin, field, value, message
):
    before = _versions(db_session)
    data = _form(db_session, builtin, **{field: value, "P2_respond_amount": "3"})
    resp = admin.post(f"{LIST}/{builtin.id}", data=data)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert _field_error(body, field) == message
    assert re.search(rf'name="{field}"[^>]*value="{re.escape(value)}"', body)  # as typed
    assert re.search(r'name="P2_respond_amount"[^>]*value="3"', body)  # the rest kept too
    assert _versions(db_session) == before


def test_a_duplicate_name_comes_back_with_the_error_and_saves_nothing(admin, db_session, builtin):
    sla_policies.create(db_session, SYSTEM, at(2026, 11, 1), "金牌", None)
    db_session.commit()
    count = db_session.scalar(select(func.count()).select_from(SlaPolicy))
    for name in ("金牌", "Standard", "标准"):
        resp = admin.post(LIST, data={"new-name": name, "new-copy_from": str(builtin.id)})
        body = resp.get_data(as_text=True)
        assert resp.status_code == 422
        assert _field_error(body, "new-name") == "Another policy has this name."
        assert f'value="{name}"' in body
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(SlaPolicy)) == count


def test_rename_and_deactivate_from_the_policy_page(admin, factory, db_session):
    gold = sla_policies.create(db_session, SYSTEM, at(2026, 11, 1), "金牌", None)
    other = sla_policies.create(db_session, SYSTEM, at(2026, 11, 1), "银牌", None)
    org = factory.organisation()
    sla_policies.set_organisation_policy(db_session, SYSTEM, at(2026, 11, 1), org, gold)
    db_session.commit()
    resp = admin.post(f"{LIST}/{gold.id}/rename", data={"name": "银牌"})
    assert resp.status_code == 422
    assert _field_error(resp.get_data(as_text=True), "name") == "Another policy has this name."
    assert admin.post(f"{LIST}/{gold.id}/rename", data={"name": "Gold"}).status_code == 302
    resp = admin.post(f"{LIST}/{gold.id}/deactivate")
    assert resp.status_code == 422
    assert "Organisations use this policy" in resp.get_data(as_text=True)
    assert admin.post(f"{LIST}/{other.id}/deactivate").status_code == 302
    db_session.expire_all()
    assert (gold.name, gold.active, other.active) == ("Gold", True, False)
    assert admin.post(f"{LIST}/{other.id}/reactivate").status_code == 302
    db_session.expire_all()
    assert other.active


def test_supervisors_read_the_pages_and_change_nothing(make_client, factory, db_session, builtin):
    client = make_client()
    client.login(factory.staff("supervisor"))
    body = client.get(LIST).get_data(as_text=True)
    assert "Standard" in body and "Create policy" not in body
    page = client.get(f"{LIST}/{builtin.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "read-only" in text and "Save as version" not in text
    assert 'name="P1_respond_amount"' not in text and "Rename" not in text
    assert "P1" in text and "hours (24×7)" in text
    before = _versions(db_session)
    assert client.post(f"{LIST}/{builtin.id}", data=_form(db_session, builtin)).status_code == 403
    assert client.post(LIST, data={"new-name": "x", "new-copy_from": "1"}).status_code == 403
    assert _versions(db_session) == before
    # other staff do not reach them
    engineer = make_client()
    engineer.login(factory.staff("engineer", "dispatcher", "agent"))
    assert engineer.get(LIST).status_code == 403


def test_the_pages_write_nothing_even_without_a_policy(app, admin, db_session, builtin):
    engine = app.extensions["portal_db"].engine
    with recorded_writes(engine) as writes:
        assert admin.get(LIST).status_code == 200
        assert admin.get(f"{LIST}/{builtin.id}").status_code == 200
    assert writes == []
    db_session.execute(select(SlaPolicy))  # the test's own connection
    from sqlalchemy import delete

    db_session.execute(delete(SlaPolicy))
    db_session.commit()
    with recorded_writes(engine) as writes:
        body = admin.get(LIST).get_data(as_text=True)
    assert writes == [] and "There is no policy" in body
    assert admin.get(f"{LIST}/{builtin.id}").status_code == 404


def test_the_request_page_names_the_policy_and_version(make_client, factory, db_session):
    org = factory.organisation()
    gold = sla_policies.create(db_session, SYSTEM, at(2026, 11, 1), "金牌", None)
    sla_policies.set_organisation_policy(db_session, SYSTEM, at(2026, 11, 1), org, gold)
    submitted = datetime.now(UTC) - timedelta(hours=1)
    sr = factory.request(factory.customer(org), urgency="P1", now=submitted)
    sla_policies.update_targets(
        db_session,
        SYSTEM,
        at(2026, 11, 2),
        gold,
        [
            sla_policies.Targets("P1", 1, "hours", 2, "hours", 75, 60),
            *sla_policies.current_targets(db_session, gold)[1:],
        ],
    )
    db_session.commit()
    client = make_client()
    client.login(factory.staff("supervisor"))
    body = client.get(f"/staff/requests/{sr.number}").get_data(as_text=True)
    panel = re.search(r'<section class="panel" id="panel-sla".*?</section>', body, re.S).group(0)
    assert "Measured against the SLA policy “金牌”, version 1." in panel
    assert "respond within 2 hours (24×7)" in panel  # version 1's P1, not the new 1 h
    zh = make_client()
    zh.login(factory.staff("supervisor", locale="zh_CN"))
    body = zh.get(f"/staff/requests/{sr.number}").get_data(as_text=True)
    assert "按 SLA 策略“金牌”版本 1 计量。" in body


def test_a_nul_in_the_name_or_status_forms_saves_nothing(admin, db_session):
    """The crawl of tests/test_control_characters.py opens only the built-in policy's page."""
    gold = sla_policies.create(db_session, SYSTEM, at(2026, 11, 1), "金牌", None)
    db_session.commit()
    resp = admin.post(f"{LIST}/{gold.id}/rename", data={"name": "Gold\x00 plus"})
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "Invisible control characters were taken out of this." in body
    assert 'value="Gold plus"' in body
    resp = admin.post(f"{LIST}/{gold.id}/deactivate", data={"note": "a\x00b"})
    assert resp.status_code == 400
    db_session.expire_all()
    assert (gold.name, gold.active) == ("金牌", True)
