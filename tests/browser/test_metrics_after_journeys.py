"""After the journeys (this file runs last, tests/browser/conftest.py): the web's /metrics,
counted across gunicorn's two workers, and the worker's own metrics port show what the desk did
(portal/metrics.py)."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def _scrape(url: str) -> dict[tuple, float]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        text = resp.read().decode()
    out: dict[tuple, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _total(samples, name: str, **labels) -> float:
    want = set(labels.items())
    return sum(v for (n, lab), v in samples.items() if n == name and want <= set(lab))


def test_the_web_and_the_worker_show_what_the_journeys_did(visit, live_desk):
    # one login of this test's own, so that the counts below do not rest on the other files
    supervisor = visit("supervisor-metrics")
    supervisor.login("supervisor@desk.example.com", staff=True)
    supervisor.goto("/staff/queue", "queue")

    web = _scrape(f"{live_desk.base_url}/metrics")
    assert _total(web, "portal_logins_total", side="staff", outcome="ok") >= 1
    assert _total(web, "portal_http_request_duration_seconds_count", endpoint="staff.queue") >= 1
    assert _total(web, "portal_http_request_duration_seconds_count", status="200") >= 10
    assert _total(web, "portal_open_requests") >= 1  # the demo's open requests, as the sweep counted
    assert ("portal_rq_queue_depth", (("queue", "default"),)) in web
    assert _total(web, "portal_redis_up") == 1
    assert 0 <= _total(web, "portal_sla_sweep_lag_seconds") < 60

    worker = _scrape(f"http://127.0.0.1:{live_desk.env['METRICS_PORT']}/metrics")
    assert _total(worker, "portal_sla_sweep_duration_seconds_count") >= 1
    assert _total(worker, "portal_outbox_attempts_total", outcome="sent") >= 1  # the demo's mail
