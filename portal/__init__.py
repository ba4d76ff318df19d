"""The service desk portal: create_app() is the only way to make the app."""

from __future__ import annotations

import logging
import re
import secrets
import time

from flask import Flask, g, request, session
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import metrics, security
from portal.db import db
from portal.extensions import babel, csrf, htmx, login_manager

log = logging.getLogger(__name__)
# an X-Request-Id from a proxy is taken as it is when it is a plain token (nginx's $request_id,
# a UUID); anything else is replaced by the portal's own
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,40}")


def select_locale() -> str:
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    # the browser's choice: any Chinese goes to zh_CN, anything else we know, else the default
    for lang, _quality in request.accept_languages:
        code = lang.replace("-", "_").lower()
        if code.startswith("zh"):
            return "zh_CN"
        if code.startswith("en"):
            return "en"
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    from portal.config import load_settings

    app.config.update(load_settings(app.instance_path))
    if config:
        app.config.update(config)

    # the first hook of every request: the CSRF check and the guards that run after it may end
    # the request with an error page, which quotes this id as its reference
    @app.before_request
    def _request_id() -> None:
        g.request_started = time.perf_counter()
        # a proxy's id is kept when it is a plain token: it goes into headers and log lines
        given = request.headers.get("X-Request-Id", "")[:40]
        g.request_id = given if _REQUEST_ID.fullmatch(given) else new_request_id()

    if app.config.get("REDIS_URL") and not app.config.get("PORTAL_BASE_URL") and not app.testing:
        # production (a shared Redis): the links in mails would point at the embedded default
        log.warning(
            "PORTAL_BASE_URL is not set: links in invitation and password mails will point at "
            "http://127.0.0.1:5000; set it to the portal's public address (README: Production)"
        )
    security.configure(app.config["PASSWORD_HASH"])
    if app.config.get("PROXY_FIX_X_FOR"):
        # the client's address (and scheme) from X-Forwarded-For only through the configured
        # number of trusted proxies; a client's own header is never believed beyond them
        hops = int(app.config["PROXY_FIX_X_FOR"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    db.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    # Babel reads zh_CN as zh_Hans_CN: the Chinese catalogue lives in translations/zh_Hans_CN
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    from portal import limits

    limits.init_app(app)

    from portal.web import auth, common, errors, filters

    auth.init_app(app)
    errors.init_app(app)
    # every log record loses contact values and PII before a handler sees it
    from portal.logging import install as install_log_masking

    install_log_masking(app)
    filters.init_app(app)

    from portal.customer import bp as customer_bp
    from portal.staff import bp as staff_bp
    from portal.web import converters, headers

    converters.init_app(app)
    headers.init_app(app)
    app.register_blueprint(common.bp)
    app.register_blueprint(customer_bp)
    app.register_blueprint(staff_bp, url_prefix="/staff")

    # control characters in the address, a form or a file name stop here (after the request id:
    # the 400 page quotes it)
    from portal.web import input_guard

    input_guard.init_app(app)

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers["X-Request-Id"] = g.get("request_id", "")
        started = g.get("request_started")
        if started is not None:
            metrics.REQUEST_SECONDS.labels(
                metrics.endpoint_label(request.url_rule.endpoint if request.url_rule else None),
                request.method,
                str(response.status_code),
            ).observe(time.perf_counter() - started)
        return response

    @app.context_processor
    def _globals():
        return {"current_locale": str(get_locale() or ""), "request_id": g.get("request_id")}

    from portal.cli import register_commands

    register_commands(app)
    return app


# letters only: a hex id such as "0362694864dfee43" reads as a landline number to the masking of
# the logs (portal/domain/pii.py) and would be masked out of its own log line
_REQUEST_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz"


def new_request_id() -> str:
    """A random reference for one request (16 letters: about 73 bits), quoted on error pages."""
    return "".join(secrets.choice(_REQUEST_ID_ALPHABET) for _ in range(16))
