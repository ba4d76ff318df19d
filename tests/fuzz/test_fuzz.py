"""A fuzz of every route, parameter, header and form field (security issue, item 8): bad values
never give a 5xx, and the ones that cannot be right are refused (4xx) and write nothing.

Driven from the URL map and from the forms on the pages (which the WTForms classes render), so
a route or a field added later is fuzzed without being listed here. Hypothesis draws the values
(derandomized: the same cases on every run) from a strategy of what breaks web applications:
empty, 100 kB, control characters, invalid UTF-8, right-to-left overrides, SQL and template
metacharacters, huge and negative numbers, and a field sent twice where one value is expected.

`FUZZ_EXAMPLES` (default 10) sets how many drawn values each route and field gets on top of the
fixed ones; the note of each run prints how many cases were sent.
"""

from __future__ import annotations

import os
import random
from contextlib import contextmanager
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.routing import IntegerConverter

from portal import demo
from portal.models import utcnow
from tests import test_control_characters as control_characters
from tests import test_get_writes as get_writes
from tests.privacy.conftest import build_scene
from tests.privacy.test_crawl import Values


@contextmanager
def recorded_writes(engine):
    """The writing statements of the block that were committed (a write the request made and
    then rolled back, as the input guard makes it do, is not one)."""
    committed: list[str] = []
    pending: list[str] = []

    def _statement(conn, cursor, statement, parameters, context, executemany):
        if get_writes.is_write(statement):
            pending.append(" ".join(statement.split())[:160])

    def _commit(session):
        if not session.in_nested_transaction():
            committed.extend(pending)
            pending.clear()

    def _rollback(session):
        if not session.in_nested_transaction():
            pending.clear()

    event.listen(engine, "before_cursor_execute", _statement)
    event.listen(Session, "after_commit", _commit)
    event.listen(Session, "after_rollback", _rollback)
    try:
        yield committed
    finally:
        event.remove(engine, "before_cursor_execute", _statement)
        event.remove(Session, "after_commit", _commit)
        event.remove(Session, "after_rollback", _rollback)


EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
HTMX = {"HX-Request": "true"}
BIG = "x" * 100_000
# values that cannot be right anywhere: refused, nothing written
REFUSED = ["a\x00b", "\x1b[31m"]
# values that may be right (a title may say ' OR 1=1 --): never a 5xx, and never run as code
ODD = [
    "",
    " ",
    BIG,
    "\u202egnp.exe",
    "' OR '1'='1' --",
    "1; DROP TABLE service_requests; --",
    "{{ 7*7 }}{% raw %}",
    "${7*7}<script>alert(1)</script>",
    "9" * 40,
    "-1",
    "0",
    "-99999999999999999999",
    "1e309",
    "NaN",
    "2026-13-45",
    "../../../../etc/passwd",
    "%00%ff",
    "🙂" * 200,
]
# every page and every field gets these; the rest are drawn
CORE = ["", BIG, "' OR '1'='1' --", "{{ 7*7 }}", "9" * 40, "-1", "\u202egnp.exe", "%00%ff"]
NASTY = st.one_of(
    st.sampled_from(ODD + REFUSED),
    st.text(alphabet=st.sampled_from("'\"<>{}%$;\\/\u202e\u200b\ufeff0-9a\n\t"), max_size=60),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
)
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
# query parameters the pages read (and a few they do not): each page gets all of them
PARAMS = (
    "q", "page", "before", "after", "cursor", "view", "status", "tab", "sort", "order", "type",
    "priority", "org", "organisation", "engineer", "department", "category", "from", "to",
    "period", "month", "year", "next", "limit", "kind", "unread", "day", "contact_id",
)  # fmt: skip
SENT = {"addresses": 0, "queries": 0, "headers": 0, "forms": 0}


@pytest.fixture
def scene(factory, db_session, app):
    return build_scene(factory, db_session, app)


def _people(make_client, scene):
    staff, customer = make_client(), make_client()
    staff.login(scene.outsider)  # every staff role: the most routes open
    customer.login(scene.contact)
    return {"staff": staff, "customer": customer}


def _client_for(rule, people):
    return people["staff"] if rule.endpoint.startswith("staff.") else people["customer"]


def _check(resp, where: str) -> None:
    if resp.status_code == 503 and resp.is_json and "checks" in resp.get_json():
        return  # /readyz saying "not ready" (no worker sweeps in the tests): its answer
    assert resp.status_code < 500, (
        f"{where}: {resp.status_code}\n{resp.get_data(as_text=True)[:600]}"
    )


def _rules(app):
    return sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint != "static"), key=lambda r: r.rule
    )


# --- addresses: every route, each argument replaced -------------------------------------------


def _bad_arguments(rule) -> list[dict]:
    out = []
    for name in sorted(rule.arguments):
        converter = rule._converters.get(name)
        if isinstance(converter, IntegerConverter):
            values = ["0", str(2**31), str(2**63), "9" * 30]
        else:
            values = ["x" * 2000, "' OR 1=1 --", "{{7*7}}", "..%2F..%2Fetc", "\u202eabc", "%ff"]
        out.extend({name: v} for v in values)
    return out


def test_every_address_with_a_bad_argument_is_a_4xx(app, make_client, db_session, scene):
    people = _people(make_client, scene)
    values = Values(scene, db_session)
    for rule in _rules(app):
        if not rule.arguments:
            continue
        good = {n: _good(values, rule, n) for n in rule.arguments}
        for bad in _bad_arguments(rule):
            url = _build(rule, {**good, **bad})
            client = _client_for(rule, people)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                with recorded_writes(app.extensions["portal_db"].engine) as writes:
                    resp = client.open(url, method=method)
                SENT["addresses"] += 1
                _check(resp, f"{method} {url}")
                assert resp.status_code >= 400, f"{method} {url}: {resp.status_code}"
                assert _real_writes(writes) == [], f"{method} {url} wrote {writes}"


def _good(values, rule, name):
    """A real value for the argument (the crawl's), or 1 where the crawl has none (an id of a
    POST-only route: the bad value replaces one argument at a time, the other stays real)."""
    try:
        return values.options(rule, name)[0]
    except pytest.fail.Exception:
        return 1


def _build(rule, args: dict) -> str:
    """The rule's path with ``args`` put in as they are (quoted), converters or not."""
    out = ""
    for dynamic, part in rule._trace:
        out += quote(str(args[part]), safe="") if dynamic else part
    return out.split("|", 1)[-1]


def _real_writes(writes: list[str]) -> list[str]:
    # a logged-in person's session is touched (its last use) by any request: not the request's
    return [w for w in writes if "login_sessions" not in w]


# --- query parameters on every page -----------------------------------------------------------


def test_every_page_takes_bad_query_parameters_without_a_5xx(app, make_client, db_session, scene):
    people = _people(make_client, scene)
    values = Values(scene, db_session)
    pages = [
        (rule, url)
        for rule in _rules(app)
        if "GET" in rule.methods
        for url in values.urls(rule)[:1]
    ]

    @FUZZ
    @given(value=NASTY, twice=st.booleans())
    def one(value, twice):
        for rule, url in pages:
            query = [(p, value) for p in PARAMS] + ([(p, "1") for p in PARAMS] if twice else [])
            client = _client_for(rule, people)
            with recorded_writes(app.extensions["portal_db"].engine) as writes:
                resp = client.get(f"{url}?{urlencode(query)}", headers=HTMX if twice else None)
            SENT["queries"] += 1
            _check(resp, f"GET {url} {value[:40]!r}")
            assert _real_writes(writes) == [] or rule.endpoint.endswith("export_form"), url

    for value in REFUSED + CORE:
        one.hypothesis.inner_test(value, False)
    one()


# --- headers the portal reads ---------------------------------------------------------------


def test_bad_headers_never_give_a_5xx(app, make_client, db_session, scene):
    people = _people(make_client, scene)
    urls = ["/staff/queue", f"/staff/requests/{scene.sr.number}", "/", "/login", "/readyz"]

    @FUZZ
    @given(value=NASTY)
    def one(value):
        for url in urls:
            client = people["staff"] if url.startswith("/staff") else people["customer"]
            for header in ("X-Request-Id", "Accept-Language", "HX-Request", "HX-Current-URL",
                           "HX-Target", "Referer", "X-Forwarded-For", "User-Agent"):  # fmt: skip
                try:
                    resp = client.get(url, headers={header: value})
                except ValueError:  # the test client refuses a header value (a newline)
                    continue
                SENT["headers"] += 1
                _check(resp, f"GET {url} {header}={value[:40]!r}")

    for value in CORE:
        one.hypothesis.inner_test(value)
    one()


# --- every form field on every page -----------------------------------------------------------


def _forms(app, make_client, db_session):
    """Every form the demo's people see, one person per role: (client, form, page url)."""
    demo.seed(db_session, utcnow(), app.config["PORTAL_TIMEZONE"])
    logins = demo.logins()
    staff = {p["role"]: p for p in reversed(logins) if p["side"] == "staff"}
    people = [next(p for p in logins if p["side"] == "customer"), *staff.values()]
    adapter = app.url_map.bind("localhost")
    found, seen = [], set()
    for person in people:
        client = make_client()
        side = person["side"]
        resp = client.post(
            "/staff/login" if side == "staff" else "/login",
            data={"identifier": person["email"], "password": demo.DEMO_PASSWORD},
        )
        assert resp.status_code == 302, person
        start = "/staff/queue?view=all" if side == "staff" else "/"
        for url, page in control_characters._crawl(client, app, db_session, side, start).items():
            for form in page.forms:
                action = urlsplit(form["action"] or url).path
                method = "POST" if form["method"] == "post" else "GET"
                endpoint = adapter.match(action, method)[0]
                key = (method, endpoint, tuple(sorted(f[0] for f in form["fields"])))
                if key in seen or endpoint.endswith(("logout", "language")):
                    continue
                seen.add(key)
                found.append((client, {**form, "action": action, "method": method}, endpoint))
    return found


def _send(client, form, data):
    if form["method"] == "GET":
        return client.get(f"{form['action']}?{urlencode(data, doseq=True)}")
    return client.post(form["action"], data=data, headers=HTMX if form["htmx"] else None)


def _filled(form) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for name, _kind, value in form["fields"]:
        data.setdefault(name, []).append(value)
    if form["submit"]:
        data.setdefault(form["submit"][0], []).append(form["submit"][1])
    return data


def test_every_field_of_every_form_takes_bad_values(app, make_client, db_session):
    forms = _forms(app, make_client, db_session)
    assert len(forms) > 40
    engine = app.extensions["portal_db"].engine
    rng = random.Random(20261204)

    def poison(client, form, endpoint, name, value, refused, typed=False):
        data = _filled(form)
        data[name] = [value, "1"] if value == "twice" else [value]
        with recorded_writes(engine) as writes:
            resp = _send(client, form, data)
        SENT["forms"] += 1
        where = f"{form['method']} {endpoint} {name}={value[:40]!r}"
        _check(resp, where)
        if refused:  # a field a person types into says so; a tampered hidden one need not
            assert resp.status_code >= 400 or not typed, where
            assert _real_writes(writes) == [], f"{where} wrote {writes}"

    fields = [
        (client, form, endpoint, name, kind)
        for client, form, endpoint in forms
        for name, kind, _value in form["fields"]
        if name != "csrf_token"
    ]
    # every field: the values that cannot be right, and a field sent twice
    for client, form, endpoint, name, kind in fields:
        typed = kind in control_characters.TEXT_INPUTS or kind == "textarea"
        for value in REFUSED:
            poison(client, form, endpoint, name, value, refused=True, typed=typed)
        poison(client, form, endpoint, name, "twice", refused=False)

    # and drawn ones, each on a field drawn from all of them
    @FUZZ
    @given(value=NASTY)
    def one(value):
        for client, form, endpoint, name, _kind in rng.sample(fields, min(len(fields), 12)):
            poison(client, form, endpoint, name, value, refused=False)

    for value in CORE:
        for client, form, endpoint, name, _kind in fields:
            poison(client, form, endpoint, name, value, refused=False)
    one()


# --- upload names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../../../etc/passwd", "x" * 5000 + ".log", "\u202egol.exe", "con.txt", "", ".", "a\x00b.log"],
)
def test_an_upload_with_a_bad_name_is_stored_under_a_clean_one_or_refused(
    client, factory, db_session, name
):
    import io

    from sqlalchemy import select

    from portal.models import Attachment

    contact = factory.customer()
    db_session.commit()
    client.login(contact)
    data = {**control_characters._new_request_form(), "attachments": [(io.BytesIO(b"log"), name)]}
    resp = client.post("/requests/new", data=data, content_type="multipart/form-data")
    _check(resp, f"upload {name[:40]!r}")
    for stored in db_session.scalars(select(Attachment)).all():
        assert "/" not in stored.original_name and "\x00" not in stored.original_name
        assert len(stored.original_name) <= 255
    SENT["forms"] += 1


def test_zz_report_how_many_cases_were_sent(capsys):
    """Printed in the test output (pytest -s, or the CI log's summary)."""
    with capsys.disabled():
        print(f"\nfuzz cases sent: {SENT} (FUZZ_EXAMPLES={EXAMPLES})")
