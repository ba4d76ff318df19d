"""Log lines (portal/log_format.py): each event written once, JSON in production and text on a
terminal, carrying the request id, the account id and the job id, masked."""

from __future__ import annotations

import io
import json
import logging

import pytest
from redis import Redis
from rq import Queue, SimpleWorker

from portal import log_format
from tests.privacy.conftest import EMAIL, PHONE


@pytest.fixture
def lines():
    """The root logger's one portal handler, writing into a buffer; restored afterwards."""
    root = logging.getLogger()
    before_handlers, before_level = list(root.handlers), root.level
    buffer = io.StringIO()
    log_format.configure(logging.INFO, stream=buffer, json=True)
    yield lambda: [line for line in buffer.getvalue().splitlines() if line]
    for handler in list(root.handlers):
        if handler not in before_handlers:
            root.removeHandler(handler)
    root.setLevel(before_level)


def test_an_event_is_written_once_even_with_the_apps_logger(app, lines):
    """Flask's own handler on the app's logger (``portal``) used to write each line a second
    time in the embedded runtime."""
    from flask.logging import default_handler

    app.logger.addHandler(default_handler)  # what Flask does when the app logger is first used
    log_format.configure(logging.INFO, stream=None, json=True)  # configure takes it off again
    assert default_handler not in logging.getLogger("portal").handlers
    root_ours = [h for h in logging.getLogger().handlers if getattr(h, "_portal_handler", False)]
    assert len(root_ours) == 1  # configuring twice replaces, never adds


def test_a_json_line_per_event_with_request_and_account_ids(app, factory, db_session, lines):
    from flask_login import login_user

    from portal.web.auth import PortalUser

    agent = factory.staff("agent")
    db_session.commit()
    with app.test_request_context("/staff/", headers={"X-Request-Id": "req-probe-1"}):
        app.preprocess_request()  # the portal's before_request: the request id among them
        login_user(PortalUser(agent, "probe-token"))
        logging.getLogger("portal.probe").info("probe for %s at %s\nsecond line", EMAIL, PHONE)
    probe = [json.loads(line) for line in lines() if "probe for" in line]
    assert len(probe) == 1  # one line, even for a message with a newline in it
    event = probe[0]
    assert event["request_id"] == "req-probe-1"
    assert event["account_id"] == agent.id
    assert event["level"] == "INFO" and event["logger"] == "portal.probe"
    assert event["timestamp"]
    assert EMAIL not in event["message"] and PHONE not in event["message"]
    assert "****" + PHONE[-4:] in event["message"]


def test_extra_fields_are_masked_too(lines):
    logging.getLogger("portal.x").warning("lookup", extra={"who": f"{EMAIL} / {PHONE}"})
    (event,) = [json.loads(line) for line in lines() if '"lookup"' in line]
    assert EMAIL not in event["who"] and PHONE not in event["who"]
    assert event["job_id"] is None and event["request_id"] is None


def log_from_a_job(text: str) -> None:
    """An RQ job by dotted name (tests.test_log_lines.log_from_a_job)."""
    logging.getLogger("portal.jobs.probe").info("job says %s", text)


def test_a_job_line_carries_the_job_id(redis_url, lines):
    conn = Redis.from_url(redis_url)
    job = Queue("default", connection=conn).enqueue(
        "tests.test_log_lines.log_from_a_job", "hello", job_id="log-probe-job"
    )
    SimpleWorker([Queue("default", connection=conn)], connection=conn).work(burst=True)
    assert job.get_status(refresh=True) == "finished"
    (event,) = [json.loads(line) for line in lines() if "job says hello" in line]
    assert event["job_id"] == "log-probe-job"


def test_text_on_a_terminal_json_elsewhere(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("LOG_FORMAT", raising=False)
    assert log_format.wants_json(Terminal()) is False
    assert log_format.wants_json(io.StringIO()) is True
    monkeypatch.setenv("LOG_FORMAT", "text")
    assert log_format.wants_json(io.StringIO()) is False
    monkeypatch.setenv("LOG_FORMAT", "json")
    assert log_format.wants_json(Terminal()) is True

    monkeypatch.delenv("LOG_FORMAT")
    out = Terminal()
    handler = log_format.handler(out)
    record = logging.getLogger("portal.t").makeRecord(
        "portal.t", logging.INFO, __file__, 1, "plain %s", ("words",), None
    )
    handler.handle(record)
    assert out.getvalue().rstrip().endswith("INFO portal.t: plain words")
