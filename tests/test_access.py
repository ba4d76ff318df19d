"""Every route of the app, walked from the URL map: each side is guarded as a whole.

The list of routes is taken from a freshly made app when this module is collected, so a route
added anywhere is tested here without anyone having to remember it. Arguments are real values
(an existing request's number, an existing row's id); an argument this file does not know makes
the test fail, so that a new kind of route is looked at before it passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.routing import AnyConverter, Rule

from portal import create_app
from portal.models import Attachment, Notification

SKIPPED_METHODS = {"HEAD", "OPTIONS"}
# the only endpoints of the two sides that a visitor reaches without logging in; adding one
# here is a decision to make on purpose
PUBLIC_SIDE_ENDPOINTS = {"customer.login", "staff.login"}
# "forgot password" and the pages behind the mailed links: reached before any login (the token
# in the link is the permission; tests/test_password_links.py)
PASSWORD_LINK_ENDPOINTS = {
    f"{side}.{name}"
    for side in ("customer", "staff")
    for name in ("password_forgot", "password_set", "password_reset")
}
PUBLIC_SIDE_ENDPOINTS |= PASSWORD_LINK_ENDPOINTS
# the strength meter beside a new-password field, on a link's page as on the account page: it
# judges the typed password and writes nothing (tests/test_password_policy.py)
PUBLIC_SIDE_ENDPOINTS |= {"customer.password_strength", "staff.password_strength"}
PUBLIC_BLUEPRINTS = {"common"}
STATIC_FILE = "js/portal.js"


@dataclass(frozen=True)
class Route:
    rule: str
    endpoint: str
    method: str

    @property
    def side(self) -> str:
        return self.endpoint.split(".", 1)[0] if "." in self.endpoint else self.endpoint

    def __str__(self) -> str:
        return f"{self.method} {self.rule} ({self.endpoint})"


def _collect_routes() -> list[Route]:
    throwaway = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "collect-routes",
            "DATABASE_URL": "sqlite://",
            "REDIS_URL": "redis://127.0.0.1:1/0",
            "PASSWORD_HASH": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
        }
    )
    routes = [
        Route(rule.rule, rule.endpoint, method)
        for rule in throwaway.url_map.iter_rules()
        for method in sorted(rule.methods - SKIPPED_METHODS)
    ]
    return sorted(routes, key=lambda r: (r.endpoint, r.rule, r.method))


ROUTES = _collect_routes()


def _routes(side: str, public: set[str] = frozenset()) -> list[Route]:
    return [r for r in ROUTES if r.side == side and r.endpoint not in public]


STAFF_GUARDED = _routes("staff", PUBLIC_SIDE_ENDPOINTS)
CUSTOMER_GUARDED = _routes("customer", PUBLIC_SIDE_ENDPOINTS)
PUBLIC = [r for r in ROUTES if r.side in PUBLIC_BLUEPRINTS or r.endpoint == "static"]


def _open(route, resp) -> bool:
    """Answered, not refused: readiness says 503 with its checks when one fails (no worker
    sweeps during these tests; tests/test_readiness.py)."""
    if route.endpoint == "common.ready":
        return resp.status_code in (200, 503) and resp.get_json()["checks"]["database"] == {
            "status": "ok"
        }
    return resp.status_code < 400


class Arguments:
    """Real values for URL arguments, made on demand in the test's transaction."""

    def __init__(self, factory, session) -> None:
        self.factory = factory
        self.session = session

    @cached_property
    def organisation(self):
        return self.factory.organisation()

    @cached_property
    def customer(self):
        return self.factory.customer(self.organisation, admin=True)

    @cached_property
    def staff(self):
        return self.factory.staff("agent", "supervisor", "dispatcher", "engineer", "admin")

    @cached_property
    def department(self):
        return self.factory.department()

    @cached_property
    def request(self):
        return self.factory.request(self.customer)

    @cached_property
    def attachment(self) -> Attachment:
        att = Attachment(
            request_id=self.request.id,
            uploaded_by_id=self.customer.id,
            original_name="screenshot.png",
            stored_name="0" * 64,
            content_type="image/png",
            size=1,
            sha256="0" * 64,
        )
        self.session.add(att)
        self.session.flush()
        return att

    @cached_property
    def notification(self) -> Notification:
        note = Notification(
            recipient_id=self.staff.id,
            kind="request_submitted",
            request_id=self.request.id,
            params={"number": self.request.number},
        )
        self.session.add(note)
        self.session.flush()
        return note

    @cached_property
    def calendar_override(self):
        from portal.models import CalendarOverride
        from portal.services.calendars import default_calendar

        override = CalendarOverride(
            calendar_id=default_calendar(self.session).id,
            day=date(2027, 1, 4),
            kind="holiday",
        )
        self.session.add(override)
        self.session.flush()
        return override

    @cached_property
    def category(self):
        return self.factory.category("fault")

    @cached_property
    def skill(self):
        from portal.models import Skill

        row = Skill(code=f"skill-{self.department.id}", name_zh="技能", name_en="Skill")
        self.session.add(row)
        self.session.flush()
        return row

    @cached_property
    def token(self) -> str:
        """A live invitation link's token of the customer (on the staff side: another side's
        link, refused)."""
        from portal.models import utcnow
        from portal.services import invitations

        return invitations.make_token(self.customer, invitations.INVITATION, utcnow())

    @cached_property
    def sla_policy(self):
        from portal.services.sla_policies import builtin_policy

        return builtin_policy(self.session)

    @cached_property
    def mailbox(self):
        from portal.models import Mailbox

        # nothing listens on port 1: a connection test fails at once
        row = Mailbox(
            name="access-box",
            host="127.0.0.1",
            port=1,
            use_ssl=False,
            username="desk",
            password_encrypted="not-a-token",
        )
        self.session.add(row)
        self.session.flush()
        return row

    @cached_property
    def group_bot(self):
        from portal.models import GroupBot

        bot = GroupBot(
            name="access bot",
            platform="wecom",
            webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x",
            events=["new_p1"],
            language="zh_CN",
        )
        self.session.add(bot)
        self.session.flush()
        return bot

    @cached_property
    def inbound_mail(self):
        """A mail waiting in triage (from a sender the desk does not know)."""
        from portal.models import utcnow
        from portal.services import inbound
        from tests.inbound.mails import mail

        row, _new = inbound.receive(
            self.session, mail("access@unknown.example"), "access", utcnow()
        )
        inbound.process(self.session, row, utcnow())
        return row

    @cached_property
    def service_plan(self):
        from portal.models import utcnow
        from tests.plans.helpers import make_plan

        return make_plan(self.session, self.staff, self.customer, utcnow())

    # argument name → its value; every name a route uses must be here
    BUILDERS = {
        "number": lambda a: a.request.number,
        "request_id": lambda a: a.request.id,
        "attachment_id": lambda a: a.attachment.id,
        "notification_id": lambda a: a.notification.id,
        "organisation_id": lambda a: a.organisation.id,
        "org_id": lambda a: a.organisation.id,
        "customer_id": lambda a: a.customer.id,
        "contact_id": lambda a: a.customer.id,
        "account_id": lambda a: a.staff.id,
        "user_id": lambda a: a.staff.id,
        "staff_id": lambda a: a.staff.id,
        "department_id": lambda a: a.department.id,
        "category_id": lambda a: a.category.id,
        "skill_id": lambda a: a.skill.id,
        "calendar_id": lambda a: a.calendar_override.calendar_id,
        "override_id": lambda a: a.calendar_override.id,
        "token": lambda a: a.token,
        "policy_id": lambda a: a.sla_policy.id,
        "mailbox_id": lambda a: a.mailbox.id,
        "bot_id": lambda a: a.group_bot.id,
        "mail_id": lambda a: a.inbound_mail.id,
        "plan_id": lambda a: a.service_plan.id,
    }

    def value(self, rule: Rule, name: str):
        converter = rule._converters.get(name)
        if isinstance(converter, AnyConverter):
            return sorted(converter.items)[0]
        if rule.endpoint == "static" and name == "filename":
            return STATIC_FILE
        if name not in self.BUILDERS:
            pytest.fail(
                f"{rule.rule} ({rule.endpoint}) takes <{name}>, which tests/test_access.py "
                f"cannot build yet: add a builder for it to Arguments.BUILDERS"
            )
        return self.BUILDERS[name](self)

    def url(self, app, route: Route) -> str:
        rules = [
            r
            for r in app.url_map.iter_rules()
            if r.rule == route.rule and r.endpoint == route.endpoint
        ]
        assert rules, f"{route} is not in the app under test"
        rule = rules[0]
        values = {name: self.value(rule, name) for name in sorted(rule.arguments)}
        built = rule.build(values, append_unknown=False)
        assert built is not None, f"cannot build {route} from {values}"
        return built[1]


@pytest.fixture
def args(factory, db_session):
    return Arguments(factory, db_session)


def send(client, route: Route, url: str, headers: dict | None = None):
    """The request a browser would send, with the CSRF token on anything but GET."""
    headers = dict(headers or {})
    if route.method != "GET":
        headers["X-CSRFToken"] = client._token()
    return client.http.open(url, method=route.method, headers=headers)


def ids(routes: list[Route]) -> list[str]:
    return [str(r) for r in routes]


# --- the map itself ------------------------------------------------------------------------------


def test_routes_were_collected():
    endpoints = {r.endpoint for r in ROUTES}
    assert {"customer.login", "staff.login", "customer.account", "staff.account"} <= endpoints
    assert STAFF_GUARDED and CUSTOMER_GUARDED


def test_every_route_belongs_to_a_known_side(app):
    """A blueprint that is neither side nor public needs its own guard and its own tests."""
    unknown = [
        str(r) for r in ROUTES if r.side not in {"customer", "staff", "static", *PUBLIC_BLUEPRINTS}
    ]
    assert unknown == []


def test_the_app_under_test_has_the_collected_routes(app):
    live = sorted(
        (
            Route(rule.rule, rule.endpoint, m)
            for rule in app.url_map.iter_rules()
            for m in rule.methods - SKIPPED_METHODS
        ),
        key=lambda r: (r.endpoint, r.rule, r.method),
    )
    assert live == ROUTES


def test_public_endpoints_of_the_blueprints_are_only_the_logins_and_password_links():
    from portal.customer import PUBLIC_ENDPOINTS as customer_public
    from portal.staff import PUBLIC_ENDPOINTS as staff_public

    assert set(customer_public) | set(staff_public) == PUBLIC_SIDE_ENDPOINTS


PASSWORD_LINK_ROUTES = [r for r in ROUTES if r.endpoint in PASSWORD_LINK_ENDPOINTS]


@pytest.mark.parametrize("route", PASSWORD_LINK_ROUTES, ids=ids(PASSWORD_LINK_ROUTES))
@pytest.mark.parametrize("who", ["anonymous", "customer", "staff"])
def test_the_password_pages_answer_without_a_login(app, client, args, route, who):
    """Open to anyone (a logged-in person may follow a link too), never a login redirect or
    a 5xx: the form, its errors (422), or the page of a link that does not work here (410)."""
    if who != "anonymous":
        client.login(getattr(args, who))
    resp = send(client, route, args.url(app, route))
    assert resp.status_code in {200, 410, 422}, f"{route}: {resp.status_code}"
    if route.endpoint.endswith("password_set") and route.side == "customer":
        assert resp.status_code in {200, 422}  # the customer's own live link
    assert resp.headers["Cache-Control"] == "no-store"


# --- anonymous visitors --------------------------------------------------------------------------


@pytest.mark.parametrize("route", STAFF_GUARDED, ids=ids(STAFF_GUARDED))
def test_anonymous_is_sent_to_the_staff_login(app, client, args, route):
    url = args.url(app, route)
    resp = send(client, route, url)
    assert resp.status_code == 302, f"{route}: {resp.status_code}"
    location = urlsplit(resp.location)
    assert location.path == "/staff/login"
    if route.method == "GET":
        assert parse_qs(location.query)["next"] == [url]


@pytest.mark.parametrize("route", CUSTOMER_GUARDED, ids=ids(CUSTOMER_GUARDED))
def test_anonymous_is_sent_to_the_customer_login(app, client, args, route):
    url = args.url(app, route)
    resp = send(client, route, url)
    assert resp.status_code == 302, f"{route}: {resp.status_code}"
    location = urlsplit(resp.location)
    assert location.path == "/login"
    if route.method == "GET":
        assert parse_qs(location.query)["next"] == [url]


@pytest.mark.parametrize("route", PUBLIC, ids=ids(PUBLIC))
def test_public_routes_are_open_to_anonymous(app, client, args, route):
    resp = send(client, route, args.url(app, route))
    assert _open(route, resp), f"{route}: {resp.status_code}"
    if resp.status_code in (301, 302, 303, 307, 308):
        assert urlsplit(resp.location).path not in {"/login", "/staff/login"}


def test_htmx_fragment_of_an_expired_session_redirects_the_whole_page(client):
    resp = client.get(
        "/staff/queue",
        headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/staff/queue?view=mine"},
    )
    assert resp.status_code == 401
    target = urlsplit(resp.headers["HX-Redirect"])
    assert target.path == "/staff/login"
    assert parse_qs(target.query)["next"] == ["/staff/queue?view=mine"]
    # a current URL on another site is not carried into next
    resp = client.get(
        "/account", headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example//x"}
    )
    assert resp.status_code == 401
    assert resp.headers["HX-Redirect"] in {"/login", "/login?next=/x"}


# --- the other side's accounts -------------------------------------------------------------------


@pytest.mark.parametrize("route", STAFF_GUARDED, ids=ids(STAFF_GUARDED))
def test_customer_is_forbidden_on_staff_routes(app, client, args, route):
    client.login(args.customer)
    resp = send(client, route, args.url(app, route))
    assert resp.status_code == 403, f"{route}: {resp.status_code}"


@pytest.mark.parametrize("route", CUSTOMER_GUARDED, ids=ids(CUSTOMER_GUARDED))
def test_staff_is_forbidden_on_customer_routes(app, client, args, route):
    client.login(args.staff)
    resp = send(client, route, args.url(app, route))
    assert resp.status_code == 403, f"{route}: {resp.status_code}"


@pytest.mark.parametrize(
    "route",
    [r for r in PUBLIC if r.method == "GET"],
    ids=ids([r for r in PUBLIC if r.method == "GET"]),
)
@pytest.mark.parametrize("who", ["customer", "staff"])
def test_public_routes_are_open_to_both_sides(app, client, args, route, who):
    client.login(getattr(args, who))
    resp = send(client, route, args.url(app, route))
    assert _open(route, resp), f"{route}: {resp.status_code}"


def test_forbidden_page_is_in_the_users_language_with_a_reference(app, client, args):
    client.http.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.login(args.customer)
    resp = client.get("/staff/account")
    assert resp.status_code == 403
    body = resp.get_data(as_text=True)
    assert '<html lang="en">' in body
    assert resp.headers["X-Request-Id"] in body
