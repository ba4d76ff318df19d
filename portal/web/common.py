"""Routes that belong to neither side: the language switch, the health and readiness checks."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, redirect, request, session, url_for
from flask_login import current_user

from portal.db import db
from portal.web.rendering import redirect_whole_page

bp = Blueprint("common", __name__)


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site paths: never an open redirect."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    # browsers read "/\evil.example" as "//evil.example"; control characters are never a path
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return fallback
    return target


@bp.post("/language")
def set_language():
    code = request.form.get("locale", "")
    if code in current_app.config["LANGUAGES"]:
        session["locale"] = code
        if current_user.is_authenticated:
            current_user.account.locale = code
            db.session.commit()
    # the whole page again, in the new language from its <html lang> on
    return redirect_whole_page(safe_next(request.form.get("next"), url_for("customer.index")))


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico wherever a page does not name its icon (downloads, errors)."""
    return redirect(url_for("static", filename="img/favicon.svg"), code=301)


@bp.get("/healthz")
def health():
    """Liveness: the process is up and serves requests; nothing else is checked (the
    database, Redis and the background work are /readyz's)."""
    return jsonify(status="ok")


@bp.get("/readyz")
def ready():
    """Readiness for a load balancer: each check with its own status, 503 when one fails
    (portal/services/readiness.py). No address, secret or personal data in it."""
    from datetime import UTC, datetime

    from portal.queue import redis_conn
    from portal.services.readiness import readiness

    conn = redis_conn() if current_app.config.get("REDIS_URL") else None
    result = readiness(db.session, conn, current_app.config, datetime.now(UTC))
    response = jsonify(result.as_dict())
    response.status_code = 200 if result.ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/metrics")
def metrics_page():
    """Prometheus metrics (portal/metrics.py) for the addresses in METRICS_ALLOW; a 404 for
    everyone else, as if there were no such page."""
    from flask import Response, abort

    from portal import metrics
    from portal.queue import redis_conn

    if not metrics.allowed(request.remote_addr, current_app.config.get("METRICS_ALLOW", "")):
        abort(404)
    conn = redis_conn() if current_app.config.get("REDIS_URL") else None
    body, content_type = metrics.exposition(conn, list(current_app.config["RQ_QUEUES"]))
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


@bp.get("/healthz/sla")
def health_sla():
    """When the SLA sweep last finished (ISO, UTC); null when it has not run since Redis started
    or was flushed. 503 when Redis does not answer."""
    from redis.exceptions import RedisError

    from portal.queue import redis_conn
    from portal.services.timers import last_sweep

    if not current_app.config.get("REDIS_URL"):
        return jsonify(redis="not configured", sla_last_sweep=None), 503
    try:
        return jsonify(redis="ok", sla_last_sweep=last_sweep(redis_conn()))
    except RedisError:
        return jsonify(redis="unavailable", sla_last_sweep=None), 503
