"""Prometheus metrics (portal/metrics.py): closed to the public, counting what an operator
alerts on, and reading only Redis at scrape time."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from portal import jobs_sla
from portal.models import EmailOutbox, utcnow

OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}


def _samples(client) -> dict[tuple, float]:
    resp = client.get("/metrics")
    assert resp.status_code == 200, resp.status_code
    assert resp.headers["Content-Type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(resp.get_data(as_text=True)):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_a_404_for_anyone_outside_the_allowed_addresses(app, client):
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 404
    assert client.get("/metrics").status_code == 200  # loopback, the default METRICS_ALLOW
    app.config["METRICS_ALLOW"] = ""
    try:
        assert client.get("/metrics").status_code == 404
    finally:
        app.config["METRICS_ALLOW"] = "127.0.0.1,::1"


def test_logins_and_failed_logins_are_counted(client, make_client, factory):
    agent = factory.staff("agent")
    before = _samples(client)
    bad = client.post("/staff/login", data={"identifier": agent.email, "password": "wrong-one-1"})
    assert bad.status_code == 401
    make_client().login(agent)
    after = _samples(client)
    for outcome in ("failed", "ok"):
        delta = _value(after, "portal_logins_total", side="staff", outcome=outcome) - _value(
            before, "portal_logins_total", side="staff", outcome=outcome
        )
        assert delta == 1, outcome


def test_request_latency_is_counted_by_endpoint_never_by_path(client):
    before = _samples(client)
    for _ in range(3):
        assert client.get("/login?q=13812345678").status_code == 200
    after = _samples(client)
    key = dict(endpoint="customer.login", method="GET", status="200")
    count = "portal_http_request_duration_seconds_count"
    assert _value(after, count, **key) - _value(before, count, **key) == 3
    text = client.get("/metrics").get_data(as_text=True)
    assert "13812345678" not in text and "/login" not in text


def test_a_breach_the_sweep_fires_is_counted_with_its_lateness(app, client, factory, db_session):
    factory.staff("supervisor")
    sr = factory.request(factory.customer(), now=utcnow() - timedelta(hours=5))
    sr.priority, sr.status = "P2", "pending_assignment"
    sr.response_due_at, sr.first_response_at = None, sr.submitted_at
    sr.resolution_due_at = utcnow() - timedelta(minutes=3)
    db_session.commit()
    before = _samples(client)
    assert jobs_sla.sweep()["fired"] >= 1
    after = _samples(client)
    fam = dict(family="breach")
    assert _value(after, "portal_sla_events_total", **fam) - _value(
        before, "portal_sla_events_total", **fam
    ) == 1
    late = "portal_sla_event_lateness_seconds_sum"
    assert _value(after, late, **fam) - _value(before, late, **fam) >= 170  # three minutes late
    assert _value(after, "portal_sla_sweep_duration_seconds_count") > _value(
        before, "portal_sla_sweep_duration_seconds_count"
    )


def test_open_requests_come_from_the_sweeps_count_and_a_scrape_reads_no_database(
    app, client, factory, db_session, count_queries
):
    contact = factory.customer()
    for priority in ("P1", "P2", "P2"):
        sr = factory.request(contact)
        sr.priority = priority
    db_session.commit()
    assert not [k for k in _samples(client) if k[0] == "portal_open_requests"]  # not counted yet

    jobs_sla.sweep()
    with count_queries() as statements:
        samples = _samples(client)
    assert statements == []
    status = sr.status
    assert _value(samples, "portal_open_requests", status=status, priority="P2") == 2
    assert _value(samples, "portal_open_requests", status=status, priority="P1") == 1
    assert _value(samples, "portal_sla_sweep_lag_seconds") >= 0
    assert _value(samples, "portal_redis_up") == 1
    assert ("portal_rq_queue_depth", (("queue", "default"),)) in samples


def test_outbox_attempts_are_counted_by_outcome(app, client, db_session):
    row = EmailOutbox(to_address="someone@example.com", subject="s", body_text="b")
    db_session.add(row)
    db_session.commit()
    before = _samples(client)
    assert jobs_sla.send_mail(row.id) == "sent"  # no MAIL_SERVER: to the log, which is a send
    assert jobs_sla.send_mail(row.id) == "skipped"  # already sent: not an attempt
    after = _samples(client)
    name = "portal_outbox_attempts_total"
    assert _value(after, name, outcome="sent") - _value(before, name, outcome="sent") == 1
