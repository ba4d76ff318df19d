"""Prometheus metrics (README, "Metrics"), with prometheus-client.

Counted where they happen, in whichever process: request latency (the web), logins (the web),
SLA warnings and escalations with their lateness, outbox attempts and the sweep's duration (the
workers). Under gunicorn the web's workers share ``PROMETHEUS_MULTIPROC_DIR``
(deploy/gunicorn.conf.py sets it), so that one scrape sees them all; a worker serves its own on
``METRICS_PORT``.

Read at scrape time, from Redis only (never a count of the database per scrape): the depth and
the failed jobs of each RQ queue, the age of the last sweep, and the open requests by status and
priority, which the sweep counts at most once a minute and leaves in Redis.

The path ``/metrics`` answers only to the addresses in ``METRICS_ALLOW`` (loopback by default)
and is a 404 for everyone else.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

OPEN_COUNTS_KEY = "portal:metrics:open_requests"
OPEN_COUNTS_EVERY = 60  # seconds between two counts of the open requests (by the sweep)

REQUEST_SECONDS = Histogram(
    "portal_http_request_duration_seconds",
    "Time to answer an HTTP request, by endpoint and status",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LOGINS = Counter("portal_logins_total", "Login attempts, by side and outcome", ["side", "outcome"])
SLA_EVENTS = Counter(
    "portal_sla_events_total", "SLA warnings, breaches and escalations recorded", ["family"]
)
SLA_LATENESS = Histogram(
    "portal_sla_event_lateness_seconds",
    "How long after its instant an SLA event was recorded",
    ["family"],
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900),
)
OUTBOX = Counter(
    "portal_outbox_attempts_total", "Outbox attempts (mail and group bots), by outcome", ["outcome"]
)
SWEEP_SECONDS = Histogram(
    "portal_sla_sweep_duration_seconds",
    "How long one SLA sweep took",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TIMED_FAMILIES = ("warn", "breach", "escalation")


def endpoint_label(endpoint: str | None) -> str:
    """A bounded label: the Flask endpoint, never the path (which holds numbers and search)."""
    return endpoint or "unmatched"


def record_sla_event(family: str, late_seconds: float) -> None:
    if family in TIMED_FAMILIES:
        SLA_EVENTS.labels(family).inc()
        SLA_LATENESS.labels(family).observe(max(0.0, late_seconds))


# --- the open requests, counted by the sweep -------------------------------------------------


def store_open_counts(conn, rows: list[tuple[str, str, int]], now: float | None = None) -> None:
    payload = {"at": now or time.time(), "rows": [[s, p, n] for s, p, n in rows]}
    conn.set(OPEN_COUNTS_KEY, json.dumps(payload), ex=OPEN_COUNTS_EVERY * 10)


def open_counts_due(conn, now: float | None = None) -> bool:
    raw = conn.get(OPEN_COUNTS_KEY)
    if raw is None:
        return True
    return (now or time.time()) - float(json.loads(raw)["at"]) >= OPEN_COUNTS_EVERY


# --- read at scrape time ----------------------------------------------------------------------


class RedisCollector:
    """Queue depths, failed jobs, the sweep's lag and the cached open-request counts."""

    def __init__(self, conn, queues: list[str]) -> None:
        self.conn = conn
        self.queues = queues

    def collect(self):
        from redis.exceptions import RedisError
        from rq import Queue

        depth = GaugeMetricFamily("portal_rq_queue_depth", "Jobs waiting, per queue", labels=["queue"])
        failed = GaugeMetricFamily(
            "portal_rq_failed_jobs", "Jobs in the failed registry, per queue", labels=["queue"]
        )
        lag = GaugeMetricFamily("portal_sla_sweep_lag_seconds", "Seconds since the last SLA sweep")
        open_requests = GaugeMetricFamily(
            "portal_open_requests",
            "Open requests by status and priority (counted by the sweep, at most once a minute)",
            labels=["status", "priority"],
        )
        up = GaugeMetricFamily("portal_redis_up", "Whether Redis answered this scrape")
        try:
            for name in self.queues:
                q = Queue(name, connection=self.conn)
                depth.add_metric([name], q.count)
                failed.add_metric([name], q.failed_job_registry.count)
            from portal.services.timers import LAST_SWEEP_KEY

            last = self.conn.get(LAST_SWEEP_KEY)
            if last:
                when = datetime.fromisoformat(last.decode() if isinstance(last, bytes) else last)
                lag.add_metric([], (datetime.now(UTC) - when).total_seconds())
            raw = self.conn.get(OPEN_COUNTS_KEY)
            if raw:
                for status, priority, n in json.loads(raw)["rows"]:
                    open_requests.add_metric([status, priority or "none"], n)
            up.add_metric([], 1)
        except RedisError:
            up.add_metric([], 0)
        yield from (depth, failed, lag, open_requests, up)


def exposition(conn, queues: list[str]) -> tuple[bytes, str]:
    """What one scrape reads: every process's counters (multiprocess mode) or this process's,
    then the Redis-backed values."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shared = CollectorRegistry()
        multiprocess.MultiProcessCollector(shared)
        body = generate_latest(shared)
    else:
        body = generate_latest(REGISTRY)
    if conn is not None:
        extra = CollectorRegistry()
        extra.register(RedisCollector(conn, queues))
        body += generate_latest(extra)
    return body, CONTENT_TYPE_LATEST


def allowed(remote_addr: str | None, allow: str) -> bool:
    """``METRICS_ALLOW``: comma-separated addresses or networks; empty closes the path."""
    import ipaddress

    if not remote_addr:
        return False
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    for item in (part.strip() for part in (allow or "").split(",")):
        if not item:
            continue
        try:
            if address in ipaddress.ip_network(item, strict=False):
                return True
        except ValueError:
            continue
    return False
