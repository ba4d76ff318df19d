"""The admins' organisations (客户) at /staff/admin/organisations: create, edit, the field errors
of a clashing or bad value, deactivate and reactivate (the history stays, the contacts' logins
are refused), supervisors read-only, others refused, the list's search and pages at a constant
cost, both languages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, Calendar, LoginSession, Organisation, ServiceRequest, utcnow
from portal.services import organisations as org_service
from portal.services.audit import SYSTEM
from portal.services.calendars import default_calendar
from portal.services.workflow.checks import FieldError
from tests.factories import PASSWORD

URL = "/staff/admin/organisations"


@pytest.fixture
def admin(factory):
    return factory.staff("admin")


@pytest.fixture
def admin_client(make_client, admin):
    client = make_client()
    client.login(admin)
    return client


def _form(**overrides) -> dict:
    data = {
        "code": "east-01",
        "name": "华东制造有限公司",
        "colleagues_may_view": "y",
        "calendar": "",
        "feedback_window_days": "3",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _org(db_session, code: str) -> Organisation | None:
    return db_session.scalar(select(Organisation).where(Organisation.code == code))


def _audits(db_session, action: str) -> list[AuditEvent]:
    return list(
        db_session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def _error_of(body: str, field: str) -> str | None:
    found = re.search(rf'id="{field}-error">([^<]*)<', body)
    return found.group(1) if found else None


def _value_of(body: str, field: str) -> str | None:
    found = re.search(rf'<input[^>]*name="{field}"[^>]*value="([^"]*)"', body) or re.search(
        rf'<input[^>]*value="([^"]*)"[^>]*name="{field}"', body
    )
    return found.group(1) if found else None


# --- create and edit ---------------------------------------------------------------------------


def test_an_admin_creates_an_organisation_and_it_is_audited(admin_client, db_session, admin):
    resp = admin_client.post(URL, data=_form())
    assert resp.status_code == 302
    org = _org(db_session, "EAST-01")  # stored in capitals
    assert org is not None and org.active
    assert org.name == "华东制造有限公司"
    assert org.colleagues_may_view and not org.colleagues_may_reply
    assert org.calendar_id is None and org.feedback_window_days == 3
    assert resp.headers["Location"].endswith(f"{URL}/{org.id}")
    [event] = _audits(db_session, "organisation.created")
    assert event.actor_id == admin.id and event.object_id == str(org.id)
    assert event.after == {
        "code": "EAST-01",
        "name": "华东制造有限公司",
        "colleagues_may_view": "true",
        "colleagues_may_reply": "false",
        "notify_org_admins": "false",
        "calendar": "default",
        "feedback_window_days": 3,
        "sla_policy": "标准",
    }
    page = admin_client.get(f"{URL}?q=east").get_data(as_text=True)
    assert 'data-org="EAST-01"' in page


def test_an_edit_audits_only_what_changed_with_the_calendars_name(
    admin_client, db_session, factory
):
    org = factory.organisation("Bolt Logistics", code="BOLT")
    berlin = Calendar(
        name="Berlin office", timezone="Europe/Berlin", country="DE", working_hours={}
    )
    db_session.add(berlin)
    db_session.flush()
    resp = admin_client.post(
        f"{URL}/{org.id}",
        data=_form(
            code="BOLT",
            name="Bolt Logistics",
            colleagues_may_view=None,
            calendar=str(berlin.id),
            feedback_window_days="5",
        ),
    )
    assert resp.status_code == 302
    db_session.refresh(org)
    assert org.calendar_id == berlin.id and org.feedback_window_days == 5
    [event] = _audits(db_session, "organisation.updated")
    assert event.before == {"calendar": "default", "feedback_window_days": 3}
    assert event.after == {"calendar": "Berlin office", "feedback_window_days": 5}

    # the page links to that calendar; saving the same values again writes no audit row
    page = admin_client.get(f"{URL}/{org.id}").get_data(as_text=True)
    assert f"/staff/admin/calendars?calendar={berlin.id}" in page
    admin_client.post(
        f"{URL}/{org.id}",
        data=_form(
            code="bolt",
            name="Bolt Logistics",
            colleagues_may_view=None,
            calendar=str(berlin.id),
            feedback_window_days="5",
        ),
    )
    assert len(_audits(db_session, "organisation.updated")) == 1


def test_the_page_links_to_the_desks_calendar_when_it_has_none(admin_client, factory, db_session):
    org = factory.organisation()
    page = admin_client.get(f"{URL}/{org.id}").get_data(as_text=True)
    assert f"/staff/admin/calendars?calendar={default_calendar(db_session).id}" in page


@pytest.mark.parametrize("field", ["code", "name"])
def test_a_duplicate_code_or_name_is_an_error_at_the_field_and_saves_nothing(
    admin_client, db_session, factory, field
):
    factory.organisation("Acme Corp", code="ACME")
    before = db_session.scalar(select(func.count()).select_from(Organisation))
    clash = {"code": "acme", "name": "Fresh name"} if field == "code" else {"name": "Acme Corp"}
    data = _form(feedback_window_days="7", **clash)
    resp = admin_client.post(URL, data=data)
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    expected = (
        "Another organisation has this code."
        if field == "code"
        else ("Another organisation has this name.")
    )
    assert _error_of(body, field) == expected
    other = "name" if field == "code" else "code"
    assert _error_of(body, other) is None
    # what was typed is still there
    assert _value_of(body, "code") == data["code"]
    assert _value_of(body, "name") == data["name"]
    assert _value_of(body, "feedback_window_days") == "7"
    assert db_session.scalar(select(func.count()).select_from(Organisation)) == before
    assert _audits(db_session, "organisation.created") == []


def test_renaming_onto_another_organisations_name_is_refused(admin_client, db_session, factory):
    factory.organisation("Acme Corp", code="ACME")
    bolt = factory.organisation("Bolt", code="BOLT")
    resp = admin_client.post(f"{URL}/{bolt.id}", data=_form(code="BOLT", name="Acme Corp"))
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert _error_of(body, "name") == "Another organisation has this name."
    assert _value_of(body, "name") == "Acme Corp"
    db_session.refresh(bolt)
    assert bolt.name == "Bolt"


def test_a_race_on_the_unique_code_is_a_field_error_not_a_500(db_session, factory, monkeypatch):
    """Two admins create the same code at once: the check found none, the insert clashes."""
    factory.organisation("Acme Corp", code="ACME")
    monkeypatch.setattr(org_service, "_clean", lambda s, settings, own: ("ACME", "Other"))
    with pytest.raises(org_service.OrganisationError) as caught:
        org_service.create(
            db_session, SYSTEM, utcnow(), org_service.OrganisationSettings("ACME", "Other")
        )
    assert caught.value.field == "code"
    assert _org(db_session, "ACME").name == "Acme Corp"


def test_a_race_on_the_unique_name_names_the_name(db_session, factory, monkeypatch):
    factory.organisation("Acme Corp", code="ACME")
    monkeypatch.setattr(org_service, "_clean", lambda s, settings, own: ("NEW", "Acme Corp"))
    with pytest.raises(org_service.OrganisationError) as caught:
        org_service.create(
            db_session, SYSTEM, utcnow(), org_service.OrganisationSettings("NEW", "Acme Corp")
        )
    assert caught.value.field == "name"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"code": "X"}, "code"),  # too short
        ({"code": "A" * 41}, "code"),
        ({"code": "東方"}, "code"),
        ({"code": "AC ME"}, "code"),
        ({"name": "N" * 201}, "name"),
        ({"name": "   "}, "name"),
        ({"feedback_window_days": "0"}, "feedback_window_days"),
        ({"feedback_window_days": "31"}, "feedback_window_days"),
        ({"feedback_window_days": "three"}, "feedback_window_days"),
        ({"calendar": "999999"}, "calendar"),
        ({"calendar": "abc"}, "calendar"),
    ],
)
def test_bad_or_oversized_input_is_refused_at_its_field(admin_client, db_session, overrides, field):
    before = db_session.scalar(select(func.count()).select_from(Organisation))
    resp = admin_client.post(URL, data=_form(**overrides))
    assert resp.status_code == 422
    assert _error_of(resp.get_data(as_text=True), field)
    assert db_session.scalar(select(func.count()).select_from(Organisation)) == before


def test_control_characters_are_refused_and_nothing_is_saved(admin_client, db_session):
    resp = admin_client.post(URL, data=_form(name="Evil\x00Corp", code="EVIL"))
    assert resp.status_code in (400, 422)
    assert resp.status_code < 500
    assert _org(db_session, "EVIL") is None


# --- deactivate and reactivate -----------------------------------------------------------------


def test_deactivating_keeps_the_history_and_refuses_the_contacts(
    admin_client, make_client, db_session, factory
):
    org = factory.organisation("Star Retail", code="STAR")
    contact = factory.customer(org)
    sr = factory.request(contact, title="Till printer jams")
    db_session.commit()
    logged_in = make_client()
    logged_in.login(contact)
    assert logged_in.get("/").status_code == 200

    resp = admin_client.post(f"{URL}/{org.id}/deactivate")
    assert resp.status_code == 302
    db_session.refresh(org)
    assert not org.active
    [event] = _audits(db_session, "organisation.deactivated")
    assert event.before == {"active": "true"}
    assert event.after == {"active": "false", "sessions_ended": 1}
    # the open session is over, and a new login is refused
    assert logged_in.get("/").status_code == 302
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(LoginSession)
            .where(LoginSession.account_id == contact.id, LoginSession.revoked_at.is_(None))
        )
        == 0
    )
    again = make_client()
    resp = again.post("/login", data={"identifier": contact.email, "password": PASSWORD})
    assert resp.status_code != 302
    # the desk still finds its request, and its page says it is inactive
    staff = make_client()
    staff.login(factory.staff("supervisor"))
    assert sr.number in staff.get(f"/staff/requests/{sr.number}").get_data(as_text=True)
    page = admin_client.get(f"{URL}/{org.id}").get_data(as_text=True)
    assert "data-inactive" in page and "Reactivate organisation" in page
    listed = admin_client.get(f"{URL}?active=inactive").get_data(as_text=True)
    assert 'data-org="STAR"' in listed
    assert 'data-org="STAR"' not in admin_client.get(URL).get_data(as_text=True)
    # no new request for it
    with pytest.raises(FieldError):
        factory.request(contact)

    # reactivated: the contact logs in again
    assert admin_client.post(f"{URL}/{org.id}/reactivate").status_code == 302
    db_session.refresh(org)
    assert org.active
    assert [e.after for e in _audits(db_session, "organisation.reactivated")] == [
        {"active": "true"}
    ]
    make_client().login(contact)
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(ServiceRequest)
            .where(ServiceRequest.organisation_id == org.id)
        )
        == 1
    )


# --- who may --------------------------------------------------------------------------------


def test_a_supervisor_reads_without_forms_and_cannot_post(make_client, factory, db_session):
    org = factory.organisation("Acme Corp", code="ACME")
    client = make_client()
    client.login(factory.staff("supervisor"))
    listed = client.get(URL)
    assert listed.status_code == 200
    body = listed.get_data(as_text=True)
    assert 'data-org="ACME"' in body and "New organisation" not in body
    page = client.get(f"{URL}/{org.id}").get_data(as_text=True)
    assert "Acme Corp" in page and "org-form" not in page
    assert "/deactivate" not in page and "Deactivate organisation" not in page
    assert client.post(URL, data=_form()).status_code == 403
    assert client.post(f"{URL}/{org.id}", data=_form(code="ACME", name="X")).status_code == 403
    assert client.post(f"{URL}/{org.id}/deactivate").status_code == 403
    assert client.post(f"{URL}/{org.id}/reactivate").status_code == 403
    db_session.refresh(org)
    assert org.name == "Acme Corp" and org.active
    assert _org(db_session, "EAST-01") is None
    # the front page lists the section for supervisors
    assert URL in client.get("/staff/admin/").get_data(as_text=True)


@pytest.mark.parametrize("roles", [("agent",), ("dispatcher", "engineer")])
def test_other_staff_and_customers_are_refused(make_client, factory, roles):
    org = factory.organisation()
    client = make_client()
    client.login(factory.staff(*roles))
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}/{org.id}").status_code == 403
    assert client.post(URL, data=_form()).status_code == 403
    assert client.post(f"{URL}/{org.id}/deactivate").status_code == 403
    customer = make_client()
    customer.login(factory.customer(org, admin=True))
    assert customer.get(URL).status_code == 403


def test_an_unknown_organisation_is_404(admin_client):
    assert admin_client.get(f"{URL}/999999").status_code == 404
    assert admin_client.post(f"{URL}/999999/deactivate").status_code == 404


# --- the list at scale -------------------------------------------------------------------------


def _many(factory, db_session, n: int, prefix: str = "Firm", code: str = "F") -> list:
    orgs = [factory.organisation(f"{prefix} {i:03d}", code=f"{code}{i:03d}") for i in range(n)]
    for org in orgs[:5]:
        contact = factory.customer(org)
        factory.request(contact)
    db_session.flush()
    return orgs


def test_search_pages_and_counts_at_a_constant_cost(
    admin_client, factory, db_session, count_queries
):
    orgs = _many(factory, db_session, 65)
    db_session.commit()
    first = admin_client.get(f"{URL}?q=firm").get_data(as_text=True)
    assert first.count('data-org="F') == 50
    assert "Page 1 of 2" in first
    second = admin_client.get(f"{URL}?q=firm&page=2").get_data(as_text=True)
    assert second.count('data-org="F') == 15
    assert 'data-org="F064"' in second and 'data-org="F000"' not in second

    # a code matches too, case-insensitively; an underscore is a character, not a wildcard
    assert admin_client.get(f"{URL}?q=f01").get_data(as_text=True).count('data-org="F01') == 10
    assert "No organisation matches." in admin_client.get(f"{URL}?q=F_0").get_data(as_text=True)

    # the counts: one contact and one open request for the first five
    result = org_service.search(db_session, "Firm 00", None, 1, 50)
    assert [(r.organisation.code, r.contacts, r.open_requests) for r in result.rows][:3] == [
        ("F000", 1, 1),
        ("F001", 1, 1),
        ("F002", 1, 1),
    ]
    assert [r.contacts for r in result.rows[5:]] == [0] * 5 and result.total == 10

    with count_queries() as small:
        org_service.search(db_session, "firm", True, 1, 10)
    with count_queries() as large:
        org_service.search(db_session, "firm", True, 2, 50)
    assert len(small) == len(large) == 2
    # the page costs the same with 65 organisations as with 130
    with count_queries() as before:
        assert admin_client.get(f"{URL}?q=firm").status_code == 200
    _many(factory, db_session, 65, prefix="More firm", code="M")
    db_session.commit()
    with count_queries() as after:
        assert admin_client.get(f"{URL}?q=firm").status_code == 200
    assert len(after) == len(before)
    assert len(orgs) == 65


# --- both languages ------------------------------------------------------------------------------


def test_the_pages_speak_chinese_to_a_chinese_admin(make_client, factory):
    org = factory.organisation("华东制造有限公司", code="ACME")
    client = make_client()
    client.login(factory.staff("admin", locale="zh_CN"))
    listed = client.get(URL).get_data(as_text=True)
    assert "客户管理" in listed and "新建客户" in listed
    page = client.get(f"{URL}/{org.id}").get_data(as_text=True)
    assert "停用客户" in page and "反馈期限（工作日）" in page
    resp = client.post(URL, data=_form(code="ACME", name="另一个"))
    assert resp.status_code == 422
    assert "已有客户使用此编码。" in resp.get_data(as_text=True)


def test_the_pages_speak_english_to_an_english_admin(admin_client, factory):
    org = factory.organisation("Acme Corp", code="ACME")
    assert "New organisation" in admin_client.get(URL).get_data(as_text=True)
    page = admin_client.get(f"{URL}/{org.id}").get_data(as_text=True)
    assert "Deactivate organisation" in page and "Feedback window (working days)" in page


def test_an_organisation_is_put_on_a_policy_from_its_form_and_the_audit_says_so(
    admin_client, db_session
):
    """The organisation form's SLA policy select: one audited change, named by the policies."""
    from sqlalchemy import select

    from portal.models import AuditEvent, Organisation, utcnow
    from portal.services import sla_policies
    from portal.services.audit import SYSTEM

    gold = sla_policies.create(db_session, SYSTEM, utcnow(), "金牌", None)
    client = admin_client
    form = {
        "code": "HDZZ",
        "name": "华东制造",
        "feedback_window_days": "3",
        "calendar": "",
        "sla_policy": str(gold.id),
    }
    resp = client.post("/staff/admin/organisations", data=form)
    assert resp.status_code == 302
    org = db_session.scalar(select(Organisation).where(Organisation.code == "HDZZ"))
    assert org.sla_policy_id == gold.id
    page = client.get(f"/staff/admin/organisations/{org.id}").get_data(as_text=True)
    assert f'<option selected value="{gold.id}">金牌</option>' in page
    builtin = sla_policies.builtin_id(db_session)
    resp = client.post(
        f"/staff/admin/organisations/{org.id}", data={**form, "sla_policy": str(builtin)}
    )
    assert resp.status_code == 302
    db_session.refresh(org)
    assert org.sla_policy_id is None  # the built-in policy
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "organisation.updated")
    ).all()[-1]
    assert event.before == {"sla_policy": "金牌"} and event.after == {"sla_policy": "标准"}


def test_an_inactive_or_unknown_policy_is_refused_at_the_field(admin_client, db_session):
    client = admin_client
    resp = client.post(
        "/staff/admin/organisations",
        data={
            "code": "NOPE",
            "name": "无策略",
            "feedback_window_days": "3",
            "sla_policy": "999999",
        },
    )
    assert resp.status_code == 422
    assert "Choose one of the active SLA policies." in resp.get_data(as_text=True)
    assert db_session.scalar(select(Organisation).where(Organisation.code == "NOPE")) is None


def test_an_admin_asks_for_the_org_admins_to_be_told_and_the_audit_says_so(
    admin_client, db_session, factory
):
    org = factory.organisation(code="BOLT", name="Bolt Logistics")
    db_session.commit()
    page = admin_client.get(f"{URL}/{org.id}").get_data(as_text=True)
    assert 'name="notify_org_admins" type="checkbox"' in page
    assert "Tell the organisation's admins of every hand-off" in page
    resp = admin_client.post(
        f"{URL}/{org.id}",
        data=_form(
            code="BOLT", name="Bolt Logistics", colleagues_may_view=None, notify_org_admins="y"
        ),
    )
    assert resp.status_code == 302
    db_session.refresh(org)
    assert org.notify_org_admins
    [event] = _audits(db_session, "organisation.updated")
    assert event.before == {"notify_org_admins": "false"}
    assert event.after == {"notify_org_admins": "true"}
