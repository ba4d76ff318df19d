"""The group bot tests: a local webhook receiver, plain http allowed to it, links on BASE_URL."""

from __future__ import annotations

import pytest

from portal.services import group_bots
from portal.services.audit import SYSTEM
from tests.bots.receiver import Receiver

BASE_URL = "https://desk.example"


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def bot_config(app, monkeypatch):
    monkeypatch.setitem(app.config, "GROUP_BOT_ALLOW_HTTP", True)
    monkeypatch.setitem(app.config, "PORTAL_BASE_URL", BASE_URL)
    monkeypatch.setitem(app.config, "MAIL_RETRY_BASE_SECONDS", 30)
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 3)
    return app.config


@pytest.fixture
def make_bot(db_session, receiver, bot_config):
    def make(
        platform="wecom",
        *,
        secret=None,
        events=("sla_warning", "sla_escalation", "new_p1"),
        language="en",
        name=None,
        path=None,
    ):
        from portal.models import utcnow

        return group_bots.create(
            db_session,
            SYSTEM,
            utcnow(),
            group_bots.BotInput(
                name=name or f"{platform} bot {len(group_bots.all_bots(db_session)) + 1}",
                platform=platform,
                webhook_url=receiver.url + (path or f"/{platform}/hook?key=k-{platform}"),
                secret=secret,
                events=list(events),
                language=language,
            ),
        )

    return make
