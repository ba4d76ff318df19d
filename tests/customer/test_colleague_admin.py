"""The organisation admin's colleagues page /colleagues: invite a colleague of their own
organisation, deactivate and reactivate colleagues; never themselves, never another
organisation's contact (404, nothing changed); other contacts do not reach the page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.models import Account, AuditEvent

URL = "/colleagues"


@pytest.fixture
def org(factory):
    return factory.organisation("华东制造有限公司", code="EAST")


@pytest.fixture
def org_admin(factory, org):
    return factory.customer(org, admin=True, name="周主管")


@pytest.fixture
def admin_client(make_client, org_admin):
    client = make_client()
    client.login(org_admin)
    return client


def _by_email(db_session, email: str) -> Account | None:
    return db_session.scalar(select(Account).where(func.lower(Account.email) == email))


def test_the_org_admin_sees_their_colleagues_and_the_nav_link(admin_client, factory, org):
    colleague = factory.customer(org, name="吴同事")
    stranger = factory.customer(factory.organisation(), name="外人某")
    body = admin_client.get(URL).get_data(as_text=True)
    assert f'data-contact="{colleague.id}"' in body and "吴同事" in body
    assert f'data-contact="{stranger.id}"' not in body and "外人某" not in body
    assert f'href="{URL}"' in admin_client.get("/").get_data(as_text=True)


def test_a_contact_who_is_not_an_org_admin_has_no_colleagues_page(make_client, factory, org):
    client = make_client()
    client.login(factory.customer(org))
    assert client.get(URL).status_code == 403
    assert f'href="{URL}"' not in client.get("/").get_data(as_text=True)
    assert client.post(URL, data={"name": "某", "email": "x@east.example.com"}).status_code == 403


def test_inviting_a_colleague_creates_an_invited_contact_of_the_same_organisation(
    admin_client, db_session, org, org_admin
):
    resp = admin_client.post(URL, data={"name": "新同事", "email": "New@East.example.com"})
    assert resp.status_code == 302
    new = _by_email(db_session, "new@east.example.com")
    assert new.organisation_id == org.id and new.invited_at is not None
    assert not new.is_org_admin and new.kind == "customer"
    [event] = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "contact.created")
    ).all()
    assert event.actor_id == org_admin.id


def test_a_taken_email_is_a_field_error_and_keeps_what_was_typed(admin_client, db_session, factory):
    factory.customer(factory.organisation(), email="taken@other.example.com")
    resp = admin_client.post(URL, data={"name": "新同事", "email": "TAKEN@other.example.com"})
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert re.search(r'id="email-error">An account with this e-mail address exists already.<', body)
    assert 'value="新同事"' in body and 'value="TAKEN@other.example.com"' in body


def test_deactivating_and_reactivating_a_colleague(admin_client, db_session, factory, org):
    colleague = factory.customer(org)
    resp = admin_client.post(f"{URL}/deactivate", data={"contact_id": colleague.id})
    assert resp.status_code == 302
    db_session.refresh(colleague)
    assert not colleague.active
    resp = admin_client.post(f"{URL}/reactivate", data={"contact_id": colleague.id})
    assert resp.status_code == 302
    db_session.refresh(colleague)
    assert colleague.active


@pytest.mark.parametrize("action", ["deactivate", "reactivate"])
def test_another_organisations_contact_cannot_be_touched(admin_client, db_session, factory, action):
    stranger = factory.customer(factory.organisation())
    if action == "reactivate":
        stranger.active = False
        db_session.flush()
    resp = admin_client.post(f"{URL}/{action}", data={"contact_id": stranger.id})
    assert resp.status_code == 404
    db_session.refresh(stranger)
    assert stranger.active is (action == "deactivate")  # as it was
    assert (
        db_session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action.like("contact.%"))
        )
        == 0
    )


def test_neither_themselves_nor_a_staff_account(admin_client, db_session, factory, org_admin):
    staff = factory.staff("engineer")
    for target in (org_admin, staff):
        resp = admin_client.post(f"{URL}/deactivate", data={"contact_id": target.id})
        assert resp.status_code == 404
        db_session.refresh(target)
        assert target.active
    assert admin_client.post(f"{URL}/deactivate", data={"contact_id": "x"}).status_code == 404


def test_a_nul_in_a_reactivation_writes_nothing(admin_client, db_session, factory, org):
    colleague = factory.customer(org)
    colleague.active = False
    db_session.flush()
    resp = admin_client.post(f"{URL}/reactivate", data={"contact_id": f"{colleague.id}\x00"})
    assert 400 <= resp.status_code < 500
    db_session.refresh(colleague)
    assert not colleague.active
