"""The page builders (portal/services: request_page, workflow_panels, board, sla_panels) cost the
same number of queries for a request with one of everything as for one with ten: messages,
internal notes, files, questions to the customer, steps, assignments, collaborators,
classifications, pauses, SLA events."""

from __future__ import annotations

from datetime import timedelta

from portal.models import SlaEvent, SlaPause, utcnow
from portal.services import board, request_page, sla_panels, workflow, workflow_panels
from portal.services.audit import Actor
from tests.customer.helpers import attach

TZ = "Asia/Shanghai"


def _history(factory, db_session, app, desk, lead, n: int):
    """A request in progress, handled by ``lead``, with ``n`` of each thing in its history."""
    start = utcnow() - timedelta(hours=3)
    contact, sup, disp = desk["contact"], desk["supervisor"], desk["dispatcher"]
    sr = factory.request(contact, now=start)

    def at(minutes: int):
        return start + timedelta(minutes=minutes)

    answers = workflow.ClassificationInput("fault", "database", "core", "high", "high", "电话确认")
    workflow.classify(db_session, Actor(sup.id), sup, sr, answers, at(1))
    for i in range(n - 1):
        workflow.classify(
            db_session, Actor(sup.id), sup, sr, answers, at(2 + i), action="reclassify"
        )
    workflow.assign(db_session, Actor(disp.id), disp, sr, desk["eng_db"].id, at(15), TZ)
    others = (desk["eng_db5"], desk["eng_db"])
    for i in range(n - 1):
        workflow.assign(db_session, Actor(disp.id), disp, sr, others[i % 2].id, at(16 + i), TZ)
    workflow.assign(db_session, Actor(disp.id), disp, sr, lead.id, at(29), TZ)
    for i in range(n):
        workflow.add_collaborator(
            db_session, Actor(disp.id), disp, sr, factory.staff().id, "联系人", "数据库", at(30)
        )
        step = workflow.log_step(
            db_session,
            Actor(lead.id),
            lead,
            sr,
            workflow.StepInput(at(31 + i), f"第{i}步:检查连接池", 0.25, visible_to_customer=True),
            at(31 + i),
            TZ,
        )
        attach(app, db_session, sr, lead, b"log", name=f"step{i}.log", step_id=step.id)
        for author, internal in ((contact, False), (lead, False), (lead, True)):
            message = workflow.post_message(
                db_session, Actor(author.id), author, sr, f"消息{i}", at(45 + i), internal=internal
            )
            attach(app, db_session, sr, author, b"m", name=f"m{i}.txt", message_id=message.id)
        workflow.ask_customer(db_session, Actor(lead.id), lead, sr, f"问题{i}", None, at(60 + i))
        workflow.answer_customer(db_session, Actor(contact.id), contact, sr, f"回答{i}", at(60 + i))
        db_session.add(SlaEvent(request_id=sr.id, kind=f"event_{i}", due_at=at(i), fired_at=at(i)))
    attach(app, db_session, sr, contact, b"r", name="request.txt")
    db_session.flush()
    return sr


def _cost(count_queries, build) -> int:
    build()  # what the viewer's account loads once (its roles) is loaded before counting
    with count_queries() as statements:
        build()
    return len(statements)


def _lead(factory):
    # may take every panel's action: supervisor, dispatcher, and the handler
    return factory.staff("supervisor", "dispatcher", "engineer")


def test_the_request_pages_cost_the_same_for_one_and_ten_of_everything(
    factory, db_session, app, desk, count_queries
):
    lead = _lead(factory)
    one = _history(factory, db_session, app, desk, lead, 1)
    ten = _history(factory, db_session, app, desk, lead, 10)
    outsider = factory.staff("agent")
    contact, colleague = desk["contact"], desk["org_admin"]
    builders = {
        "customer": lambda sr: request_page.customer_page(db_session, contact, sr.number, utcnow()),
        "org admin": lambda sr: request_page.customer_page(
            db_session, colleague, sr.number, utcnow()
        ),
        "handler": lambda sr: request_page.staff_page(db_session, lead, sr.number, utcnow()),
        "outsider": lambda sr: request_page.staff_page(db_session, outsider, sr.number, utcnow()),
    }
    for who, build in builders.items():
        costs = [_cost(count_queries, lambda sr=sr, build=build: build(sr)) for sr in (one, ten)]
        assert costs[0] == costs[1], (who, costs)
    assert _cost(count_queries, lambda: builders["customer"](ten)) == 3
    assert _cost(count_queries, lambda: builders["handler"](ten)) == 9
    assert _cost(count_queries, lambda: builders["outsider"](ten)) == 10

    page = builders["customer"](ten)
    # the submission, and per round the customer's message and the desk's reply (no note)
    assert [e.kind for e in page.timeline].count("message") == 20
    assert page.timeline[0].kind == "submitted"
    assert sum(len(e.files) for e in page.timeline) == 20
    assert [f.original_name for f in page.files] == ["request.txt"]
    staff = builders["handler"](ten)
    kinds = [e.kind for e in staff.timeline]
    assert (kinds.count("message"), kinds.count("note"), kinds.count("cooperation")) == (20, 10, 10)
    assert len(staff.steps) == 10 and all(len(s.files) == 1 for s in staff.steps)
    assert (len(staff.classifications), len(staff.assignments), len(staff.collaborators)) == (
        10,
        11,
        10,
    )


def test_the_workflow_panels_cost_the_same_for_one_and_ten_of_everything(
    factory, db_session, app, desk, count_queries
):
    lead = _lead(factory)
    one = _history(factory, db_session, app, desk, lead, 1)
    ten = _history(factory, db_session, app, desk, lead, 10)
    contact = desk["contact"]
    with app.test_request_context():  # the candidates' reasons are worded in the reader's language
        staff_costs = [
            _cost(count_queries, lambda sr=sr: workflow_panels.staff_panels(db_session, sr, lead))
            for sr in (one, ten)
        ]
        panels = workflow_panels.staff_panels(db_session, ten, lead)
    customer_costs = [
        _cost(count_queries, lambda sr=sr: workflow_panels.customer_work(db_session, sr, contact))
        for sr in (one, ten)
    ]
    assert staff_costs[0] == staff_costs[1] == 11  # the candidates read the assignable roles
    assert customer_costs[0] == customer_costs[1] == 3

    assert panels.classify_action == "reclassify" and panels.assign_action == "reassign"
    assert panels.assignment is not None and panels.assignment.handler_id == lead.id
    assert panels.candidates and panels.staff_choices and panels.record is not None
    assert panels.composer_kind == "reply"
    work = workflow_panels.customer_work(db_session, ten, contact)
    assert len(work.answered) == 10 and work.open_question is None
    assert len(work.steps) == 10 and sum(len(f) for f in work.step_files.values()) == 10


def test_the_board_and_the_escalation_panel_cost_the_same_for_one_and_ten(
    factory, db_session, app, desk, count_queries
):
    lead = _lead(factory)
    one = _history(factory, db_session, app, desk, lead, 1)
    ten = _history(factory, db_session, app, desk, lead, 10)
    sup = desk["supervisor"]
    costs = [
        _cost(count_queries, lambda sr=sr: board.escalation_panel(db_session, sr, sup))
        for sr in (one, ten)
    ]
    assert costs[0] == costs[1] == 1
    panel = board.escalation_panel(db_session, ten, sup)
    assert len(panel.events) == 10 and panel.may_explain

    now = utcnow()
    few = _cost(count_queries, lambda: board.board(db_session, now, TZ))
    for _ in range(10):
        sr = factory.request(desk["contact"], now=now - timedelta(hours=3))
        sr.status, sr.priority, sr.handler_id = "in_progress", "P2", lead.id
        sr.resolution_due_at = now - timedelta(minutes=5)
    db_session.flush()
    many = _cost(count_queries, lambda: board.board(db_session, now, TZ))
    # five lists (one: handler unavailable), engineers, load, hours, and the service plans due
    # this week (the occurrences opened, the plans running)
    assert few == many == 10
    assert len(board.board(db_session, now, TZ).breached) >= 10


def test_the_sla_panels_cost_the_same_for_one_and_ten_pauses(
    factory, db_session, app, desk, count_queries
):
    lead = _lead(factory)
    one = _history(factory, db_session, app, desk, lead, 1)
    ten = _history(factory, db_session, app, desk, lead, 10)
    for sr, n in ((one, 1), (ten, 10)):
        for i in range(n):
            started = sr.submitted_at + timedelta(minutes=100 + 2 * i)
            db_session.add(
                SlaPause(
                    request_id=sr.id,
                    reason="awaiting_customer",
                    started_at=started,
                    ended_at=started + timedelta(minutes=1),
                )
            )
    db_session.flush()
    costs = [
        _cost(count_queries, lambda sr=sr: sla_panels.sla_panel(db_session, sr, utcnow()))
        for sr in (one, ten)
    ]
    assert costs[0] == costs[1]
    assert sla_panels.sla_panel(db_session, ten, utcnow()).explanation.paused >= timedelta(
        minutes=10
    )
    for sr in (one, ten):
        sr.status, sr.completed_at = "completed", utcnow()
    costs = [
        _cost(count_queries, lambda sr=sr: sla_panels.due_times(db_session, sr, utcnow()))
        for sr in (one, ten)
    ]
    assert costs[0] == costs[1]
    assert sla_panels.due_times(db_session, ten, utcnow()).outcomes is not None
