"""Delivering, signing pass or fail, countersigning, and detecting a change after signing."""

from __future__ import annotations

import io
import re

from sqlalchemy import select, update

from portal.domain import delivery as rules
from portal.models import (
    Attachment,
    AuditEvent,
    Delivery,
    DeliveryCriterion,
    DeliveryItem,
    HandlingRecord,
    Signature,
)
from portal.services import delivery as delivery_service
from tests.delivery.helpers import (
    HTMX,
    PNG_DATA_URL,
    criteria_ids,
    deliver_form,
    form_table,
    in_progress,
    latest_delivery,
    reload,
    text_of,
)

SD = re.compile(r"^SD-\d{8}-\d{3,}$")


def _deliver(client, sr, **overrides):
    return client.post(
        f"/staff/requests/{sr.number}/deliver", data=deliver_form(**overrides), headers=HTMX
    )


def _accept(client, sr, dlv, session, *, result, met=None, headers=None, **extra):
    ids = criteria_ids(session, dlv) if met is None else met
    data = {
        "accept-result": result,
        "accept-met": [str(i) for i in ids],
        "accept-typed_name": "李明",
        "accept-content_hash": dlv.content_hash,
        **extra,
    }
    return client.post(f"/requests/{sr.number}/acceptance", data=data, headers=headers)


def test_handler_delivers_with_an_sd_number_and_the_content_hash(factory, db_session, client):
    sr, _contact, handler = in_progress(factory, db_session)
    client.login(handler)
    resp = _deliver(client, sr)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:2000]
    assert resp.headers["HX-Retarget"] == "#delivery-panels"
    assert reload(db_session, sr).status == "pending_acceptance"
    dlv = latest_delivery(db_session, sr)
    assert SD.match(dlv.number)
    assert dlv.number in resp.get_data(as_text=True)
    items = db_session.scalars(
        select(DeliveryItem.text)
        .where(DeliveryItem.delivery_id == dlv.id)
        .order_by(DeliveryItem.position)
    ).all()
    assert items == ["故障原因分析报告", "系统恢复操作记录", "后续维护建议"]
    assert dlv.content_hash == rules.content_hash(
        "生产系统故障修复", items, ["系统登录无异常", "故障报告内容完整"]
    )
    assert dlv.content_hash in resp.get_data(as_text=True)
    actions = set(
        db_session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id.in_([sr.number, dlv.number]))
        )
    )
    assert {"request.deliver", "delivery.delivered"} <= actions


def test_a_vague_deliverable_is_refused_in_place_keeping_what_was_typed(
    factory, db_session, client
):
    sr, _contact, handler = in_progress(factory, db_session)
    client.login(handler)
    resp = _deliver(
        client,
        sr,
        **{"deliver-items": "故障原因分析报告\n已处理", "deliver-demo_note": "远程演示登录流程"},
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="panel-deliver"')
    assert "“已处理”" in html and "does not say what was done" in html
    assert "远程演示登录流程" in html and "故障原因分析报告" in html
    assert reload(db_session, sr).status == "in_progress"
    assert latest_delivery(db_session, sr) is None


def test_missing_fields_are_shown_inline_without_javascript(factory, db_session, client):
    sr, _contact, handler = in_progress(factory, db_session)
    client.login(handler)
    resp = client.post(
        f"/staff/requests/{sr.number}/deliver",
        data=deliver_form(**{"deliver-criteria": "", "deliver-service_item": "系统修复交付"}),
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "<html" in html  # the whole request page, with the panel's error
    assert "List at least one acceptance criterion, one per line." in html
    assert 'value="系统修复交付"' in html


def test_only_the_handler_delivers(factory, db_session, client):
    sr, _contact, _handler = in_progress(factory, db_session)
    other = factory.staff("engineer", "supervisor")
    client.login(other)
    resp = _deliver(client, sr)
    assert resp.status_code == 403  # not the handler: refused before the form is read
    assert "You may not do that on this request." in resp.get_data(as_text=True)
    assert reload(db_session, sr).status == "in_progress"


def test_delivery_files_are_stored_and_reach_the_customer(factory, db_session, make_client):
    sr, contact, handler = in_progress(factory, db_session)
    staff = make_client()
    staff.login(handler)
    data = deliver_form()
    data["deliver-files"] = [(io.BytesIO(b"%PDF-1.4 fault report"), "故障原因分析报告.pdf")]
    resp = staff.post(
        f"/staff/requests/{sr.number}/deliver", data=data, content_type="multipart/form-data"
    )
    assert resp.status_code == 302
    dlv = latest_delivery(db_session, sr)
    att = db_session.scalar(select(Attachment).where(Attachment.delivery_id == dlv.id))
    assert att.content_type == "application/pdf" and att.original_name == "故障原因分析报告.pdf"
    # the file is part of the signed content
    assert dlv.content_hash == rules.content_hash(
        "生产系统故障修复",
        ["故障原因分析报告", "系统恢复操作记录", "后续维护建议"],
        ["系统登录无异常", "故障报告内容完整"],
        files=[att.sha256],
    )
    customer = make_client()
    customer.login(contact)
    page = customer.get(f"/requests/{sr.number}").get_data(as_text=True)
    link = f"/requests/{sr.number}/files/{att.id}"
    assert link in page
    assert customer.get(link).status_code == 200


def test_customer_passes_with_the_typed_name_alone(factory, db_session, make_client):
    sr, contact, handler = in_progress(factory, db_session)
    db_session.add(
        HandlingRecord(number="IR-20241001-901", request_id=sr.id, handler_id=handler.id)
    )
    db_session.flush()
    staff = make_client()
    staff.login(handler)
    _deliver(staff, sr)
    dlv = latest_delivery(db_session, sr)
    customer = make_client()
    customer.login(contact)
    page = customer.get(f"/requests/{sr.number}").get_data(as_text=True)
    # the review form: each criterion to check, the hash of what is signed, a plain POST form
    assert "系统登录无异常" in page and "故障报告内容完整" in page
    assert dlv.content_hash in page
    assert f'action="/requests/{sr.number}/acceptance"' in page
    resp = _accept(
        customer, sr, dlv, db_session, result="pass", headers={"User-Agent": "TestBrowser/1.0"}
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    sr = reload(db_session, sr)
    assert sr.status == "completed" and sr.completed_at is not None
    dlv = reload(db_session, dlv)
    assert dlv.result == "pass" and dlv.decided_at is not None
    sig = db_session.scalar(select(Signature).where(Signature.delivery_id == dlv.id))
    assert (sig.party, sig.typed_name, sig.image_png) == ("customer", "李明", None)
    assert sig.content_hash == dlv.content_hash and sig.ip == "127.0.0.1"
    assert sig.user_agent == "TestBrowser/1.0"
    assert all(
        db_session.scalars(
            select(DeliveryCriterion.met).where(DeliveryCriterion.delivery_id == dlv.id)
        )
    )
    record = db_session.scalar(select(HandlingRecord).where(HandlingRecord.request_id == sr.id))
    assert (
        record.customer_confirmed_name == "李明" and record.customer_confirmed_at == sig.signed_at
    )


def test_a_drawn_signature_is_kept_and_a_bad_one_refused(factory, db_session, make_client):
    sr, contact, handler = in_progress(factory, db_session)
    staff = make_client()
    staff.login(handler)
    _deliver(staff, sr)
    dlv = latest_delivery(db_session, sr)
    customer = make_client()
    customer.login(contact)
    bad = _accept(
        customer,
        sr,
        dlv,
        db_session,
        result="pass",
        **{"accept-signature": "data:image/svg+xml;base64,PHN2Zz4="},
    )
    assert bad.status_code == 422
    assert "The drawn signature could not be read" in bad.get_data(as_text=True)
    assert reload(db_session, sr).status == "pending_acceptance"
    ok = _accept(customer, sr, dlv, db_session, result="pass", **{"accept-signature": PNG_DATA_URL})
    assert ok.status_code == 302
    sig = db_session.scalar(select(Signature).where(Signature.delivery_id == dlv.id))
    assert sig.image_png == PNG_DATA_URL


def test_fail_needs_unmet_items_and_rectification_and_returns_to_work(
    factory, db_session, make_client
):
    sr, contact, handler = in_progress(factory, db_session)
    staff = make_client()
    staff.login(handler)
    _deliver(staff, sr)
    dlv = latest_delivery(db_session, sr)
    first, second = criteria_ids(db_session, dlv)
    customer = make_client()
    customer.login(contact)

    refused = _accept(
        customer, sr, dlv, db_session, result="fail", met=[first], **{"accept-rectification": ""}
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Say what you ask to be rectified." in html
    # what was chosen is kept: fail stays selected, the checked criterion stays checked
    assert re.search(r'<input checked[^>]*name="accept-result"[^>]*value="fail"', html)
    assert re.search(rf'name="accept-met" value="{first}" checked', html)
    assert not re.search(rf'name="accept-met" value="{second}" checked', html)
    assert reload(db_session, sr).status == "pending_acceptance"

    passing_with_unmet = _accept(customer, sr, dlv, db_session, result="pass", met=[first])
    assert passing_with_unmet.status_code == 422
    assert "To pass, every criterion must be met" in passing_with_unmet.get_data(as_text=True)

    resp = _accept(
        customer,
        sr,
        dlv,
        db_session,
        result="fail",
        met=[first],
        **{
            "accept-other_unmet": "报告缺少根因时间线",
            "accept-rectification": "补充数据库连接池耗尽的时间线与监控截图",
        },
    )
    assert resp.status_code == 302
    sr = reload(db_session, sr)
    assert sr.status == "in_progress" and sr.rework_count == 1
    dlv = reload(db_session, dlv)
    assert dlv.result == "fail"
    assert dlv.unmet_items == "1. 故障报告内容完整\n报告缺少根因时间线"
    assert dlv.rectification == "补充数据库连接池耗尽的时间线与监控截图"
    assert db_session.get(DeliveryCriterion, second).met is False

    # the handler sees what to rework, and delivers again with a new SD number (round 2)
    panel = staff.get(f"/staff/requests/{sr.number}").get_data(as_text=True)
    assert "补充数据库连接池耗尽的时间线与监控截图" in panel
    assert _deliver(staff, sr).status_code == 200
    again = latest_delivery(db_session, sr)
    assert again.number != dlv.number and again.round == 2
    assert reload(db_session, sr).status == "pending_acceptance"


def test_countersign_puts_both_signatures_on_the_sd_form(factory, db_session, make_client):
    sr, contact, handler = in_progress(factory, db_session)
    staff = make_client()
    staff.login(handler)
    _deliver(staff, sr)
    dlv = latest_delivery(db_session, sr)
    customer = make_client()
    customer.login(contact)
    _accept(customer, sr, dlv, db_session, result="pass", **{"accept-signature": PNG_DATA_URL})

    missing = staff.post(
        f"/staff/requests/{sr.number}/countersign",
        data={"countersign-typed_name": ""},
        headers=HTMX,
    )
    assert missing.status_code == 422
    assert missing.get_data(as_text=True).lstrip().startswith('<section id="panel-countersign"')
    assert "Type your name to sign." in missing.get_data(as_text=True)

    resp = staff.post(
        f"/staff/requests/{sr.number}/countersign",
        data={"countersign-typed_name": "张强", "countersign-signature": PNG_DATA_URL},
        headers=HTMX,
    )
    assert resp.status_code == 200
    sigs = {
        s.party: s
        for s in db_session.scalars(select(Signature).where(Signature.delivery_id == dlv.id))
    }
    assert set(sigs) == {"customer", "handler"}
    assert sigs["handler"].typed_name == "张强" and sigs["handler"].content_hash == dlv.content_hash
    assert reload(db_session, sr).status == "completed"

    again = staff.post(
        f"/staff/requests/{sr.number}/countersign",
        data={"countersign-typed_name": "张强"},
        headers=HTMX,
    )
    assert again.status_code == 422  # the panel is gone: nothing to countersign twice

    page = staff.get(f"/staff/requests/{sr.number}/print/sd").get_data(as_text=True)
    _heads, rows = form_table(page)
    assert rows[0]["Delivery number"] == dlv.number
    assert rows[0]["Result (pass / fail)"] == "Pass"
    assert rows[0]["Customer signature"] == "李明"  # the handler is on the request: in full
    assert page.count('class="signature-image"') == 2
    assert dlv.content_hash in page
    assert "Content unchanged since delivery" in page
    assert "content changed after signing" not in page.lower()


def _signed(factory, db_session, make_client):
    sr, contact, handler = in_progress(factory, db_session)
    staff = make_client()
    staff.login(handler)
    _deliver(staff, sr)
    dlv = latest_delivery(db_session, sr)
    customer = make_client()
    customer.login(contact)
    assert _accept(customer, sr, dlv, db_session, result="pass").status_code == 302
    return sr, dlv, staff, customer


def test_changing_an_item_after_signing_is_detected_and_shown(factory, db_session, make_client):
    sr, dlv, staff, customer = _signed(factory, db_session, make_client)
    assert delivery_service.verify(db_session, dlv).intact
    db_session.execute(
        update(DeliveryItem)
        .where(DeliveryItem.delivery_id == dlv.id, DeliveryItem.position == 2)
        .values(text="系统恢复操作记录(已删改)")
    )
    db_session.flush()
    integrity = delivery_service.verify(db_session, dlv)
    assert integrity.changed_since_delivery and integrity.changed_after_signing
    assert integrity.stored_hash == dlv.content_hash != integrity.current_hash

    sd_page = staff.get(f"/staff/requests/{sr.number}/print/sd").get_data(as_text=True)
    assert "Content changed after signing" in sd_page
    assert integrity.current_hash in sd_page
    assert "Content changed after signing" in customer.get(
        f"/requests/{sr.number}/print/sd"
    ).get_data(as_text=True)
    assert "Content changed after signing" in staff.get(f"/staff/requests/{sr.number}").get_data(
        as_text=True
    )
    # and a countersignature on changed content is refused
    resp = staff.post(
        f"/staff/requests/{sr.number}/countersign",
        data={"countersign-typed_name": "张强"},
        headers=HTMX,
    )
    assert resp.status_code == 422
    assert "changed after signing" in resp.get_data(as_text=True)


def test_changing_a_criterion_after_signing_is_detected(factory, db_session, make_client):
    sr, dlv, staff, _customer = _signed(factory, db_session, make_client)
    db_session.execute(
        update(DeliveryCriterion)
        .where(DeliveryCriterion.delivery_id == dlv.id, DeliveryCriterion.position == 1)
        .values(text="系统登录基本正常")
    )
    db_session.flush()
    assert not delivery_service.verify(db_session, dlv).intact
    assert "Content changed after signing" in staff.get(
        f"/staff/requests/{sr.number}/print/sd"
    ).get_data(as_text=True)


def test_content_changed_before_signing_cannot_be_signed(factory, db_session, make_client):
    sr, contact, handler = in_progress(factory, db_session)
    staff = make_client()
    staff.login(handler)
    _deliver(staff, sr)
    dlv = latest_delivery(db_session, sr)
    db_session.execute(
        update(Delivery).where(Delivery.id == dlv.id).values(service_item="别的服务项目")
    )
    db_session.flush()
    customer = make_client()
    customer.login(contact)
    resp = _accept(customer, sr, dlv, db_session, result="pass")
    assert resp.status_code == 422
    assert "no longer what you were shown" in text_of(resp.get_data(as_text=True))
    assert db_session.scalar(select(Signature.id).where(Signature.delivery_id == dlv.id)) is None


def test_another_organisation_gets_404(factory, db_session, make_client):
    sr, _dlv, _staff, _customer = _signed(factory, db_session, make_client)
    stranger = factory.customer(factory.organisation(), name="陈外人")
    other = make_client()
    other.login(stranger)
    for url in (
        f"/requests/{sr.number}/print/sd",
        f"/requests/{sr.number}/export/sd.xlsx",
        f"/requests/{sr.number}/print/sr",
    ):
        assert other.get(url).status_code == 404, url
    assert (
        other.post(f"/requests/{sr.number}/acceptance", data={"accept-result": "pass"}).status_code
        == 404
    )
    assert other.post(f"/requests/{sr.number}/feedback", data={}).status_code == 404


def test_the_staff_panels_run_a_fixed_number_of_queries(
    factory, db_session, make_client, count_queries
):
    def measure(n_rounds):
        sr, contact, handler = in_progress(factory, db_session, org=factory.organisation())
        staff = make_client()
        staff.login(handler)
        customer = make_client()
        customer.login(contact)
        for _ in range(n_rounds):
            _deliver(staff, sr)
            dlv = latest_delivery(db_session, sr)
            first = criteria_ids(db_session, dlv)[0]
            _accept(
                customer,
                sr,
                dlv,
                db_session,
                result="fail",
                met=[first],
                **{"accept-rectification": "补充报告"},
            )
        with count_queries() as staff_q:
            assert staff.get(f"/staff/requests/{sr.number}").status_code == 200
        with count_queries() as customer_q:
            assert customer.get(f"/requests/{sr.number}").status_code == 200
        with count_queries() as print_q:
            assert staff.get(f"/staff/requests/{sr.number}/print/sd").status_code == 200
        return len(staff_q), len(customer_q), len(print_q)

    assert measure(1) == measure(4)
