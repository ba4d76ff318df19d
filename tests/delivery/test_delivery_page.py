"""The builders of the delivery area and the measures list (portal.services.delivery_page): what
each viewer is shown, and a number of queries that does not grow with the history (deliveries,
failed acceptances, improvement measures)."""

from __future__ import annotations

from datetime import timedelta

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

    def deliver():
        return delivery_service.deliver(
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

    for _ in range(failures):
        dlv = deliver()
        first = delivery_service.load(session, sr.id)[-1].criteria[0]
        delivery_service.accept(
            session,
            Actor(contact.id),
            contact,
            sr,
            now,
            result="fail",
            met_ids={first.id},
            rectification=f"补充报告后请致电 {PHONE}",
            typed_name=contact.name,
            shown_hash=dlv.content_hash,
        )
    dlv = deliver()
    criteria = delivery_service.load(session, sr.id)[-1].criteria
    delivery_service.accept(
        session,
        Actor(contact.id),
        contact,
        sr,
        now,
        result="pass",
        met_ids={c.id for c in criteria},
        typed_name=contact.name,
        shown_hash=dlv.content_hash,
    )
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


def _counted(count_queries, session, build):
    """How many statements ``build()`` runs from a cold session, and what it built."""
    session.expire_all()
    with count_queries() as statements:
        built = build()
    return len(statements), built


def test_the_customer_panels_cost_the_same_whatever_the_history(
    factory, db_session, app, count_queries
):
    def measure(failures):
        sr, contact, colleague, _handler, _agent = _history(
            factory, db_session, app, failures=failures, measures=failures
        )
        n, acc = _counted(
            count_queries,
            db_session,
            lambda: delivery_page.customer_panels(db_session, sr, contact),
        )
        assert len(acc.deliveries) == failures + 1 and len(acc.decided) == failures + 1
        assert len(acc.feedback.measures) == failures
        m, _acc = _counted(
            count_queries,
            db_session,
            lambda: delivery_page.customer_panels(db_session, sr, colleague),
        )
        return n, m

    assert measure(1) == measure(5)


def test_the_staff_panels_cost_the_same_whatever_the_history(
    factory, db_session, app, count_queries
):
    def measure(failures):
        sr, _contact, _colleague, handler, agent = _history(
            factory, db_session, app, failures=failures, measures=failures
        )
        n, dl = _counted(
            count_queries, db_session, lambda: delivery_page.staff_panels(db_session, sr, handler)
        )
        assert len(dl.deliveries) == failures + 1
        assert dl.previous_failure is dl.deliveries[-2]
        m, dl = _counted(
            count_queries, db_session, lambda: delivery_page.staff_panels(db_session, sr, agent)
        )
        # a supervisor may add measures: the owners are loaded for the form
        assert dl.can_add_measure and dl.owners
        assert len(dl.feedback.measures) == failures
        return n, m

    assert measure(1) == measure(5)


def test_the_measures_page_costs_the_same_whatever_the_number_of_measures(
    factory, db_session, app, count_queries
):
    def measure(count):
        sr, _contact, _colleague, handler, agent = _history(
            factory, db_session, app, failures=0, measures=count
        )
        today = utcnow().date()
        n, page = _counted(
            count_queries,
            db_session,
            lambda: delivery_page.measures_page(db_session, agent, today, owner_id=handler.id),
        )
        assert len(page.rows) == count and all(page.may_update(r.measure) for r in page.rows)
        assert (handler.id, handler.name) in page.owners
        return n

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
