"""Colleagues of a request's contact (same organisation, not the contact, not an org admin):
what the organisation's "colleagues may view / reply" settings let them see and do."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import Message
from tests.customer.helpers import attach, numbers_in
from tests.delivery.helpers import deliver_form, in_progress, reload

RESIDENT_ID = "11010519491231002X"
PHONE = "13812345678"
EMAIL = "li.ming@example.com"


def _org_request(factory, *, view: bool, reply: bool = False):
    org = factory.organisation(colleagues_may_view=view, colleagues_may_reply=reply)
    contact = factory.customer(org, name="李明", phone=PHONE, email=EMAIL)
    colleague = factory.customer(org, name="赵同事")
    sr = factory.request(
        contact, title="打印机无法连接", description=f"申请人身份证 {RESIDENT_ID},请尽快处理。"
    )
    return org, contact, colleague, sr


def _page(client, url: str) -> str:
    return client.get(url).get_data(as_text=True)


def test_without_the_setting_a_colleague_gets_404(make_client, factory, app, db_session):
    _org, _contact, colleague, sr = _org_request(factory, view=False)
    f = attach(app, db_session, sr, _contact, f"身份证 {RESIDENT_ID}\n".encode(), name="log.txt")
    client = make_client()
    client.login(colleague)
    assert client.get(f"/requests/{sr.number}").status_code == 404
    assert client.get(f"/requests/{sr.number}/files/{f.id}").status_code == 404
    assert client.get(f"/requests/{sr.number}/print/sr").status_code == 404
    page = _page(client, "/?scope=org")
    assert sr.number not in page
    assert 'name="scope"' not in page  # no "My organisation" choice


def test_a_colleague_sees_the_organisations_requests_masked_and_redacted(
    make_client, factory, app, db_session
):
    _org, contact, colleague, sr = _org_request(factory, view=True)
    client = make_client()
    client.login(colleague)

    # the list: own requests by default, the organisation's on asking for it
    mine = _page(client, "/")
    assert 'name="scope"' in mine and sr.number not in numbers_in(mine)
    org_list = _page(client, "/?scope=org")
    assert numbers_in(org_list) == [sr.number]

    detail = client.get(f"/requests/{sr.number}")
    assert detail.status_code == 200
    page = detail.get_data(as_text=True)
    assert "打印机无法连接" in page
    assert PHONE not in page and EMAIL not in page and "李明" not in page
    assert "****5678" in page and "李*" in page
    assert RESIDENT_ID not in page and "请尽快处理" in page

    # the contact still sees everything in full
    own = make_client()
    own.login(contact)
    own_page = _page(own, f"/requests/{sr.number}")
    assert PHONE in own_page and EMAIL in own_page and RESIDENT_ID in own_page

    # the printable request form is masked too
    printed = client.get(f"/requests/{sr.number}/print/sr")
    assert printed.status_code == 200
    printed_text = printed.get_data(as_text=True)
    assert PHONE not in printed_text and RESIDENT_ID not in printed_text


def test_a_colleague_downloads_a_redacted_copy_of_a_text_file(
    make_client, factory, app, db_session
):
    _org, contact, colleague, sr = _org_request(factory, view=True)
    content = f"用户 李明 电话 {PHONE}\n身份证 {RESIDENT_ID}\n连接超时\n".encode()
    f = attach(app, db_session, sr, contact, content, name="log.txt")

    client = make_client()
    client.login(colleague)
    resp = client.get(f"/requests/{sr.number}/files/{f.id}")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert RESIDENT_ID not in body and PHONE not in body and "连接超时" in body
    assert resp.headers["Cache-Control"] == "private, no-store"

    own = make_client()
    own.login(contact)
    original = own.get(f"/requests/{sr.number}/files/{f.id}")
    assert original.status_code == 200 and original.get_data() == content


def test_another_organisation_still_gets_404(make_client, factory, app, db_session):
    _org, contact, _colleague, sr = _org_request(factory, view=True, reply=True)
    f = attach(app, db_session, sr, contact, b"log", name="log.txt")
    outsider = factory.customer(factory.organisation(colleagues_may_view=True))
    client = make_client()
    client.login(outsider)
    assert client.get(f"/requests/{sr.number}").status_code == 404
    assert client.get(f"/requests/{sr.number}/files/{f.id}").status_code == 404
    assert client.get(f"/requests/{sr.number}/print/sr").status_code == 404
    assert sr.number not in _page(client, "/?scope=org")
    resp = client.post(f"/requests/{sr.number}/reply", data={"reply-body": "我也遇到了"})
    assert resp.status_code == 404


@pytest.mark.parametrize("may_reply", [False, True], ids=["view-only", "may-reply"])
def test_a_colleague_replies_only_where_the_organisation_allows_it(
    may_reply, make_client, factory, db_session
):
    _org, _contact, colleague, sr = _org_request(factory, view=True, reply=may_reply)
    sr.status = "in_progress"
    db_session.flush()
    client = make_client()
    client.login(colleague)
    page = _page(client, f"/requests/{sr.number}")
    offered = f'action="/requests/{sr.number}/reply"' in page
    assert offered is may_reply
    assert f"/requests/{sr.number}/cancel" not in page  # never for a colleague
    resp = client.post(f"/requests/{sr.number}/reply", data={"reply-body": "我也遇到了"})
    posted = db_session.scalar(select(Message.body).where(Message.request_id == sr.id))
    if may_reply:
        assert resp.status_code == 302
        assert posted == "我也遇到了"
    else:
        assert resp.status_code in (403, 404)
        assert posted is None


def test_a_colleague_cannot_cancel(make_client, factory, db_session):
    _org, _contact, colleague, sr = _org_request(factory, view=True, reply=True)
    client = make_client()
    client.login(colleague)
    resp = client.post(f"/requests/{sr.number}/cancel", data={"cancel-reason": "不需要了"})
    assert resp.status_code == 302
    assert "You may not do that" in _page(client, resp.headers["Location"])
    assert reload(db_session, sr).status == "submitted"


def test_a_colleague_cannot_sign_an_acceptance(make_client, factory, db_session):
    org = factory.organisation(colleagues_may_view=True, colleagues_may_reply=True)
    sr, contact, handler = in_progress(factory, db_session, org=org)
    colleague = factory.customer(org, name="赵同事")
    staff = make_client()
    staff.login(handler)
    resp = staff.post(f"/staff/requests/{sr.number}/deliver", data=deliver_form())
    assert resp.status_code in (200, 302)
    assert reload(db_session, sr).status == "pending_acceptance"

    client = make_client()
    client.login(colleague)
    page = _page(client, f"/requests/{sr.number}")
    assert f'action="/requests/{sr.number}/acceptance"' not in page
    assert f'action="/requests/{sr.number}/feedback"' not in page
    resp = client.post(
        f"/requests/{sr.number}/acceptance",
        data={"accept-result": "pass", "accept-typed_name": "赵同事"},
    )
    assert resp.status_code == 302
    assert "You may not do that" in _page(client, resp.headers["Location"])
    assert reload(db_session, sr).status == "pending_acceptance"

    # the contact is offered the signature
    own = make_client()
    own.login(contact)
    assert f'action="/requests/{sr.number}/acceptance"' in _page(own, f"/requests/{sr.number}")


def test_a_colleague_reads_the_delivery_history_redacted(make_client, factory, db_session):
    """The SD history on the request page: the handler's service item and the contact's unmet
    items and rectification carry personal data; a colleague reads them redacted."""
    from tests.delivery.helpers import criteria_ids, latest_delivery

    org = factory.organisation(colleagues_may_view=True)
    sr, contact, handler = in_progress(factory, db_session, org=org)
    colleague = factory.customer(org, name="赵同事")
    staff = make_client()
    staff.login(handler)
    resp = staff.post(
        f"/staff/requests/{sr.number}/deliver",
        data=deliver_form(
            **{
                "deliver-service_item": f"按李明({PHONE})要求恢复生产系统",
                "deliver-items": f"1.故障原因分析报告(联系 {EMAIL})\n2.系统恢复操作记录",
            }
        ),
    )
    assert resp.status_code in (200, 302)
    dlv = latest_delivery(db_session, sr)
    own = make_client()
    own.login(contact)
    resp = own.post(
        f"/requests/{sr.number}/acceptance",
        data={
            "accept-result": "fail",
            "accept-met": [str(criteria_ids(db_session, dlv)[0])],
            "accept-other_unmet": f"报告缺少时间线,请回电 {PHONE}",
            "accept-rectification": f"补充时间线后发到 {EMAIL}",
            "accept-typed_name": "李明",
            "accept-content_hash": dlv.content_hash,
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1000]
    assert reload(db_session, sr).status == "in_progress"

    # the contact reads the history as written
    own_page = _page(own, f"/requests/{sr.number}")
    assert dlv.number in own_page and PHONE in own_page and EMAIL in own_page

    client = make_client()
    client.login(colleague)
    page = _page(client, f"/requests/{sr.number}")
    assert dlv.number in page and "报告缺少时间线" in page and "恢复生产系统" in page
    assert "****5678" in page
    assert PHONE not in page and EMAIL not in page


def test_a_colleague_reads_the_feedback_suggestions_redacted(make_client, factory, db_session):
    from portal.models import utcnow

    org = factory.organisation(colleagues_may_view=True)
    sr, contact, _handler = in_progress(factory, db_session, org=org)
    sr.status = "completed"
    sr.completed_at = utcnow()
    db_session.flush()
    colleague = factory.customer(org, name="赵同事")
    own = make_client()
    own.login(contact)
    resp = own.post(
        f"/requests/{sr.number}/feedback",
        data={
            "rate-score_response": "5",
            "rate-score_effect": "4",
            "rate-score_attitude": "5",
            "rate-suggestions": f"希望增加故障预警功能,有问题打 {PHONE}",
        },
    )
    assert resp.status_code == 302
    assert PHONE in _page(own, f"/requests/{sr.number}")

    client = make_client()
    client.login(colleague)
    page = _page(client, f"/requests/{sr.number}")
    assert "希望增加故障预警功能" in page and "****5678" in page
    assert PHONE not in page
