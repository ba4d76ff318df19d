"""IDOR (issue 5, done-when 3): every route with an id or a number, taken from the URL map.

- Customer side: a customer of another organisation (even its admin) gets 404 — the object does
  not exist for them — on every such route, GET or POST.
- Staff side: each such route is listed in STAFF_RULES with who may use it; a staff member
  without that role (holding every other role, not on the request) gets 403.

A new route with an argument that is not listed here FAILS the test: decide who may use it and
add it (the customer side needs nothing but a builder for a new kind of argument).
"""

from __future__ import annotations

import itertools
from urllib.parse import urlsplit

import pytest
from werkzeug.routing import AnyConverter

from portal import create_app
from portal.models import Calendar, CalendarOverride, Category, Department, Skill, utcnow
from tests.conftest import CHEAP_HASH

ALL_ROLES = frozenset({"agent", "supervisor", "dispatcher", "engineer", "admin"})
ANY_STAFF = "any staff"  # any staff member may open it (what they see is masked)
ON_REQUEST = "on request"  # the handler or a collaborator (a capacity, not a role)

# endpoint → who may use it: a set of roles, ANY_STAFF, or ON_REQUEST (plus roles, if any)
STAFF_RULES: dict[str, object] = {
    "staff.request_detail": ANY_STAFF,
    "staff.download": ANY_STAFF,
    "staff.print_form": ANY_STAFF,
    "staff.export_form": ANY_STAFF,
    "staff.wf_message": ANY_STAFF,  # an internal note is open to every staff role
    "staff.reveal_contact": frozenset({"supervisor"}),
    # the monthly feedback analysis reports (FA-YYYYMM): supervisors and admins
    "staff.monthly_report": frozenset({"admin", "supervisor"}),
    "staff.monthly_meeting": frozenset({"admin", "supervisor"}),
    "staff.monthly_xlsx": frozenset({"admin", "supervisor"}),
    "staff.sla_explain": frozenset({"supervisor"}),  # the explanation to the customer (timers)
    "staff.admin.retention_archive": frozenset({"admin"}),
    "staff.admin.retention_purge": frozenset({"admin"}),
    "staff.admin.calendar_import": frozenset({"admin"}),
    "staff.admin.calendar_override_add": frozenset({"admin"}),
    "staff.admin.calendar_override_remove": frozenset({"admin"}),
    # supervisors read an organisation's page; only admins change it
    "staff.admin.organisation": frozenset({"admin", "supervisor"}),
    "staff.admin.organisation_update": frozenset({"admin"}),
    "staff.admin.organisation_deactivate": frozenset({"admin"}),
    "staff.admin.organisation_reactivate": frozenset({"admin"}),
    "staff.admin.department_update": frozenset({"admin"}),
    "staff.admin.department_active": frozenset({"admin"}),
    "staff.admin.category_update": frozenset({"admin"}),
    "staff.admin.category_active": frozenset({"admin"}),
    "staff.admin.skill_update": frozenset({"admin"}),
    "staff.admin.skill_active": frozenset({"admin"}),
    # supervisors read the SLA policies; admins change them
    "staff.admin.sla_policy": frozenset({"admin", "supervisor"}),
    "staff.admin.sla_policy_save": frozenset({"admin"}),
    "staff.admin.sla_policy_rename": frozenset({"admin"}),
    "staff.admin.sla_policy_deactivate": frozenset({"admin"}),
    "staff.admin.sla_policy_reactivate": frozenset({"admin"}),
    # supervisors read a staff member's page; only admins change it
    "staff.admin.staff_member": frozenset({"admin", "supervisor"}),
    "staff.admin.staff_update": frozenset({"admin"}),
    "staff.admin.staff_availability": frozenset({"admin"}),
    "staff.admin.staff_deactivate": frozenset({"admin"}),
    "staff.admin.staff_reactivate": frozenset({"admin"}),
    # contacts are administered by admins only (supervisors read the masked list, no id)
    "staff.admin.contact": frozenset({"admin"}),
    "staff.admin.contact_update": frozenset({"admin"}),
    "staff.admin.contact_deactivate": frozenset({"admin"}),
    "staff.admin.contact_reactivate": frozenset({"admin"}),
    "staff.admin.contact_org_admin": frozenset({"admin"}),
    # the IMAP mailboxes: admins only, reading too (their logins are the desk's)
    "staff.admin.mailbox": frozenset({"admin"}),
    "staff.admin.mailbox_update": frozenset({"admin"}),
    "staff.admin.mailbox_active": frozenset({"admin"}),
    "staff.admin.mailbox_test": frozenset({"admin"}),
    "staff.wf_classify": frozenset({"supervisor"}),
    "staff.wf_assign": frozenset({"dispatcher", "supervisor"}),
    "staff.wf_collaborator": (ON_REQUEST, frozenset({"dispatcher", "supervisor"})),
    "staff.wf_confirm": (ON_REQUEST, frozenset()),
    "staff.wf_step": (ON_REQUEST, frozenset()),
    "staff.wf_record": (ON_REQUEST, frozenset()),
    "staff.wf_ask": (ON_REQUEST, frozenset()),
    "staff.deliver": (ON_REQUEST, frozenset()),
    "staff.countersign": (ON_REQUEST, frozenset()),
    "staff.record_feedback": frozenset({"agent", "supervisor"}),
    # portal.services.feedback.MEASURE_ROLES: the supervisor analyses feedback, the agent
    # collects it, the admin manages (not a lifecycle action: a role check)
    "staff.add_measure": frozenset({"agent", "supervisor", "admin"}),
    # group bots: a webhook address is a credential, admins only (portal/staff/admin/group_bots.py)
    "staff.admin.bot": frozenset({"admin"}),
    "staff.admin.bot_update": frozenset({"admin"}),
    "staff.admin.bot_active": frozenset({"admin"}),
    "staff.admin.bot_test": frozenset({"admin"}),
    # mail triage: the roles that register requests (portal/staff/register_views.py)
    "staff.mail_detail": frozenset({"agent", "supervisor", "admin"}),
    "staff.mail_request": frozenset({"agent", "supervisor", "admin"}),
    "staff.mail_new_contact": frozenset({"agent", "supervisor", "admin"}),
    "staff.mail_discard": frozenset({"agent", "supervisor", "admin"}),
    # service plans: admins and the supervisors who run the deliveries (portal/staff/admin/plans.py)
    "staff.admin.plan": frozenset({"admin", "supervisor"}),
    "staff.admin.plan_edit": frozenset({"admin", "supervisor"}),
    "staff.admin.plan_update": frozenset({"admin", "supervisor"}),
    "staff.admin.plan_pause": frozenset({"admin", "supervisor"}),
    "staff.admin.plan_resume": frozenset({"admin", "supervisor"}),
}


def _collect():
    throwaway = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "collect-routes",
            "DATABASE_URL": "sqlite://",
            "REDIS_URL": "redis://127.0.0.1:1/0",
            "PASSWORD_HASH": CHEAP_HASH,
        }
    )
    out = []
    for rule in throwaway.url_map.iter_rules():
        if rule.endpoint == "static" or not rule.arguments:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, rule.rule, method))
    return sorted(out)


# the mailed password links: their <token> is not an object's id but the permission itself,
# bound to one account and its current password; a token for another account, side or purpose,
# or altered, is refused (test_a_password_link_acts_only_on_its_own_account below)
TOKEN_ROUTES = {
    f"{side}.{name}"
    for side in ("customer", "staff")
    for name in ("password_set", "password_reset")
}
ROUTES = [r for r in _collect() if r[0] not in TOKEN_ROUTES]
CUSTOMER = [r for r in ROUTES if r[0].startswith("customer.")]
STAFF = [r for r in ROUTES if r[0].startswith("staff.")]


def _ids(routes):
    return [f"{m} {rule} ({e})" for e, rule, m in routes]


_calendars = itertools.count(1)


def _calendar(session):
    cal = Calendar(
        name=f"idor {next(_calendars)}", timezone="Asia/Shanghai", country="CN", working_hours={}
    )
    session.add(cal)
    session.flush()
    return cal


def _override(session):
    from datetime import date

    item = CalendarOverride(calendar_id=_calendar(session).id, day=date(2031, 1, 2), kind="holiday")
    session.add(item)
    session.flush()
    return item


def _listed(session, model, **fields):
    n = next(_calendars)
    row = model(code=f"idor{n}", name_zh=f"条目{n}", name_en=f"Entry {n}", **fields)
    session.add(row)
    session.flush()
    return row


def _policy(session):
    from portal.services import sla_policies
    from portal.services.audit import SYSTEM

    return sla_policies.create(session, SYSTEM, utcnow(), f"idor {next(_calendars)}", None)


def _mailbox(session):
    from portal.models import Mailbox

    # nothing listens on port 1: a connection test fails at once
    row = Mailbox(
        name=f"idor {next(_calendars)}",
        host="127.0.0.1",
        port=1,
        use_ssl=False,
        username="desk",
        password_encrypted="not-a-token",
    )
    session.add(row)
    session.flush()
    return row


def _bot(session):
    from portal.models import GroupBot

    bot = GroupBot(
        name=f"idor bot {next(_calendars)}",
        platform="feishu",
        webhook_url="https://open.feishu.cn/open-apis/bot/v2/hook/x",
        events=["sla_warning"],
        language="en",
    )
    session.add(bot)
    session.flush()
    return bot


def _inbound_mail(session):
    """A mail waiting in triage, from a sender the desk does not know."""
    from portal.services import inbound
    from tests.inbound.mails import mail

    row, _new = inbound.receive(
        session, mail(f"idor{next(_calendars)}@unknown.example"), "idor", utcnow()
    )
    inbound.process(session, row, utcnow())
    return row


def _plan(session, scene):
    from portal.models import utcnow
    from tests.plans.helpers import make_plan

    return make_plan(session, scene.handler, scene.contact, utcnow())


def build_url(app, scene, session, endpoint, rule_text):
    (rule,) = [
        r for r in app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == rule_text
    ]
    builders = {
        "number": lambda: scene.sr.number,
        "attachment_id": lambda: scene.log_file.id,
        "notification_id": lambda: scene.notification.id,
        "calendar_id": lambda: _calendar(session).id,
        "override_id": lambda: _override(session).id,
        "organisation_id": lambda: scene.org.id,
        "department_id": lambda: _listed(session, Department).id,
        "category_id": lambda: _listed(session, Category, request_type="fault").id,
        "skill_id": lambda: _listed(session, Skill).id,
        "policy_id": lambda: _policy(session).id,
        "account_id": lambda: scene.handler.id,
        "contact_id": lambda: scene.contact.id,
        "mailbox_id": lambda: _mailbox(session).id,
        "bot_id": lambda: _bot(session).id,
        "mail_id": lambda: _inbound_mail(session).id,
        "plan_id": lambda: _plan(session, scene).id,
    }
    values = {}
    for name in sorted(rule.arguments):
        converter = rule._converters.get(name)
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif name in builders:
            values[name] = builders[name]()
        else:
            pytest.fail(f"{rule_text} ({endpoint}) takes <{name}>: add a builder in {__file__}")
    if "override_id" in values:  # the override of that calendar
        override = session.get(CalendarOverride, values["override_id"])
        values["calendar_id"] = override.calendar_id
    return rule.build(values, append_unknown=False)[1]


def send(client, method, url):
    headers = {"X-CSRFToken": client._token()} if method != "GET" else {}
    return client.http.open(url, method=method, headers=headers)


def test_every_staff_route_with_an_argument_is_classified():
    missing = sorted({e for e, _r, _m in STAFF if e not in STAFF_RULES})
    assert missing == [], (
        f"routes with an id or number that tests/privacy/test_idor.py does not cover: {missing}; "
        "add each to STAFF_RULES with who may use it"
    )
    stale = sorted(set(STAFF_RULES) - {e for e, _r, _m in STAFF})
    assert stale == [], f"STAFF_RULES lists routes that no longer exist: {stale}"


@pytest.mark.parametrize("route", CUSTOMER, ids=_ids(CUSTOMER))
def test_a_customer_of_another_organisation_gets_404(app, client, db_session, scene, route):
    endpoint, rule, method = route
    url = build_url(app, scene, db_session, endpoint, rule)
    client.login(scene.other_customer)
    resp = send(client, method, url)
    assert resp.status_code == 404, f"{method} {url}: {resp.status_code}"


@pytest.mark.parametrize("route", CUSTOMER, ids=_ids(CUSTOMER))
def test_the_customer_on_the_request_is_not_refused(app, client, db_session, scene, route):
    """The same URLs work for the request's own contact: the 404 above is about the org."""
    endpoint, rule, method = route
    url = build_url(app, scene, db_session, endpoint, rule)
    client.login(scene.contact)
    resp = send(client, method, url)
    assert resp.status_code not in (403, 404), f"{method} {url}: {resp.status_code}"


def _without(session, factory, scene, rule_spec):
    """A staff member who lacks what the route needs: every other role, not on the request."""
    if rule_spec == ANY_STAFF:
        return None
    roles = rule_spec[1] if isinstance(rule_spec, tuple) else rule_spec
    others = ALL_ROLES - roles
    return factory.staff(*sorted(others)) if others else None


@pytest.mark.parametrize("route", STAFF, ids=_ids(STAFF))
def test_staff_without_the_role_gets_403(app, client, factory, db_session, scene, route):
    endpoint, rule, method = route
    spec = STAFF_RULES.get(endpoint)
    if spec is None:
        pytest.fail(f"{endpoint} is not in STAFF_RULES (tests/privacy/test_idor.py)")
    url = build_url(app, scene, db_session, endpoint, rule)
    who = _without(db_session, factory, scene, spec)
    if who is None:  # open to every staff member: the lowest role is not refused
        client.login(factory.staff("agent"))
        resp = send(client, method, url)
        assert resp.status_code != 403, f"{method} {url}: {resp.status_code}"
        return
    client.login(who)
    resp = send(client, method, url)
    assert resp.status_code == 403, f"{method} {url}: {resp.status_code}"


@pytest.mark.parametrize(
    "route",
    [r for r in STAFF if "<number>" in r[1]],
    ids=_ids([r for r in STAFF if "<number>" in r[1]]),
)
def test_an_unknown_number_is_404_for_staff(app, client, factory, db_session, scene, route):
    endpoint, rule, method = route
    url = build_url(app, scene, db_session, endpoint, rule).replace(
        scene.sr.number, "SR-19990101-001"
    )
    client.login(factory.staff(*sorted(ALL_ROLES)))
    resp = send(client, method, url)
    assert resp.status_code == 404, f"{method} {url}: {resp.status_code}"


def test_a_file_of_another_request_is_404_through_this_requests_number(
    client, factory, db_session, scene
):
    other = factory.request(scene.other_customer)
    client.login(scene.other_customer)
    resp = client.get(f"/requests/{other.number}/files/{scene.log_file.id}")
    assert resp.status_code == 404
    assert urlsplit(resp.request.url).path.endswith(str(scene.log_file.id))


def test_a_password_link_acts_only_on_its_own_account(app, make_client, db_session, scene):
    """A link's payload names its account; putting another account's id in it breaks the
    signature, and another person's link sets nothing of this person's."""
    import base64
    import json

    from portal.models import utcnow
    from portal.services import invitations
    from tests.factories import PASSWORD

    now = utcnow()
    token = invitations.make_token(scene.contact, invitations.RESET, now)
    payload, stamp, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["a"] = scene.other_customer.id
    forged = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
    forged_token = ".".join([forged.decode().rstrip("="), stamp, signature])
    db_session.commit()

    client = make_client()
    for url in (f"/password/reset/{forged_token}", f"/staff/password/reset/{token}"):
        assert client.get(url).status_code == 410
        new = {"new_password": "taken-over-123", "repeat_password": "taken-over-123"}
        assert client.post(url, data=new).status_code == 410
    # both people still log in with their own passwords
    make_client().login(scene.other_customer, password=PASSWORD)
    make_client().login(scene.contact, password=PASSWORD)
