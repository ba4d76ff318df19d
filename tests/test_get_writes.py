"""No GET writes to the database (bench/README.md). Every GET route of the URL map — the customer's,
the staff's and the common ones, as a page and as an htmx fragment — is fetched by the people
who see the most of it (the contact, the handler, a staff member with every role) about
requests in each state of their life, while an engine listener records every statement: none
may insert, update or delete, not even inside a savepoint that is rolled back afterwards.

The same crawl runs on a database whose default SLA policies and calendar were deleted (a
database filled by bench/seed_bulk.py before it had them): the pages still answer, and still
write nothing. Redis (cached counts) is not the database and may be written.

One known exception, left as it is for now: the XLSX export of a form is a GET link that
records its audit event ("every export is audited"). Its GETs may insert that one audit row and
nothing else.
"""

from __future__ import annotations

import dataclasses
import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import delete, event, select, update

from portal.models import (
    Calendar,
    CalendarOverride,
    Organisation,
    ServiceRequest,
    SlaPolicy,
    utcnow,
)
from tests.delivery.helpers import criteria_ids, deliver_form, in_progress, latest_delivery
from tests.privacy.conftest import Scene, build_scene
from tests.privacy.test_crawl import Values

# the verbs that change the database (DML, and DDL for good measure)
_WRITE = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|MERGE|REPLACE|UPSERT|CREATE|DROP|ALTER|TRUNCATE)\b", re.I
)
_CTE_WRITE = re.compile(r"\)\s*(INSERT|UPDATE|DELETE|MERGE)\b", re.I)


def is_write(statement: str) -> bool:
    text = re.sub(r"^\s*(/\*.*?\*/\s*|--[^\n]*\n\s*)*", "", statement, flags=re.S)
    if text[:4].upper() == "WITH":
        return bool(_CTE_WRITE.search(text))
    return bool(_WRITE.match(text))


def test_the_verb_check_sees_writes_and_only_writes():
    assert is_write("INSERT INTO calendars (name) VALUES (?)")
    assert is_write("  update sla_policies SET warn_percent=1")
    assert is_write("/* x */ DELETE FROM notifications")
    assert is_write("WITH c AS (SELECT 1) INSERT INTO t SELECT * FROM c")
    assert not is_write("SELECT id FROM calendars ORDER BY id LIMIT 1")
    assert not is_write("SELECT number FROM service_requests FOR UPDATE")
    assert not is_write("WITH c AS (SELECT 1) SELECT * FROM c")
    assert not is_write("SAVEPOINT sa_savepoint_1")
    assert not is_write("ROLLBACK TO SAVEPOINT sa_savepoint_1")


@contextmanager
def recorded_writes(engine):
    """The writing statements any connection of ``engine`` runs inside the block."""
    writes: list[str] = []

    def _before(conn, cursor, statement, parameters, context, executemany):
        if is_write(statement):
            writes.append(" ".join(statement.split())[:160])

    event.listen(engine, "before_cursor_execute", _before)
    try:
        yield writes
    finally:
        event.remove(engine, "before_cursor_execute", _before)


# --- the requests, one in each state --------------------------------------------------------


def _scores(prefix: str, **extra) -> dict:
    return {
        f"{prefix}-score_response": "4",
        f"{prefix}-score_effect": "3",
        f"{prefix}-score_attitude": "5",
        **extra,
    }


def requests_in_every_state(factory, db_session, make_client, scene: Scene) -> dict:
    """state → request of the scene's contact, worked by the scene's handler (through the
    pages where a page does it)."""
    handler, contact = make_client(), make_client()
    handler.login(scene.handler)
    contact.login(scene.contact)
    boss = make_client()
    boss.login(scene.outsider)

    def worked(title: str) -> ServiceRequest:
        sr, _c, _h = in_progress(
            factory,
            db_session,
            org=scene.org,
            contact=scene.contact,
            handler=scene.handler,
            title=title,
        )
        return sr

    def delivered(title: str) -> ServiceRequest:
        sr = worked(title)
        resp = handler.post(f"/staff/requests/{sr.number}/deliver", data=deliver_form())
        assert resp.status_code in (200, 302), resp.get_data(as_text=True)[:500]
        return sr

    def accepted(title: str) -> ServiceRequest:
        sr = delivered(title)
        dlv = latest_delivery(db_session, sr)
        resp = contact.post(
            f"/requests/{sr.number}/acceptance",
            data={
                "accept-result": "pass",
                "accept-met": [str(i) for i in criteria_ids(db_session, dlv)],
                "accept-typed_name": "王小明",
                "accept-content_hash": dlv.content_hash,
            },
        )
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return sr

    submitted = factory.request(scene.contact, title="新提交的请求")
    awaiting = worked("等待客户提供账号")
    resp = handler.post(
        f"/staff/requests/{awaiting.number}/ask", data={"ask-what": "请提供测试环境的账号和密码"}
    )
    assert resp.status_code in (200, 302), resp.get_data(as_text=True)[:500]
    pending = delivered("待验收的请求")
    completed = accepted("已验收待评价的请求")
    closed = accepted("已评价关闭的请求")
    resp = boss.post(
        f"/staff/requests/{closed.number}/feedback",
        data=_scores(
            "feedback",
            **{
                "feedback-channel": "phone",
                "feedback-suggestions": "希望响应更快",
                "feedback-measure": "夜间值班增加一名工程师",
                "feedback-owner": str(scene.handler.id),
                "feedback-deadline": (utcnow() + timedelta(days=10)).date().isoformat(),
            },
        ),
    )
    assert resp.status_code in (200, 302), resp.get_data(as_text=True)[:500]
    cancelled = factory.request(scene.contact, title="客户撤回的请求")
    resp = contact.post(f"/requests/{cancelled.number}/cancel", data={"cancel-reason": "不需要了"})
    assert resp.status_code in (200, 302), resp.get_data(as_text=True)[:500]

    found = {
        "submitted": submitted,
        "in_progress": scene.sr,
        "awaiting_customer": awaiting,
        "pending_acceptance": pending,
        "completed": completed,
        "closed": closed,
        "cancelled": cancelled,
    }
    for state, sr in found.items():
        db_session.refresh(sr)
        assert sr.status == state, (state, sr.status)
    return found


# --- the crawl --------------------------------------------------------------------------------


def _get_rules(app, side: str):
    """The GET routes a ``side`` ("customer" or "staff") user can reach, and the common ones."""
    return sorted(
        (
            r
            for r in app.url_map.iter_rules()
            if "GET" in r.methods
            and r.endpoint != "static"
            and (r.endpoint.startswith(f"{side}.") or r.endpoint.startswith("common."))
        ),
        key=lambda r: r.rule,
    )


def _extra_urls(side: str, db_session) -> list[str]:
    """Query strings the pages offer (tabs, saved views, filters, years)."""
    if side == "customer":
        return [
            "/?status=pending_assignment",
            "/?status=in_progress",
            "/?status=completed",
            "/?status=closed",
            "/?status=cancelled",
            "/?scope=organisation",
            "/?q=13812345678",
            # the notifications page (tests/notifications_pages/): its filter and older pages
            "/notifications?show=unread",
            "/notifications?before=999999",
        ]
    from portal.services.queue import VIEWS

    urls = [f"/staff/queue?view={view}" for view in VIEWS]
    urls += [f"/staff/queue/counts?view={view}" for view in VIEWS]
    urls += [
        "/staff/queue?q=13812345678",
        "/staff/queue?view=all&sort=due&dir=desc",
        "/staff/measures?state=all",
        "/staff/notifications?show=unread",
        "/staff/notifications?show=all&before=999999",
        "/staff/measures?state=done",
        "/staff/admin/audit?action=feedback.given",
        "/staff/admin/calendars?year=2027",
        "/staff/requests/new?q=13812345678",
        "/staff/classification/suggestion?classify-impact_scope=core&classify-urgency=high",
    ]
    for cal_id in db_session.scalars(select(Calendar.id)):
        urls.append(f"/staff/admin/calendars?calendar={cal_id}&year=2026")
    return urls


# files and forms: the same answer with or without htmx
DOCUMENTS = {
    f"{side}.{name}" for side in ("customer", "staff") for name in ("download", "print_form")
} | {"customer.export_form", "staff.export_form"}
# the audited export (see above): the one write its GET may make
AUDITED_ON_GET = {"customer.export_form", "staff.export_form"}
_AUDIT_INSERT = re.compile(r"^INSERT INTO audit_events\b", re.I)
# readiness answers 503 when a check fails (no worker sweeps during the test): an answer, not an
# error; it must write nothing all the same (tests/test_readiness.py)
READINESS = {"common.ready"}


def crawl_for_writes(client, app, side: str, values_list: list[Values], db_session) -> dict:
    """Every GET route of ``side`` for every request, page and fragment: url → the writes it
    made (only the URLs that made some), and the URLs that answered 5xx."""
    engine = app.extensions["portal_db"].engine
    urls: list[tuple[str, str]] = []
    for values in values_list:
        for rule in _get_rules(app, side):
            urls.extend(
                (u, rule.endpoint) for u in values.urls(rule) if (u, rule.endpoint) not in urls
            )
    urls.extend((u, "") for u in _extra_urls(side, db_session))
    found: dict[str, list[str]] = {}
    answered = 0
    for url, endpoint in urls:
        variants = ({},) if endpoint in DOCUMENTS else ({}, {"HX-Request": "true"})
        for headers in variants:
            with recorded_writes(engine) as writes:
                resp = client.get(url, headers=headers)
            key = url + (" [htmx]" if headers else "")
            if endpoint in AUDITED_ON_GET and len(writes) == 1 and _AUDIT_INSERT.match(writes[0]):
                writes = []
            if resp.status_code >= 500 and not (
                endpoint in READINESS and resp.status_code == 503 and resp.is_json
            ):
                found[key] = [f"HTTP {resp.status_code}"]
            elif writes:
                found[key] = writes
            answered += resp.status_code == 200
    assert answered > len(urls) // 2, "the crawl did not reach the pages"
    return found


def delete_the_defaults(db_session) -> None:
    """What a database seeded by bench/seed_bulk.py looked like: requests, no default SLA
    policies, no calendar."""
    db_session.execute(update(ServiceRequest).values(sla_policy_version_id=None))
    db_session.execute(update(Organisation).values(calendar_id=None, sla_policy_id=None))
    db_session.execute(delete(SlaPolicy))
    db_session.execute(delete(CalendarOverride))
    db_session.execute(delete(Calendar))
    db_session.flush()
    db_session.expire_all()
    assert db_session.scalar(select(Calendar.id).limit(1)) is None


@pytest.mark.parametrize("defaults", ["present", "deleted"])
def test_no_get_writes_to_the_database(app, factory, db_session, make_client, defaults):
    scene = build_scene(factory, db_session, app)
    by_state = requests_in_every_state(factory, db_session, make_client, scene)
    db_session.commit()  # the test's savepoint: what the pages read is there for them
    if defaults == "deleted":
        delete_the_defaults(db_session)
        db_session.commit()
    values_list = [
        Values(dataclasses.replace(scene, sr=sr), db_session) for sr in by_state.values()
    ]

    problems: dict[str, list[str]] = {}
    for person, side in (
        (scene.contact, "customer"),
        (scene.handler, "staff"),
        (scene.outsider, "staff"),
    ):
        client = make_client()
        client.login(person)
        found = crawl_for_writes(client, app, side, values_list, db_session)
        problems.update({f"{side} {person.id} GET {url}": w for url, w in found.items()})
    assert problems == {}, "GET requests that wrote to the database (or failed):\n" + "\n".join(
        f"{url}: {writes}" for url, writes in problems.items()
    )
