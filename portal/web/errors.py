"""Error pages in the user's language with a reference id; details go to the (masked) log."""

from __future__ import annotations

import logging

from flask import Flask, g, render_template
from flask_babel import refresh as refresh_locale
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError

from portal.web.input_guard import ControlCharacters

log = logging.getLogger("portal.errors")
# how long a client is asked to wait before trying again when the database does not answer
RETRY_AFTER_SECONDS = 5


def _unavailable(e: DBAPIError) -> bool:
    """The database did not answer, as opposed to a statement being wrong (a bug: a 500)."""
    if e.connection_invalidated:
        return True
    if not isinstance(e, OperationalError):
        return False
    import sqlite3

    if isinstance(e.orig, sqlite3.OperationalError):  # SQLite says both with this one class
        words = str(e.orig).lower()
        return any(w in words for w in ("locked", "unable to open", "disk i/o", "busy"))
    return True  # psycopg's OperationalError: the connection failed or was closed


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

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def _database_unavailable(e: DBAPIError):
        """The database did not answer (restarting, unreachable, locked too long): nothing of
        this request was saved, and trying again in a moment is the right thing to do. Any other
        database error is a bug: the 500 page."""
        if not _unavailable(e):
            raise e
        from portal.db import db

        try:
            db.session.rollback()
        except DBAPIError:
            pass
        log.warning("database unavailable ref=%s: %s", g.get("request_id"), type(e.orig).__name__)
        # rendering must not load the account again (Flask-Login's template context would)
        from portal.extensions import login_manager

        g._login_user = login_manager.anonymous_user()
        refresh_locale()
        page = render_template("errors/503.html", code=503, ref=g.get("request_id"))
        return page, 503, {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}

    @app.errorhandler(500)
    def _server_error(e):
        log.error(
            "unhandled error ref=%s: %s",
            g.get("request_id"),
            type(getattr(e, "original_exception", e)).__name__,
        )
        return _page(500)
