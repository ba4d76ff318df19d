"""Error pages in the user's language with a reference id; details go to the (masked) log."""

from __future__ import annotations

import logging

from flask import Flask, g, render_template
from flask_wtf.csrf import CSRFError

from portal.web.input_guard import ControlCharacters

log = logging.getLogger("portal.errors")


def init_app(app: Flask) -> None:
    def _page(code: int):
        return render_template(f"errors/{code}.html", code=code, ref=g.get("request_id")), code

    for code in (400, 403, 404, 405, 413):
        app.register_error_handler(code, lambda e, c=code: _page(c))

    @app.errorhandler(429)
    def _too_many(e):
        # Flask-Limiter's refusal (portal/limits.py): the page says how long to wait
        limit = getattr(e, "limit", None)
        seconds = int(limit.limit.get_expiry()) if limit is not None else 60
        minutes = max(1, -(-seconds // 60))
        page = render_template(
            "errors/429.html", code=429, ref=g.get("request_id"), minutes=minutes
        )
        return page, 429, {"Retry-After": str(seconds)}

    @app.errorhandler(CSRFError)
    def _csrf(_e):
        return render_template("errors/400.html", code=400, ref=g.get("request_id"), csrf=True), 400

    @app.errorhandler(ControlCharacters)
    def _control_characters(e: ControlCharacters):
        return (
            render_template(
                "errors/400.html",
                code=400,
                ref=g.get("request_id"),
                control_characters=e,
            ),
            400,
        )

    @app.errorhandler(500)
    def _server_error(e):
        log.error(
            "unhandled error ref=%s: %s",
            g.get("request_id"),
            type(getattr(e, "original_exception", e)).__name__,
        )
        return _page(500)
