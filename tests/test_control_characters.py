"""Control characters in what people send (a NUL made PostgreSQL fail with a 500, defects
issue item 3): refused at the edge with a message in the user's language, what was typed kept,
nothing saved; on every page address, every form and every upload name.

The walks take their routes from the URL map and their forms from the pages themselves, so a
page or form added later is covered too.
"""

from __future__ import annotations

import io
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from portal import demo
from portal.domain.characters import has_control_characters, without_control_characters
from portal.models import Attachment, Base, Feedback, Message, ServiceRequest, utcnow
from portal.web.forms import PortalForm
from tests.privacy.conftest import build_scene
from tests.privacy.test_crawl import Values

NUL = "a\x00b"
FIELD_ERROR = "Invisible control characters were taken out of this."
ADDRESS_ERROR = "The address contains control characters (such as NUL)"
SENT_ERROR = "What you sent contains control characters (such as NUL)"
ZH = {  # the demo's people read Chinese
    FIELD_ERROR: "已去掉其中的不可见控制字符",
    ADDRESS_ERROR: "网址中含有本系统不接受的控制字符",
    SENT_ERROR: "提交的内容含有本系统不接受的控制字符",
}
HTMX = {"HX-Request": "true"}


# --- the rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "char", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9f"]
)
def test_controls_are_refused_and_taken_out(char):
    text = f"登录{char}失败"
    assert has_control_characters(text)
    assert without_control_characters(text) == "登录失败"


@pytest.mark.parametrize("text", ["tab\there", "two\nlines\r\n", "中文 ½ € \u00a0 🙂 \ufffd", ""])
def test_tabs_line_breaks_and_printable_text_stay(text):
    assert not has_control_characters(text)
    assert without_control_characters(text) == text


def test_every_form_class_is_a_portal_form(app):
    """Every form class is a PortalForm (the base that puts the error beside the field)."""

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [c for c in subclasses(FlaskForm) if c.__module__.startswith("portal.")]
    assert len(ours) > 20
    assert [c.__qualname__ for c in ours if not issubclass(c, PortalForm)] == []


# --- addresses ------------------------------------------------------------------------------


@pytest.fixture
def scene(factory, db_session, app):
    return build_scene(factory, db_session, app)


def _get_rules(app, side: str):
    return sorted(
        (
            r
            for r in app.url_map.iter_rules()
            if r.endpoint.split(".")[0] == side and "GET" in r.methods
        ),
        key=lambda r: r.rule,
    )


@pytest.mark.parametrize("side", ["customer", "staff"])
def test_every_page_refuses_a_query_with_a_nul(app, make_client, db_session, scene, side):
    client = make_client()
    client.login(scene.contact if side == "customer" else scene.outsider)
    values = Values(scene, db_session)
    urls = [url for rule in _get_rules(app, side) for url in values.urls(rule)]
    assert len(urls) > 10
    wrong = {}
    for url in urls:
        for headers in ({}, HTMX):
            resp = client.get(url + ("&" if "?" in url else "?") + "q=a%00b", headers=headers)
            body = resp.get_data(as_text=True)
            if resp.status_code != 400 or ADDRESS_ERROR not in body:
                wrong[url + (" [htmx]" if headers else "")] = resp.status_code
    assert wrong == {}


@pytest.mark.parametrize(
    "side, url, cleaned",
    [
        ("customer", "/?q=a%00b&status=open", "/?q=ab&amp;status=open"),
        ("staff", "/staff/queue?view=all&q=a%00b", "/staff/queue?view=all&amp;q=ab"),
        ("staff", "/staff/requests/new?q=%E6%9D%8E%00", "/staff/requests/new?q=%E6%9D%8E"),
        ("staff", "/staff/admin/audit?action=request%1b", "/staff/admin/audit?action=request"),
        ("staff", "/staff/queue?q%00=x", "/staff/queue?q=x"),
        ("staff", "/staff/requests/SR%00", "/staff/requests/SR"),
        ("customer", "/requests/SR%7f/print/sr", "/requests/SR/print/sr"),
    ],
)
def test_an_address_with_control_characters_says_so_and_links_to_it_without_them(
    make_client, scene, side, url, cleaned
):
    client = make_client()
    client.login(scene.contact if side == "customer" else scene.outsider)
    resp = client.get(url)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert ADDRESS_ERROR in body
    assert f'href="{cleaned}"' in body
    assert "\x00" not in body and "\x7f" not in body and "\x1b" not in body


def test_the_refusal_is_in_the_users_language(make_client, factory):
    client = make_client()
    client.login(factory.customer(locale="zh_CN"))
    body = client.get("/?q=a%00b").get_data(as_text=True)
    assert "网址中含有本系统不接受的控制字符" in body
    assert "去掉这些字符后打开" in body


def test_a_post_to_an_address_with_control_characters_is_refused(make_client, scene):
    client = make_client()
    client.login(scene.contact)
    before = _count(client.app, ServiceRequest)
    resp = client.post("/requests/new?next=%00", data=_new_request_form())
    assert resp.status_code == 400 and ADDRESS_ERROR in resp.get_data(as_text=True)
    assert _count(client.app, ServiceRequest) == before


# --- forms ----------------------------------------------------------------------------------


def _count(app, model) -> int:
    from portal.db import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _new_request_form(**overrides) -> dict:
    data = {
        "type": "fault",
        "urgency": "P3",
        "title": "打印机无法连接",
        "description": "三楼的打印机从早上开始无法连接。\n\t已重启,仍然不行。",
        "contact_name": "李明",
        "contact_phone": "13812345678",
        "contact_email": "li.ming@example.com",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("url", ["/login", "/staff/login"])
def test_login_with_a_nul_says_so_beside_the_field_and_keeps_the_rest(client, url):
    resp = client.post(url, data={"identifier": "li.ming\x00@example.com", "password": "x"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert FIELD_ERROR in body
    assert 'value="li.ming@example.com"' in body


@pytest.mark.parametrize("prefix", ["", "/staff"])
def test_password_forms_with_a_nul_say_so_beside_the_field_and_keep_the_rest(
    make_client, factory, db_session, prefix
):
    from portal.models import utcnow
    from portal.services import invitations

    person = factory.staff() if prefix else factory.customer()
    db_session.commit()
    client = make_client()
    resp = client.post(f"{prefix}/password/forgot", data={"email": "li.ming\x00@example.com"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert FIELD_ERROR in body
    assert 'value="li.ming@example.com"' in body
    token = invitations.make_token(person, invitations.RESET, utcnow())
    before = person.password_hash
    resp = client.post(
        f"{prefix}/password/reset/{token}",
        data={"new_password": "a-long\x00-password", "repeat_password": "a-long-password"},
    )
    assert resp.status_code == 422
    assert FIELD_ERROR in resp.get_data(as_text=True)
    db_session.refresh(person)
    assert person.password_hash == before


def test_a_new_request_with_a_nul_in_its_title_comes_back_with_the_error_and_saves_nothing(
    make_client, factory
):
    client = make_client()
    client.login(factory.customer())
    before = _count(client.app, ServiceRequest)
    resp = client.post("/requests/new", data=_new_request_form(title="打印机\x00无法连接"))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert FIELD_ERROR in body
    assert 'value="打印机无法连接"' in body  # the title, less the NUL
    assert "三楼的打印机从早上开始无法连接。\n\t已重启,仍然不行。" in body  # the rest as typed
    assert 'value="13812345678"' in body
    assert _count(client.app, ServiceRequest) == before


def test_the_same_form_without_the_nul_goes_through(make_client, factory):
    client = make_client()
    client.login(factory.customer())
    before = _count(client.app, ServiceRequest)
    resp = client.post("/requests/new", data=_new_request_form())
    assert resp.status_code == 302
    assert _count(client.app, ServiceRequest) == before + 1


def test_upload_names_lose_their_control_characters(make_client, factory):
    """Decided: a file name is taken as sent less the control characters (no refusal: the
    file is what matters), every file of the field."""
    client = make_client()
    client.login(factory.customer())
    data = _new_request_form()
    data["attachments"] = [
        (io.BytesIO(b"first\n"), "server.log"),
        (io.BytesIO(b"second\n"), "trace\x00\x1b.log"),
    ]
    resp = client.post("/requests/new", data=data, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:400]
    from portal.db import db

    with client.app.app_context():
        names = db.session.scalars(select(Attachment.original_name)).all()
    assert {"server.log", "trace.log"} <= set(names)


def test_a_refused_upload_is_named_without_them(make_client, factory, app, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 16)
    client = make_client()
    client.login(factory.customer())
    data = _new_request_form(attachments=(io.BytesIO(b"x" * 100), "big\x00\x7f.log"))
    resp = client.post("/requests/new", data=data, content_type="multipart/form-data")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "big.log is larger than the limit" in body
    assert "\x00" not in body and "\x7f" not in body


def test_json_with_a_nul_is_refused(make_client, factory):
    client = make_client()
    client.login(factory.customer())
    before = _count(client.app, ServiceRequest)
    resp = client.post("/requests/new", json=_new_request_form(title="打印机\x00无法连接"))
    assert resp.status_code == 400 and SENT_ERROR in resp.get_data(as_text=True)
    assert _count(client.app, ServiceRequest) == before


def test_a_form_read_without_a_form_class_saves_nothing_and_says_why(
    make_client, factory, db_session
):
    """The supervisor's explanation to the customer is read straight from the form: with a
    NUL it is not saved; the panel comes back with the field's error and what was typed."""
    sr = factory.request(factory.customer())
    sr.status, sr.priority, sr.escalation_level = "in_progress", "P1", 1
    db_session.flush()
    client = make_client()
    client.login(factory.staff("supervisor"))
    resp = client.post(
        f"/staff/requests/{sr.number}/sla-explanation",
        data={"explanation": "The vendor's patch\x00 is late; we apply it tomorrow morning."},
        headers=HTMX,
    )
    assert resp.status_code == 422
    assert _says(resp, FIELD_ERROR)
    assert "we apply it tomorrow morning." in resp.get_data(as_text=True)
    assert _count(client.app, Message) == 0


def _says(resp, *messages: str) -> bool:
    body = resp.get_data(as_text=True)
    return any(m in body or ZH[m] in body for m in messages)


# --- every form on every page ---------------------------------------------------------------

TEXT_INPUTS = {"text", "search", "email", "tel", "url", "password", "number", "date"}
TEXT_INPUTS |= {"datetime-local", "time", "month", "week"}


class _Forms(HTMLParser):
    """Forms of a page: action, method, htmx, fields (name, kind, value) and links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.links: list[str] = []
        self._form: dict | None = None
        self._textarea: list | None = None
        self._select: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "form":
            post = a.get("hx-post")
            self._form = {
                "action": post or a.get("hx-get") or a.get("action") or "",
                "method": "post" if post else (a.get("method") or "get").lower(),
                "htmx": bool(post or a.get("hx-get")),
                "fields": [],
                "submit": None,
            }
            self.forms.append(self._form)
        if self._form is None or not a.get("name") or "disabled" in a:
            return
        fields = self._form["fields"]
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    fields.append((a["name"], kind, a.get("value", "on")))
            elif kind == "submit":
                self._form["submit"] = self._form["submit"] or (a["name"], a.get("value", ""))
            elif kind != "file":
                fields.append((a["name"], kind, a.get("value", "")))
        elif tag == "button" and (a.get("type") or "submit") == "submit":
            self._form["submit"] = self._form["submit"] or (a["name"], a.get("value", ""))
        elif tag == "textarea":
            self._textarea = [a["name"], "textarea", ""]
            fields.append(self._textarea)
        elif tag == "select":
            self._select = [a["name"], "select", None]
            fields.append(self._select)
        elif tag == "option" and self._select is not None:
            if self._select[2] is None or "selected" in a:
                self._select[2] = a.get("value", "")

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[2] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def _database(session) -> dict:
    session.expire_all()
    return {
        t.name: sorted(map(repr, session.execute(select(t)).all()))
        for t in Base.metadata.sorted_tables
    }


# files, spreadsheets and printable forms: no forms in them
SKIP = ("static", ".download", ".export_form", ".print_form")


def _crawl(client, app, session, side: str, start: str) -> dict[str, _Forms]:
    """The side's pages: ``start``, every route without arguments (admin pages have no link)
    and what their links reach; one page per endpoint, and per request status for pages about
    a request. url → its forms and links."""
    adapter = app.url_map.bind("localhost")
    prefix = "/staff" if side == "staff" else "/"
    status_of = dict(session.execute(select(ServiceRequest.number, ServiceRequest.status)).all())
    # a request with feedback shows the measure form: it counts as a page of its own
    rated = session.scalars(
        select(ServiceRequest.number).join(Feedback, Feedback.request_id == ServiceRequest.id)
    )
    status_of.update({number: f"{status_of[number]}+feedback" for number in rated})
    queue = [start] + [r.rule for r in _get_rules(app, side) if not r.arguments]
    seen_keys, pages = set(), {}
    while queue:
        url = queue.pop(0)
        parts = urlsplit(url)
        if parts.netloc or not parts.path.startswith(prefix):
            continue
        try:
            endpoint, args = adapter.match(parts.path, method="GET")
        except Exception:  # noqa: BLE001  (static files, other methods)
            continue
        key = (endpoint, status_of.get(args.get("number")), args.get("form"))
        if key in seen_keys or endpoint.endswith(SKIP):
            continue
        seen_keys.add(key)
        resp = client.get(url)
        if resp.status_code != 200 or not resp.content_type.startswith("text/html"):
            continue
        parser = _Forms()
        parser.feed(resp.get_data(as_text=True))
        pages[url] = parser
        queue.extend(parser.links)
    return pages


def _submission(form: dict) -> tuple[dict, bool]:
    """The form as the page filled it in, with a NUL in every field a person types into; in a
    form without one, in every hidden field but the CSRF token, else in every choice, else in
    a field the form does not know. Also: whether a typed field got one."""
    fields = form["fields"]
    typed = [f for f in fields if f[1] in TEXT_INPUTS or f[1] == "textarea"]
    hidden = [f for f in fields if f[1] == "hidden" and f[0] != "csrf_token"]
    chosen = [f for f in fields if f[1] in ("select", "radio", "checkbox")]
    poisoned = {f[0] for f in (typed or hidden or chosen)}
    data: dict[str, list[str]] = {}
    for name, _kind, value in fields:
        data.setdefault(name, []).append(f"{value or 'a'}\x00b" if name in poisoned else value)
    if form["submit"]:
        data.setdefault(form["submit"][0], []).append(form["submit"][1])
    if not poisoned:
        data["note"] = [NUL]
    return data, bool(typed)


# POST routes with no form on the demo's pages for these people; tested above or by hand
NOT_ON_THE_DEMO_PAGES = {
    # no monthly feedback analysis report in the demo: tests/reports/test_pages.py sends the
    # review meeting a NUL; the export has no field
    "staff.monthly_meeting",
    "staff.monthly_xlsx",
    "customer.login",  # anonymous: test_login_with_a_nul_…
    "staff.login",
    "customer.logout",  # would end the walk's session
    "staff.logout",
    "staff.sla_explain",  # no escalated request: test_a_form_read_without_a_form_class_…
    "staff.countersign",  # no delivery waiting for the desk's countersignature
    "staff.admin.calendar_override_remove",  # no override in the demo calendar
    "staff.admin.retention_archive",  # nothing old enough to archive or purge
    # every demo organisation is active: tests/staff/test_admin_organisations.py reactivates
    "staff.admin.organisation_reactivate",
    "staff.admin.retention_purge",
    # every demo staff member is active: tests/staff/test_admin_staff.py reactivates
    "staff.admin.staff_reactivate",
    # anonymous: "forgot password" and the mailed links (test_password_forms_with_a_nul_…)
    "customer.password_forgot",
    "customer.password_set",
    "customer.password_reset",
    "staff.password_forgot",
    "staff.password_set",
    "staff.password_reset",
    # the strength meter is an htmx post of one field, not a form: test_password_policy.py
    "customer.password_strength",
    "staff.password_strength",
    "staff.admin.sla_policy_reactivate",  # no inactive policy in the demo
    # the walk opens one policy page, the built-in one's, which has no name or status form:
    # tests/staff/test_admin_sla_policies.py sends them a NUL
    "staff.admin.sla_policy_rename",
    "staff.admin.sla_policy_deactivate",
    # no staged import and no inactive contact in the demo: tests/staff/test_contact_import.py
    # and tests/customer/test_colleague_admin.py send them a NUL
    "staff.admin.contact_import_confirm",
    "staff.admin.contact_reactivate",
    "customer.colleague_reactivate",
    # the demo has no group bot: tests/bots/test_admin_page.py sends these a NUL
    "staff.admin.bot_update",
    "staff.admin.bot_active",
    "staff.admin.bot_test",
    # every demo plan runs: tests/plans/test_pages.py pauses one and sends its resume a NUL
    "staff.admin.plan_resume",
    # nor a mailbox: tests/imap/test_admin_mailboxes.py sends these a NUL
    "staff.admin.mailbox_update",
    "staff.admin.mailbox_active",
    "staff.admin.mailbox_test",
    # the demo has no inbound mail: tests/inbound/test_mail_pages.py sends these a NUL
    "staff.mail_request",
    "staff.mail_new_contact",
    "staff.mail_discard",
}


def test_every_form_on_every_page_refuses_a_nul_and_saves_nothing(app, make_client, db_session):
    """Every form the demo's people see (one person per staff role, every customer), sent with
    a NUL: never a 5xx, nothing written, and a typed field gets the message. A GET form (the
    queue filters, the audit search) gets the 400 page."""
    demo.seed(db_session, utcnow(), app.config["PORTAL_TIMEZONE"])
    logins = demo.logins()
    staff = {p["role"]: p for p in reversed(logins) if p["side"] == "staff"}
    people = [p for p in logins if p["side"] == "customer"] + list(staff.values())
    adapter = app.url_map.bind("localhost")
    tried, problems = set(), []
    for person in people:
        client = make_client()
        side = person["side"]
        resp = client.post(
            "/staff/login" if side == "staff" else "/login",
            data={"identifier": person["email"], "password": demo.DEMO_PASSWORD},
        )
        assert resp.status_code == 302, person
        start = "/staff/queue?view=all" if side == "staff" else "/"
        for url, page in _crawl(client, app, db_session, side, start).items():
            for form in page.forms:
                action = urlsplit(form["action"] or url).path
                method = "POST" if form["method"] == "post" else "GET"
                endpoint = adapter.match(action, method)[0]
                data, typed = _submission(form)
                key = (method, endpoint, tuple(sorted(data)))
                if key in tried or endpoint.endswith("logout"):
                    continue
                tried.add(key)
                where = (person["role"], method, endpoint)
                if method == "GET":
                    resp = client.get(f"{action}?{urlencode(data, doseq=True)}")
                    if resp.status_code != 400 or not _says(resp, ADDRESS_ERROR):
                        problems.append((*where, resp.status_code))
                    continue
                before = _database(db_session)
                resp = client.post(action, data=data, headers=HTMX if form["htmx"] else None)
                if resp.status_code >= 500 or _database(db_session) != before:
                    problems.append((*where, resp.status_code, "wrote"))
                elif typed and not _says(resp, FIELD_ERROR, SENT_ERROR):
                    problems.append((*where, resp.status_code, "no message"))
    assert problems == []
    posted = {k[1] for k in tried if k[0] == "POST"}
    every_post = {r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods}
    assert every_post - posted - NOT_ON_THE_DEMO_PAGES == set()
    assert {k[1] for k in tried if k[0] == "GET"} >= {"staff.queue", "staff.admin.audit"}
