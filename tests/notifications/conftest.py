"""A real SMTP server (aiosmtpd) and the mail settings for the notification mail tests."""

from __future__ import annotations

import pytest

from tests.mail_server import MailServer

BASE_URL = "https://desk.example"


@pytest.fixture
def smtp():
    with MailServer() as server:
        yield server


@pytest.fixture
def mail_config(app, smtp):
    """Mail goes to the test's SMTP server; links are built on BASE_URL."""
    keys = ("MAIL_SERVER", "MAIL_PORT", "PORTAL_BASE_URL")
    saved = {k: app.config.get(k) for k in keys}
    app.config.update(MAIL_SERVER=smtp.host, MAIL_PORT=smtp.port, PORTAL_BASE_URL=BASE_URL)
    yield app.config
    app.config.update(saved)
