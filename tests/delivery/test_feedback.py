"""Feedback (FB) in the portal and by phone, improvement measures, closing after feedback or
after the feedback window."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from portal.models import AuditEvent, Feedback, ImprovementMeasure, utcnow
from portal.services import feedback as feedback_service
from tests.delivery.helpers import HTMX, feedback_of, in_progress, reload

FB = re.compile(r"^FB-\d{8}-\d{3,}$")


def completed(factory, db_session, **kw):
    sr, contact, handler = in_progress(factory, db_session, **kw)
    sr.status = "completed"
    sr.completed_at = utcnow()
    db_session.flush()
    return sr, contact, handler


def _scores(prefix, r, e, a, **extra):
    return {
        f"{prefix}-score_response": str(r),
        f"{prefix}-score_effect": str(e),
        f"{prefix}-score_attitude": str(a),
        **extra,
    }


def test_customer_rates_in_the_portal_and_the_request_closes(factory, db_session, client):
    sr, contact, _handler = completed(factory, db_session)
    client.login(contact)
    page = client.get(f"/requests/{sr.number}").get_data(as_text=True)
    assert f'action="/requests/{sr.number}/feedback"' in page and "Rate the service" in page
    resp = client.post(
        f"/requests/{sr.number}/feedback",
        data=_scores("rate", 5, 4, 5, **{"rate-suggestions": "希望增加故障预警功能"}),
    )
    assert resp.status_code == 302
    fb = feedback_of(db_session, sr)
    assert FB.match(fb.number)
    assert (fb.score_response, fb.score_effect, fb.score_attitude) == (5, 4, 5)
    assert fb.mean_score == Decimal("4.7")
    assert (fb.channel, fb.customer_id, fb.recorded_by_id) == ("portal", contact.id, contact.id)
    assert fb.suggestions == "希望增加故障预警功能"
    sr = reload(db_session, sr)
    assert sr.status == "closed" and sr.closed_at is not None
    page = client.get(f"/requests/{sr.number}").get_data(as_text=True)
    assert fb.number in page and "4.7" in page
    assert f'action="/requests/{sr.number}/feedback"' not in page


def test_a_missing_score_is_refused_keeping_the_others(factory, db_session, client):
    sr, contact, _handler = completed(factory, db_session)
    client.login(contact)
    data = _scores("rate", 5, 4, 5, **{"rate-suggestions": "希望增加故障预警功能"})
    del data["rate-score_effect"]
    resp = client.post(f"/requests/{sr.number}/feedback", data=data)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "Choose a score from 1 to 5." in html
    assert "希望增加故障预警功能" in html
    assert re.search(r'<input checked[^>]*name="rate-score_response"[^>]*value="5"', html)
    assert feedback_of(db_session, sr) is None
    assert reload(db_session, sr).status == "completed"


def test_feedback_before_completion_is_refused_with_the_state(factory, db_session, client):
    sr, contact, _handler = in_progress(factory, db_session)
    client.login(contact)
    resp = client.post(
        f"/requests/{sr.number}/feedback", data=_scores("rate", 5, 5, 5), follow_redirects=True
    )
    assert "not in a state for that (currently: In progress)" in resp.get_data(as_text=True)
    assert feedback_of(db_session, sr) is None


def test_agent_records_a_phone_rating_with_a_measure(factory, db_session, client):
    sr, contact, _handler = completed(factory, db_session)
    agent = factory.staff("agent", name="刘洋")
    owner = factory.staff("supervisor", name="赵静")
    client.login(agent)
    page = client.get(f"/staff/requests/{sr.number}").get_data(as_text=True)
    assert "Record feedback and close" in page
    deadline = (date.today() + timedelta(days=90)).isoformat()
    no_owner = client.post(
        f"/staff/requests/{sr.number}/feedback",
        data=_scores(
            "feedback",
            5,
            4,
            5,
            **{
                "feedback-channel": "phone",
                "feedback-measure": "记录需求,纳入下一季度产品优化计划",
                "feedback-deadline": deadline,
            },
        ),
        headers=HTMX,
    )
    assert no_owner.status_code == 422
    html = no_owner.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="panel-feedback"')
    assert "Choose the owner of the measure." in html
    assert "记录需求,纳入下一季度产品优化计划" in html
    assert feedback_of(db_session, sr) is None

    resp = client.post(
        f"/staff/requests/{sr.number}/feedback",
        data=_scores(
            "feedback",
            5,
            4,
            5,
            **{
                "feedback-channel": "phone",
                "feedback-suggestions": "希望增加故障预警功能",
                "feedback-measure": "记录需求,纳入下一季度产品优化计划",
                "feedback-owner": str(owner.id),
                "feedback-deadline": deadline,
            },
        ),
        headers=HTMX,
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)[:2000]
    fb = feedback_of(db_session, sr)
    assert (fb.channel, fb.customer_id, fb.recorded_by_id) == ("phone", contact.id, agent.id)
    assert fb.mean_score == Decimal("4.7")
    measure = db_session.scalar(
        select(ImprovementMeasure).where(ImprovementMeasure.feedback_id == fb.id)
    )
    assert (measure.owner_id, measure.deadline.isoformat(), measure.status) == (
        owner.id,
        deadline,
        "open",
    )
    assert reload(db_session, sr).status == "closed"
    assert fb.number in resp.get_data(as_text=True)


def test_an_engineer_may_not_record_feedback(factory, db_session, client):
    sr, _contact, handler = completed(factory, db_session)
    client.login(handler)
    resp = client.post(
        f"/staff/requests/{sr.number}/feedback",
        data=_scores("feedback", 5, 5, 5, **{"feedback-channel": "phone"}),
        headers=HTMX,
    )
    assert resp.status_code == 403  # neither agent nor supervisor: refused before the form
    assert "You may not do that on this request." in resp.get_data(as_text=True)
    assert feedback_of(db_session, sr) is None


def _measure(db_session, fb, owner, text, deadline, status="open"):
    m = ImprovementMeasure(
        feedback_id=fb.id, measure=text, owner_id=owner.id, deadline=deadline, status=status
    )
    db_session.add(m)
    db_session.flush()
    return m


def _feedback(factory, db_session):
    sr, contact, _handler = completed(factory, db_session, org=factory.organisation())
    now = utcnow()
    fb = feedback_service.give(
        db_session,
        feedback_service.audit.Actor(contact.id),
        contact,
        sr,
        now,
        "Asia/Shanghai",
        scores={"response": 4, "effect": 4, "attitude": 5},
    )
    return fb


def test_measures_page_lists_overdue_first_filters_by_owner_and_updates_status(
    factory, db_session, make_client
):
    sup = factory.staff("supervisor", name="赵静")
    eng = factory.staff("engineer", name="王涛")
    fb = _feedback(factory, db_session)
    today = date.today()
    later = _measure(db_session, fb, sup, "季度复盘会议纪要归档", today + timedelta(days=30))
    overdue = _measure(db_session, fb, eng, "补充连接池监控告警", today - timedelta(days=2))
    done = _measure(db_session, fb, sup, "更新巡检清单", today - timedelta(days=5), status="done")

    client = make_client()
    client.login(sup)
    html = client.get("/staff/measures").get_data(as_text=True)
    order = [int(i) for i in re.findall(r'id="measure-(\d+)"', html)]
    assert order == [overdue.id, later.id]  # overdue first; done ones hidden by default
    assert "Overdue" in html
    all_rows = client.get("/staff/measures?state=all").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'id="measure-(\d+)"', all_rows)] == [
        overdue.id,
        later.id,
        done.id,
    ]
    mine = client.get(f"/staff/measures?owner={eng.id}", headers=HTMX).get_data(as_text=True)
    assert mine.lstrip().startswith('<div id="measures-table"')
    assert [int(i) for i in re.findall(r'id="measure-(\d+)"', mine)] == [overdue.id]

    resp = client.post(
        "/staff/measures/status",
        data={"measure_id": str(overdue.id), "status": "done"},
        headers=HTMX,
    )
    assert resp.status_code == 200
    assert resp.get_data(as_text=True).lstrip().startswith(f'<tr id="measure-{overdue.id}"')
    assert reload(db_session, overdue).status == "done" and overdue.done_at is not None
    assert db_session.scalar(
        select(AuditEvent.id).where(
            AuditEvent.action == "measure.status", AuditEvent.object_id == str(overdue.id)
        )
    )

    # an engineer may update their own measure, not someone else's
    other = make_client()
    other.login(eng)
    assert (
        other.post(
            "/staff/measures/status",
            data={"measure_id": str(overdue.id), "status": "in_progress"},
            headers=HTMX,
        ).status_code
        == 200
    )
    refused = other.post(
        "/staff/measures/status", data={"measure_id": str(later.id), "status": "done"}, headers=HTMX
    )
    assert refused.status_code == 403
    assert reload(db_session, later).status == "open"


def test_a_status_change_without_javascript_goes_back_to_the_list_and_nowhere_else(
    factory, db_session, make_client
):
    sup = factory.staff("supervisor")
    fb = _feedback(factory, db_session)
    measure = _measure(db_session, fb, sup, "补充连接池监控告警", date.today() + timedelta(days=7))
    client = make_client()
    client.login(sup)
    # each row's form says which list it belongs to (its filters)
    page = client.get(f"/staff/measures?state=all&owner={sup.id}").get_data(as_text=True)
    row = page.split(f'<tr id="measure-{measure.id}"', 1)[1].split("</tr>", 1)[0]
    assert f'name="next" value="/staff/measures?state=all&amp;owner={sup.id}"' in row

    def post(status, **extra):
        return client.post(
            "/staff/measures/status",
            data={"measure_id": str(measure.id), "status": status, **extra},
            headers={"Referer": "https://evil.example/phish"},
        )

    resp = post("in_progress", next=f"/staff/measures?state=all&owner={sup.id}")
    assert resp.status_code == 302
    assert resp.location == f"/staff/measures?state=all&owner={sup.id}"
    assert reload(db_session, measure).status == "in_progress"
    # neither the Referer nor an address elsewhere in the form is ever followed
    for elsewhere in (None, "https://evil.example/phish", "//evil.example/x", "/\\evil.example"):
        resp = post("open", **({"next": elsewhere} if elsewhere else {}))
        assert resp.status_code == 302 and resp.location == "/staff/measures", elsewhere


def test_close_if_feedback_window_passed(factory, db_session):
    sr, _contact, _handler = completed(factory, db_session)
    window = timedelta(days=3)
    assert not feedback_service.close_if_feedback_window_passed(
        db_session, sr, sr.completed_at + window - timedelta(minutes=1), window
    )
    assert sr.status == "completed"
    at = sr.completed_at + window
    assert feedback_service.close_if_feedback_window_passed(db_session, sr, at, window)
    assert sr.status == "closed" and sr.closed_at == at
    event = db_session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "request.close_timeout", AuditEvent.object_id == sr.number
        )
    )
    assert event.actor_id is None and event.after["status"] == "closed"
    # running it again (a retried timer) changes nothing
    assert not feedback_service.close_if_feedback_window_passed(db_session, sr, at + window, window)


def test_the_window_does_not_close_a_request_in_rework_or_already_rated(factory, db_session):
    sr, _contact, _handler = in_progress(factory, db_session)
    sr.completed_at = utcnow() - timedelta(days=10)
    assert not feedback_service.close_if_feedback_window_passed(
        db_session, sr, utcnow(), timedelta(days=3)
    )
    assert sr.status == "in_progress"
    fb = _feedback(factory, db_session)
    rated = db_session.get(type(sr), fb.request_id)
    assert rated.status == "closed"
    assert not feedback_service.close_if_feedback_window_passed(
        db_session, rated, utcnow() + timedelta(days=30), timedelta(days=3)
    )
    assert db_session.scalar(select(Feedback.id).where(Feedback.request_id == rated.id)) == fb.id
