"""The one guard in front of the staff actions on a request (portal/web/request_actions.py):
who may never take the action gets 403 before the form is read; who may, but not in this
state, is told so in the panel (422) before the form is checked; countersigning without a
delivery is a clear message, never a 500."""

from __future__ import annotations

import html

from portal.models import utcnow
from tests.delivery.helpers import HTMX, PNG_DATA_URL, deliver_form, in_progress, reload


def text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


NOT_ALLOWED = "You may not do that on this request."


def test_staff_without_the_capacity_is_refused_before_the_form(factory, db_session, client):
    sr, _contact, _handler = in_progress(factory, db_session)
    client.login(factory.staff("engineer", "supervisor"))  # not the handler
    empty = {"deliver-service_item": "", "deliver-items": "", "deliver-criteria": ""}

    resp = client.post(f"/staff/requests/{sr.number}/deliver", data=empty, headers=HTMX)
    assert resp.status_code == 403
    body = text(resp)
    assert NOT_ALLOWED in body and "Name the service item." not in body
    # the panel's 403 is not swapped in by htmx: the whole page comes again, saying why
    assert resp.headers["HX-Redirect"] == f"/staff/requests/{sr.number}"
    page = text(client.get(resp.headers["HX-Redirect"]))
    assert NOT_ALLOWED in page
    assert 'id="panel-deliver"' not in page  # and the panel is not offered to them

    plain = client.post(f"/staff/requests/{sr.number}/deliver", data=empty)
    assert plain.status_code == 403
    assert reload(db_session, sr).status == "in_progress"


def test_a_wrong_state_is_told_in_the_panel_before_the_form_is_checked(factory, db_session, client):
    sr, _contact, handler = in_progress(factory, db_session)
    sr.status = "awaiting_customer"
    db_session.flush()
    client.login(handler)
    resp = client.post(
        f"/staff/requests/{sr.number}/deliver",
        data={"deliver-service_item": "", "deliver-items": "", "deliver-criteria": ""},
        headers=HTMX,
    )
    assert resp.status_code == 422
    body = text(resp)
    assert 'id="panel-deliver"' in body
    assert "This request is not in a state for that (currently: Awaiting customer)." in body
    assert "Name the service item." not in body
    assert reload(db_session, sr).status == "awaiting_customer"


def test_a_wrong_state_for_a_workflow_panel_is_told_in_the_panel(factory, db_session, client):
    sr, _contact, _handler = in_progress(factory, db_session)
    sr.status = "closed"
    db_session.flush()
    client.login(factory.staff("supervisor"))
    resp = client.post(
        f"/staff/requests/{sr.number}/classify",
        data={"classify-action": "reclassify"},  # and nothing else: the form is not read
        headers=HTMX,
    )
    assert resp.status_code == 422
    body = text(resp)
    assert 'id="panel-classify"' in body
    assert "This request is not in a state for that (currently: Closed)." in body


def test_countersigning_before_any_delivery_is_a_message_not_a_500(
    factory, db_session, make_client
):
    sr, _contact, handler = in_progress(factory, db_session)
    staff = make_client()
    staff.login(handler)
    data = {"countersign-typed_name": "张强", "countersign-signature": PNG_DATA_URL}
    message = "This request is not in a state for that (currently: In progress)."

    resp = staff.post(f"/staff/requests/{sr.number}/countersign", data=data, headers=HTMX)
    assert resp.status_code == 422
    assert 'id="panel-countersign"' in text(resp) and message in text(resp)

    plain = staff.post(f"/staff/requests/{sr.number}/countersign", data=data)
    assert plain.status_code == 422 and message in text(plain)  # the page, with the panel

    # completed but nothing accepted to countersign (and the name left out)
    sr.status = "completed"
    sr.completed_at = utcnow()
    db_session.flush()
    resp = staff.post(
        f"/staff/requests/{sr.number}/countersign",
        data={"countersign-typed_name": ""},
        headers=HTMX,
    )
    assert resp.status_code == 422
    assert "There is no accepted delivery to countersign yet." in text(resp)
    resp = staff.post(f"/staff/requests/{sr.number}/countersign", data=data, headers=HTMX)
    assert resp.status_code == 422
    assert "This request is not in a state for that (currently: Completed)." in text(resp)


def test_only_measure_roles_may_add_a_measure_whatever_the_form(factory, db_session, make_client):
    sr, _contact, _handler = in_progress(factory, db_session)
    outsider = make_client()
    outsider.login(factory.staff("dispatcher", "engineer"))
    resp = outsider.post(f"/staff/requests/{sr.number}/measures", data={})
    assert resp.status_code == 403
    # an agent may add measures, but there is no feedback on this request to add one to
    agent = make_client()
    agent.login(factory.staff("agent"))
    resp = agent.post(f"/staff/requests/{sr.number}/measures", data={})
    assert resp.status_code == 404


def test_the_page_still_works_for_the_handler(factory, db_session, client):
    sr, _contact, handler = in_progress(factory, db_session)
    client.login(handler)
    resp = client.post(f"/staff/requests/{sr.number}/deliver", data=deliver_form())
    assert resp.status_code == 302
    assert reload(db_session, sr).status == "pending_acceptance"
