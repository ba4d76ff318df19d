"""The WSGI entry point for gunicorn: `gunicorn wsgi:app`. The portal's log lines go to
stderr once each, JSON unless LOG_FORMAT=text (portal/log_format.py)."""

from portal import create_app
from portal.log_format import configure

configure()
app = create_app()
