"""RQ jobs. Each takes ids, opens its own app context, re-reads the database and is safe to run
twice. The app is created lazily, once per worker process."""

from __future__ import annotations

from flask import Flask

_app: Flask | None = None


def _get_app() -> Flask:
    global _app
    from flask import current_app

    try:
        return current_app._get_current_object()
    except RuntimeError:
        pass
    if _app is None:
        from portal import create_app

        _app = create_app()
    return _app


def preload_app() -> Flask:
    """Build the jobs' app in a worker's parent process, so the work horses it forks share it."""
    global _app
    if _app is None:
        from portal import create_app

        _app = create_app()
    return _app


def request_submitted(request_id: int) -> int:
    """Tell every supervisor that a request awaits classification. Returns how many were told."""
    app = _get_app()
    with app.app_context():
        from portal.db import db
        from portal.models import ServiceRequest
        from portal.services.requests import tell_supervisors

        session = db.session
        sr = session.get(ServiceRequest, request_id)
        if sr is None:
            return 0
        told = tell_supervisors(session, sr)
        session.commit()
        return told
