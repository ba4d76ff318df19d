"""Masked logs (issue 5, done-when 2) and error pages that show a reference, not data."""

from __future__ import annotations

import json
import logging

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from portal import create_app, log_format
from portal.db import db, make_engine
from portal.models import utcnow
from portal.services import lifecycle
from portal.services.audit import Actor
from tests.conftest import CHEAP_HASH
from tests.privacy.conftest import EMAIL, NAME, PHONE, RESIDENT_ID, SECRETS, build_scene
from tests.privacy.test_crawl import Values, crawl


def _all_log_text(records) -> str:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(r) for r in records)


def test_a_whole_lifecycle_leaves_no_contact_value_or_pii_in_the_logs(
    app, db_session, factory, make_client, redis_url, caplog
):
    caplog.set_level(logging.DEBUG)
    scene = build_scene(factory, db_session, app)
    sr = scene.sr
    db_session.commit()  # the after-commit jobs are enqueued now
    SimpleWorker(
        [Queue("default", connection=Redis.from_url(redis_url))],
        connection=Redis.from_url(redis_url),
    ).work(burst=True)

    now = utcnow()
    handler = Actor(scene.handler.id)
    customer = Actor(scene.contact.id)
    steps = [
        (scene.handler, handler, "ask_customer"),
        (scene.contact, customer, "answer_customer"),
        (scene.handler, handler, "deliver"),
        (scene.contact, customer, "accept_pass"),
        (scene.contact, customer, "give_feedback"),
    ]
    for account, who, action in steps:
        caps = lifecycle.capacities(db_session, sr, account)
        lifecycle.apply(db_session, who, caps, sr, action, now, {"note": f"{action} {PHONE}"})
    db_session.commit()
    assert sr.status == "closed"

    # every page of both sides, as the people on the request and off it
    for account in (scene.outsider, scene.handler):
        staff = make_client()
        staff.login(account)
        crawl(staff, app, Values(scene, db_session))
    customer_client = make_client()
    customer_client.login(scene.contact)
    assert customer_client.get(f"/requests/{sr.number}").status_code == 200

    assert len(caplog.records) > 5
    walked = len(caplog.records)
    leaks = [s for s in SECRETS if s in _all_log_text(caplog.records)]
    assert leaks == [], f"raw personal data in the logs: {leaks}"
    # as production writes them: one JSON object per line, none with a contact value
    as_json = [log_format.MaskedJsonFormatter().format(r) for r in caplog.records]
    assert all("\n" not in line and json.loads(line)["message"] is not None for line in as_json)
    assert [s for s in SECRETS if any(s in line for line in as_json)] == []

    # and code that logs a contact value by mistake, outside any request: the patterns find
    # phones, e-mails and ID numbers (a name only where the presenters handled it, above)
    logging.getLogger("portal.somewhere").warning(
        "calling %s at %s (%s), id %s", NAME, PHONE, EMAIL, RESIDENT_ID
    )
    try:
        raise ValueError(f"no account for {EMAIL} / {PHONE}")
    except ValueError:
        logging.getLogger("portal.somewhere").exception("lookup failed")

    text = _all_log_text(caplog.records)
    mistakes = _all_log_text(caplog.records[walked:])
    leaks = [s for s in SECRETS if s != NAME and s in mistakes]
    assert leaks == [], f"raw personal data in the logs: {leaks}"
    assert "****5678" in text and "****002X" in text  # masked, not dropped
    assert "lookup failed" in text and "ValueError" in text


def test_contact_names_the_presenters_handled_are_masked_in_that_requests_logs(app):
    from portal.logging import forget_sensitive
    from portal.presentation import presenters

    with app.test_request_context("/"):
        presenters.contact_view(NAME, PHONE, EMAIL, full=False)
        record = logging.getLogger("portal.x").makeRecord(
            "portal.x", logging.INFO, __file__, 1, "contact %s", (NAME,), None
        )
        assert record.getMessage() == f"contact {NAME[0]}*"
        forget_sensitive()


def test_percent_and_plus_encoded_contact_data_in_an_access_log_line_is_masked(app, caplog):
    """The queue search typed an e-mail, a phone and a name: the access log line carries them
    URL-encoded (li.ming%40…, +, %E6…), and the masking catches those forms too."""
    from urllib.parse import quote, quote_plus

    from portal.logging import forget_sensitive
    from portal.presentation import presenters

    caplog.set_level(logging.INFO)
    access = logging.getLogger("gunicorn.access")
    with app.test_request_context("/"):
        presenters.contact_view(NAME, PHONE, EMAIL, full=False)  # the page showed this contact
        for query in (quote(EMAIL), quote_plus(f"{NAME} {PHONE}"), quote_plus(f"+86 {PHONE}")):
            access.info('127.0.0.1 - - "GET /staff/requests?q=%s&view=all HTTP/1.1" 200', query)
        forget_sensitive()
    lines = [r.getMessage() for r in caplog.records if r.name == "gunicorn.access"]
    assert len(lines) == 3
    text = "\n".join(lines)
    for secret in (EMAIL, PHONE, NAME, quote(EMAIL), quote(NAME), quote_plus(NAME)):
        assert secret not in text, f"{secret!r} in {text!r}"
    assert "****" + PHONE[-4:] in text and EMAIL[0] + "***@" in text
    assert "GET /staff/requests?q=" in text and "HTTP/1.1" in text  # the line itself is kept
    # a query with no contact data in it stays as it was, encoded
    access.info('"GET /staff/requests?q=%s HTTP/1.1" 200', quote_plus("VPN 断开 50%"))
    assert caplog.records[-1].getMessage().endswith(f"q={quote_plus('VPN 断开 50%')} HTTP/1.1\" 200")


def test_a_server_error_shows_a_reference_and_logs_no_data(database_url, redis_url, caplog):
    broken = create_app(
        {
            "TESTING": False,
            "PROPAGATE_EXCEPTIONS": False,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "x",
            "PASSWORD_HASH": CHEAP_HASH,
        }
    )

    @broken.get("/boom")
    def boom():
        raise RuntimeError(f"contact {PHONE} {EMAIL} id {RESIDENT_ID}")

    caplog.set_level(logging.INFO)
    resp = broken.test_client().get("/boom", headers={"Accept-Language": "en"})
    assert resp.status_code == 500
    body = resp.get_data(as_text=True)
    ref = resp.headers["X-Request-Id"]
    assert ref and ref in body
    for secret in SECRETS:
        assert secret not in body
    text = _all_log_text(caplog.records)
    assert "RuntimeError" in text and ref in text
    assert [s for s in SECRETS if s in text] == []


# a statement that fails on every database, with the contact's name as its parameter
FAILING = text("SELECT id FROM accounts WHERE no_such_column = :name")


def test_a_failing_statement_keeps_its_parameters_out_of_the_error_and_the_log(
    database_url, redis_url, caplog
):
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn, pytest.raises(DBAPIError) as failed:
            conn.execute(FAILING, {"name": NAME})
    finally:
        engine.dispose()
    assert "no_such_column" in str(failed.value)  # the statement is there, its values are not
    assert NAME not in str(failed.value)

    broken = create_app(
        {
            "TESTING": False,
            "PROPAGATE_EXCEPTIONS": False,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "x",
            "PASSWORD_HASH": CHEAP_HASH,
        }
    )

    @broken.get("/lookup")
    def lookup():
        db.session.execute(FAILING, {"name": NAME})

    caplog.set_level(logging.INFO)
    resp = broken.test_client().get("/lookup", headers={"Accept-Language": "en"})
    assert resp.status_code == 500
    logged = _all_log_text(caplog.records)
    assert "no_such_column" in logged
    assert NAME not in logged and NAME not in resp.get_data(as_text=True)


def test_request_references_never_read_as_contact_data():
    """A reference is quoted on the error page and must survive the masking of its log line."""
    from portal import new_request_id
    from portal.domain import pii

    for _ in range(2000):
        ref = new_request_id()
        assert pii.redact(ref) == ref
