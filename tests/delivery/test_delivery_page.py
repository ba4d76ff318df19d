"""The builders of the delivery area and the measures list (portal.services.delivery_page): what
each viewer is shown, and a number of queries that does not grow with the history (deliveries,
failed acceptances, improvement measures)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.models import utcnow
from portal.services import delivery as delivery_service
from portal.services import delivery_page
from portal.services import feedback as feedback_service
from portal.services.audit import Actor
from tests.delivery.helpers import in_progress

PHONE = "13812345678"


def _history(factory, session, app, *, failures: int, measures: int):
    """A request whose first ``failures`` deliveries were not accepted, the last one accepted,
    countersigned and rated by phone, with ``measures`` improvement measures."""
    tz = app.config["PORTAL_TIMEZONE"]
    folder, limit = app.config["UPLOAD_FOLDER"], app.config["UPLOAD_MAX_BYTES"]
    org = factory.organisation()
    sr, contact, handler = in_progress(factory, session, org=org)
    agent = factory.staff("agent", "supervisor")
    now = utcnow() - timedelta(days=2)

    def deliver_and_accept(result: str, **decision):
        """A delivery and the customer's decision on it; ``met``: how many are met (all)."""
        dlv = delivery_service.deliver(
            session,
            Actor(handler.id),
            handler,
            sr,
            now,
            tz,
            service_item="生产系统故障修复",
            items=["故障原因分析报告", "系统恢复操作记录"],
            criteria=["系统登录无异常", "故障报告内容完整"],
            demo_note=f"演示时请致电 {PHONE}",
            folder=folder,
            max_bytes=limit,
        )
        criteria = delivery_service.load(session, sr.id)[-1].criteria
        met = decision.pop("met", len(criteria))
        delivery_service.accept(
            session,
            Actor(contact.id),
            contact,
            sr,
            now,
            result=result,
            met_ids={c.id for c in criteria[:met]},
            typed_name=contact.name,
            shown_hash=dlv.content_hash,
            **decision,
        )

    for _ in range(failures):
        deliver_and_accept("fail", met=1, rectification=f"补充报告后请致电 {PHONE}")
    deliver_and_accept("pass")
    delivery_service.countersign(
        session, Actor(handler.id), handler, sr, now, typed_name=handler.name
    )
    fb = feedback_service.give(
        session,
        Actor(agent.id),
        agent,
        sr,
        now,
        tz,
        scores={"response": 5, "effect": 4, "attitude": 5},
        suggestions=f"变更前请致电 {PHONE}",
        channel="phone",
    )
    for n in range(measures):
        feedback_service.add_measure(
            session,
            Actor(agent.id),
            agent,
            fb,
            now,
            measure=f"措施 {n}",
            owner_id=handler.id,
            deadline=(now + timedelta(days=30)).date(),
            today=now.date(),
        )
    colleague = factory.customer(org, name="赵同事")
    session.flush()
    return sr, contact, colleague, handler, agent


@pytest.fixture
def built(db_session, count_queries):
    """``built(builder, *args)``: what the builder returns from a cold session, and how many
    statements it ran."""

    def run(builder, *args, **kwargs):
        db_session.expire_all()
        with count_queries() as statements:
            result = builder(db_session, *args, **kwargs)
        return result, len(statements)

    return run


def test_the_customer_panels_cost_the_same_whatever_the_history(factory, db_session, app, built):
    def measure(failures):
        sr, contact, colleague, *_ = _history(
            factory, db_session, app, failures=failures, measures=failures
        )
        acc, mine = built(delivery_page.customer_panels, sr, contact)
        assert len(acc.deliveries) == len(acc.decided) == failures + 1
        assert len(acc.feedback.measures) == failures
        _acc, theirs = built(delivery_page.customer_panels, sr, colleague)
        return mine, theirs

    assert measure(1) == measure(5)


def test_the_staff_panels_cost_the_same_whatever_the_history(factory, db_session, app, built):
    def measure(failures):
        sr, _contact, _colleague, handler, agent = _history(
            factory, db_session, app, failures=failures, measures=failures
        )
        dl, handlers = built(delivery_page.staff_panels, sr, handler)
        assert len(dl.deliveries) == failures + 1
        assert dl.previous_failure is dl.deliveries[-2]
        dl, supervisors = built(delivery_page.staff_panels, sr, agent)
        # a supervisor may add measures: the owners are loaded for the form
        assert dl.can_add_measure and dl.owners
        assert len(dl.feedback.measures) == failures
        return handlers, supervisors

    assert measure(1) == measure(5)


def test_the_measures_page_costs_the_same_whatever_the_number_of_measures(
    factory, db_session, app, built
):
    def measure(count):
        *_, handler, agent = _history(factory, db_session, app, failures=0, measures=count)
        page, queries = built(
            delivery_page.measures_page, agent, utcnow().date(), owner_id=handler.id
        )
        assert len(page.rows) == count and all(page.may_update(r.measure) for r in page.rows)
        assert (handler.id, handler.name) in page.owners
        return queries

    assert measure(1) == measure(5)


def test_who_sees_what_in_the_delivery_area(factory, db_session, app):
    sr, contact, colleague, handler, agent = _history(
        factory, db_session, app, failures=1, measures=1
    )

    def signed(area):
        view = area.deliveries[-1]
        return {party: area.signer_name(sv.signature) for party, sv in view.signatures.items()}

    mine = delivery_page.customer_panels(db_session, sr, contact)
    assert signed(mine) == {"customer": contact.name, "handler": "张*"}
    assert PHONE in mine.deliveries[0].delivery.rectification
    # a colleague of the contact: names masked, personal data in the free text redacted
    theirs = delivery_page.customer_panels(db_session, sr, colleague)
    assert signed(theirs) == {"customer": "李*", "handler": "张*"}
    assert PHONE not in theirs.deliveries[0].delivery.rectification
    assert PHONE not in theirs.deliveries[-1].delivery.demo_note
    assert PHONE not in theirs.feedback.feedback.suggestions
    # staff: the customer's signed name in full only to staff on the request
    assert signed(delivery_page.staff_panels(db_session, sr, handler)) == {
        "customer": contact.name,
        "handler": handler.name,
    }
    assert signed(delivery_page.staff_panels(db_session, sr, agent)) == {
        "customer": "李*",
        "handler": handler.name,
    }


def test_staff_outside_the_request_read_the_delivery_history_redacted(factory, db_session, app):
    """Free text in the deliveries and the feedback (a phone number in the rectification asked
    for, the demonstration note, the suggestions) is redacted for staff who are neither the
    handler nor a collaborator, as on the rest of the request page; the handler reads it as
    written."""
    sr, _contact, _colleague, handler, agent = _history(
        factory, db_session, app, failures=1, measures=1
    )
    outsider = delivery_page.staff_panels(db_session, sr, agent)
    assert PHONE not in outsider.deliveries[0].delivery.rectification
    assert PHONE not in outsider.deliveries[-1].delivery.demo_note
    assert PHONE not in outsider.feedback.feedback.suggestions
    on_it = delivery_page.staff_panels(db_session, sr, handler)
    assert PHONE in on_it.deliveries[0].delivery.rectification
    assert PHONE in on_it.feedback.feedback.suggestions
