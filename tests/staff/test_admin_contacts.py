"""The admins' customer contacts at /staff/admin/contacts: create (invited or not), edit with the
field error of a clashing e-mail and everything typed kept, organisation admin on and off,
deactivate (the contact's open session ends at once; their requests keep their name) and
reactivate, each audited with only what changed; supervisors read a masked list; the list's
search and pages at a constant cost."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from portal.models import Account, AuditEvent, utcnow
from portal.services import contacts as contact_service
from portal.services.audit import SYSTEM

URL = "/staff/admin/contacts"


@pytest.fixture
def admin(factory):
    return factory.staff("admin")


@pytest.fixture
def admin_client(make_client, admin):
    client = make_client()
    client.login(admin)
    return client


@pytest.fixture
def org(factory):
    return factory.organisation("华东制造有限公司", code="EAST")


def _form(**overrides) -> dict:
    data = {
        "organisation": "east",
        "name": "王小明",
        "email": "Wang.XM@east.example.com",
        "phone": "13912345678",
        "locale": "zh_CN",
        "invite": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _account(db_session, email: str) -> Account | None:
    return db_session.scalar(select(Account).where(func.lower(Account.email) == email.lower()))


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


# --- create ------------------------------------------------------------------------------------


def test_an_admin_creates_a_contact_who_is_invited(admin_client, db_session, org, admin, app):
    resp = admin_client.post(f"{URL}/new", data=_form())
    assert resp.status_code == 302
    contact = _account(db_session, "wang.xm@east.example.com")
    assert contact is not None and contact.kind == "customer"
    assert contact.email == "wang.xm@east.example.com"  # stored in lower case
    assert contact.organisation_id == org.id and contact.phone == "13912345678"
    assert contact.invited_at is not None and not contact.is_org_admin
    assert resp.headers["Location"].endswith(f"{URL}/{contact.id}")
    [created] = _audits(db_session, "contact.created")
    assert created.actor_id == admin.id and created.object_id == str(contact.id)
    assert created.after["organisation"] == "华东制造有限公司"
    assert created.after["org_admin"] == "false"
    assert len(_audits(db_session, "contact.invited")) == 1
    # no password opens the account before the invitation's link is used
    resp = app.test_client().post(
        "/login", data={"identifier": contact.email, "password": ""}, follow_redirects=False
    )
    assert resp.status_code != 302
    page = admin_client.get(f"{URL}?q=wang").get_data(as_text=True)
    assert f'data-contact="{contact.id}"' in page and "wang.xm@east.example.com" in page


def test_unticking_the_invitation_creates_without_inviting(admin_client, db_session, org):
    resp = admin_client.post(f"{URL}/new", data=_form(invite=None))
    assert resp.status_code == 302
    contact = _account(db_session, "wang.xm@east.example.com")
    assert contact is not None and contact.invited_at is None
    assert _audits(db_session, "contact.invited") == []


def test_a_duplicate_email_on_create_is_a_field_error_and_keeps_what_was_typed(
    admin_client, db_session, org, factory
):
    factory.customer(org, email="wang.xm@east.example.com")
    before = db_session.scalar(select(func.count(Account.id)))
    resp = admin_client.post(
        f"{URL}/new", data=_form(email="WANG.XM@East.Example.com", name="王小明二号")
    )
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert _error_of(body, "email") == "An account with this e-mail address exists already."
    assert _value_of(body, "name") == "王小明二号"
    assert _value_of(body, "email") == "WANG.XM@East.Example.com"
    assert _value_of(body, "phone") == "13912345678"
    assert _value_of(body, "organisation") == "east"
    assert db_session.scalar(select(func.count(Account.id))) == before


def test_a_staff_email_is_taken_too(admin_client, db_session, org, factory):
    staff = factory.staff("engineer")
    resp = admin_client.post(f"{URL}/new", data=_form(email=staff.email.upper()))
    assert resp.status_code == 422
    assert _error_of(resp.get_data(as_text=True), "email")


@pytest.mark.parametrize(
    "field, value, error",
    [
        ("organisation", "NOPE", "No organisation has this code."),
        ("name", "", "Give the contact's name."),
        ("name", "名" * 101, "At most 100 characters."),
        ("email", "not-an-address", "Enter a valid e-mail address."),
        ("phone", "call me", "Enter a phone number with digits only (spaces, dashes, + allowed)."),
    ],
)
def test_bad_input_is_refused_at_its_field(admin_client, db_session, org, field, value, error):
    resp = admin_client.post(f"{URL}/new", data=_form(**{field: value}))
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert _error_of(body, field) == error
    assert _account(db_session, "wang.xm@east.example.com") is None


def test_control_characters_are_refused_at_the_field(admin_client, db_session, org):
    resp = admin_client.post(f"{URL}/new", data=_form(name="王\x07小明"))
    assert resp.status_code == 422
    assert "control characters" in (_error_of(resp.get_data(as_text=True), "name") or "")
    assert _account(db_session, "wang.xm@east.example.com") is None


# --- edit ----------------------------------------------------------------------------------------


def test_an_edit_audits_only_what_changed_with_display_values(
    admin_client, db_session, org, factory
):
    contact = factory.customer(org, name="王小明", email="wang@east.example.com")
    other = factory.organisation("西南物流", code="WEST")
    resp = admin_client.post(
        f"{URL}/{contact.id}",
        data=_form(
            organisation="WEST",
            name="王小明",
            email="wang@east.example.com",
            phone=contact.phone,
            locale="en",
        ),
    )
    assert resp.status_code == 302
    db_session.refresh(contact)
    assert contact.organisation_id == other.id
    [event] = _audits(db_session, "contact.updated")
    assert event.before == {"organisation": "华东制造有限公司"}
    assert event.after == {"organisation": "西南物流"}


def test_a_duplicate_email_on_edit_is_a_field_error(admin_client, db_session, org, factory):
    contact = factory.customer(org, email="a@east.example.com", name="甲")
    factory.customer(org, email="b@east.example.com")
    resp = admin_client.post(
        f"{URL}/{contact.id}",
        data=_form(email="B@east.example.com", name="甲乙丙", phone="13800001111"),
    )
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert _error_of(body, "email") == "An account with this e-mail address exists already."
    assert _value_of(body, "email") == "B@east.example.com"
    assert _value_of(body, "name") == "甲乙丙"
    db_session.refresh(contact)
    assert contact.email == "a@east.example.com" and contact.name == "甲"
    assert _audits(db_session, "contact.updated") == []


def test_org_admin_on_and_off_is_audited(admin_client, db_session, org, factory):
    contact = factory.customer(org)
    url = f"{URL}/{contact.id}/org-admin"
    assert admin_client.post(url, data={"org_admin": "1"}).status_code == 302
    db_session.refresh(contact)
    assert contact.is_org_admin
    assert admin_client.post(url, data={"org_admin": "0"}).status_code == 302
    db_session.refresh(contact)
    assert not contact.is_org_admin
    [made] = _audits(db_session, "contact.made_org_admin")
    [unmade] = _audits(db_session, "contact.unmade_org_admin")
    assert made.after == {"org_admin": "true"} and unmade.after == {"org_admin": "false"}


# --- deactivate --------------------------------------------------------------------------------


def test_deactivation_ends_the_open_session_at_once_and_the_request_keeps_the_name(
    admin_client, make_client, db_session, org, factory
):
    contact = factory.customer(org, name="赵静怡")
    sr = factory.request(contact)
    engineer = factory.staff("engineer")
    sr.handler_id = engineer.id  # the handler sees the contact in full
    db_session.flush()
    customer = make_client()
    customer.login(contact)
    assert customer.get("/").status_code == 200

    resp = admin_client.post(f"{URL}/{contact.id}/deactivate")
    assert resp.status_code == 302
    db_session.refresh(contact)
    assert not contact.active

    resp = customer.get("/")
    assert resp.status_code == 302 and urlsplit(resp.location).path == "/login"
    [event] = _audits(db_session, "contact.deactivated")
    assert event.after == {"status": "inactive", "sessions_ended": 1}

    staff = make_client()
    staff.login(engineer)
    page = staff.get(f"/staff/requests/{sr.number}").get_data(as_text=True)
    assert "赵静怡" in page
    # and the admins' list finds them among the inactive
    listing = admin_client.get(f"{URL}?status=inactive").get_data(as_text=True)
    assert f'data-contact="{contact.id}"' in listing
    assert f'data-contact="{contact.id}"' not in admin_client.get(URL).get_data(as_text=True)

    assert admin_client.post(f"{URL}/{contact.id}/reactivate").status_code == 302
    db_session.refresh(contact)
    assert contact.active
    assert len(_audits(db_session, "contact.reactivated")) == 1


def test_a_staff_account_is_not_a_contact(admin_client, factory):
    staff = factory.staff("engineer")
    assert admin_client.get(f"{URL}/{staff.id}").status_code == 404
    assert admin_client.post(f"{URL}/{staff.id}/deactivate").status_code == 404


# --- supervisors, others -----------------------------------------------------------------------


def test_a_supervisor_sees_the_list_masked_and_read_only(make_client, db_session, org, factory):
    contact = factory.customer(
        org, name="欧阳明月", email="ouyang.mingyue@east.example.com", phone="13912348765"
    )
    client = make_client()
    client.login(factory.staff("supervisor"))
    resp = client.get(f"{URL}?organisation={org.id}")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert f'data-contact="{contact.id}"' in body
    assert "ouyang.mingyue@east.example.com" not in body
    assert "13912348765" not in body
    assert "欧阳明月" not in body
    assert "o***@east.example.com" in body and "****8765" in body and "欧*" in body
    assert "read-only and masked" in body
    assert f"{URL}/new" not in body and f"{URL}/{contact.id}" not in body
    # a search by contact data is not run for them: it would reveal a match
    searched = client.get(f"{URL}?q=ouyang&status=all").get_data(as_text=True)
    assert 'name="q"' not in searched
    assert client.get(f"{URL}/{contact.id}").status_code == 403
    assert client.post(f"{URL}/new", data=_form()).status_code == 403
    assert client.post(f"{URL}/{contact.id}/deactivate").status_code == 403
    assert client.get(f"{URL}/import").status_code == 403


def test_other_staff_cannot_enter(make_client, factory):
    client = make_client()
    client.login(factory.staff("agent", "engineer", "dispatcher"))
    assert client.get(URL).status_code == 403


def test_the_front_page_lists_contacts_for_supervisors(make_client, factory):
    client = make_client()
    client.login(factory.staff("supervisor"))
    assert f'href="{URL}"' in client.get("/staff/admin/").get_data(as_text=True)


# --- the list ----------------------------------------------------------------------------------


def test_search_by_name_email_and_phone_and_by_organisation(admin_client, org, factory):
    a = factory.customer(org, name="张三丰", email="zsf@east.example.com", phone="13700001234")
    b = factory.customer(factory.organisation(), name="李四", email="lisi@other.example.com")
    for q, expected in (("三丰", a), ("ZSF@", a), ("0001234", a), ("lisi", b)):
        body = admin_client.get(f"{URL}?q={q}").get_data(as_text=True)
        assert f'data-contact="{expected.id}"' in body, q
        other = b if expected is a else a
        assert f'data-contact="{other.id}"' not in body, q
    body = admin_client.get(f"{URL}?organisation={org.id}").get_data(as_text=True)
    assert f'data-contact="{a.id}"' in body and f'data-contact="{b.id}"' not in body
    assert admin_client.get(f"{URL}?organisation=999999").status_code == 404


def test_the_list_costs_the_same_whatever_the_number_of_contacts(
    admin_client, db_session, org, factory, count_queries
):
    def cost() -> int:
        with count_queries() as statements:
            assert admin_client.get(f"{URL}?organisation={org.id}&page=2").status_code == 200
        return len(statements)

    for _ in range(3):
        factory.customer(org)
    small = cost()
    for n in range(120):
        contact_service.create(
            db_session,
            SYSTEM,
            utcnow(),
            contact_service.ContactDetails(
                name=f"联系人{n:03d}", email=f"bulk{n}@east.example.com", organisation_id=org.id
            ),
            invite=False,
        )
    big = cost()
    assert big == small
    page = admin_client.get(f"{URL}?organisation={org.id}&page=2").get_data(as_text=True)
    assert "Page 2 of 3" in page
    assert page.count("data-contact=") == 50
