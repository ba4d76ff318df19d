"""The crawl (issue 5, done-when 1): a staff member who is not on a request fetches every staff
page, fragment, export, printable form and notification that concerns it — taken from the URL
map, so a page added later is crawled too — and finds neither the contact's full name, phone and
e-mail nor the personal data in its description, messages, steps and log file; the scene's closed
request carries the name in its signatures and the handling record's customer confirmation. The
handler finds them.

A route whose URL arguments this file cannot build fails the test: look at it, then add a
builder.
"""

from __future__ import annotations

import io
import itertools
import zipfile

import pytest
from sqlalchemy import select
from werkzeug.routing import AnyConverter

from portal.models import Account, Calendar, EmailOutbox
from tests.privacy.conftest import EMAIL, NAME, PHONE, RESIDENT_ID, SECRETS, Scene


def _calendar(scene_args):
    session = scene_args.session
    cal = session.scalar(select(Calendar).limit(1))
    if cal is None:
        cal = Calendar(name="crawl", timezone="Asia/Shanghai", country="CN", working_hours={})
        session.add(cal)
        session.flush()
    return cal


def _tokens(scene) -> list[str]:
    from portal.models import utcnow
    from portal.services import invitations

    now = utcnow()
    return [
        invitations.make_token(scene.contact, invitations.INVITATION, now),
        invitations.make_token(scene.handler, invitations.RESET, now),
    ]


def _policies(scene_args) -> list[int]:
    """The SLA policies there are (the built-in one, unless a test deleted it)."""
    from portal.models import SlaPolicy

    return list(scene_args.session.scalars(select(SlaPolicy.id).order_by(SlaPolicy.id).limit(3)))


def _mailbox(scene_args):
    """A mailbox (its page shows its login, never its password)."""
    from sqlalchemy import func

    from portal.models import Mailbox

    row = Mailbox(
        name=f"crawl box {scene_args.session.scalar(select(func.count(Mailbox.id))) + 1}",
        host="127.0.0.1",
        port=1,
        use_ssl=False,
        username="desk",
        password_encrypted="not-a-token",
    )
    scene_args.session.add(row)
    scene_args.session.flush()
    return row


_BOT_NAMES = itertools.count(1)


def _bots(scene_args) -> list[int]:
    """A group bot (its page shows no contact data: it has none)."""
    from portal.models import GroupBot

    bot = GroupBot(
        name=f"crawl bot {next(_BOT_NAMES)}",
        platform="wecom",
        webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=crawl",
        events=["new_p1"],
        language="zh_CN",
    )
    scene_args.session.add(bot)
    scene_args.session.flush()
    return [bot.id]


def _inbound_mails(scene_args) -> list[int]:
    """Mails of the triage pages: one waiting (a sender the desk does not know, shown whole to
    the roles that triage), one from the scene's contact that became a request (handled: its
    sender masked)."""
    from portal.models import utcnow
    from portal.services import inbound
    from tests.inbound.mails import mail

    ids = []
    for raw in (
        mail(f"crawl{next(_BOT_NAMES)}@unknown.example", "Crawl mail"),
        mail(scene_args.scene.contact.email, "Crawl request by mail"),
    ):
        row, _new = inbound.receive(scene_args.session, raw, "crawl", utcnow())
        inbound.process(scene_args.session, row, utcnow())
        ids.append(row.id)
    return ids


def _plans(scene_args) -> list[int]:
    """A service plan of the scene's organisation, for the scene's contact (its page shows the
    contact masked)."""
    from portal.models import utcnow
    from tests.plans.helpers import make_plan

    s = scene_args.scene
    return [make_plan(scene_args.session, s.handler, s.contact, utcnow()).id]


class Values:
    """Values for URL arguments, all about the scene's request; a name not here fails."""

    def __init__(self, scene: Scene, session) -> None:
        self.scene = scene
        self.session = session

    def options(self, rule, name) -> list:
        converter = rule._converters.get(name)
        if isinstance(converter, AnyConverter):
            return sorted(converter.items)  # every printable form, every export
        s = self.scene
        builders = {
            "number": lambda: [s.sr.number, s.closed.number],
            "request_id": lambda: [s.sr.id],
            "attachment_id": lambda: [s.log_file.id, s.picture.id],
            "notification_id": lambda: [s.notification.id],
            "organisation_id": lambda: [s.org.id],
            "org_id": lambda: [s.org.id],
            "customer_id": lambda: [s.contact.id],
            "contact_id": lambda: [s.contact.id],
            "account_id": lambda: [s.contact.id, s.handler.id],
            "user_id": lambda: [s.contact.id],
            "staff_id": lambda: [s.handler.id],
            "calendar_id": lambda: [_calendar(self).id],
            # the mailed password links: a live one for each side's person (the page shows the
            # form), and one that does not verify
            "token": lambda: [*_tokens(s), "not-a-valid-token"],
            "policy_id": lambda: _policies(self),
            "mailbox_id": lambda: [_mailbox(self).id],
            "bot_id": lambda: _bots(self),
            "mail_id": lambda: _inbound_mails(self),
            "plan_id": lambda: _plans(self),
        }
        if name not in builders:
            pytest.fail(
                f"{rule.rule} ({rule.endpoint}) takes <{name}>: tests/privacy/test_crawl.py "
                "cannot build it yet; add a builder so that the crawl covers this route"
            )
        return builders[name]()

    def urls(self, rule) -> list[str]:
        combos: list[dict] = [{}]
        for name in sorted(rule.arguments):
            combos = [{**c, name: v} for c in combos for v in self.options(rule, name)]
        out = []
        for values in combos:
            built = rule.build(values, append_unknown=False)
            assert built is not None, f"cannot build {rule.rule} from {values}"
            out.append(built[1])
        return out


def _staff_get_rules(app):
    return sorted(
        (
            r
            for r in app.url_map.iter_rules()
            if r.endpoint.startswith("staff.")
            and "GET" in r.methods
            and r.endpoint not in {"staff.login"}
        ),
        key=lambda r: r.rule,
    )


def _text_of(resp) -> str:
    data = resp.get_data()
    if data[:2] == b"PK":  # XLSX and zip exports: every member, uncompressed
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return "\n".join(zf.read(n).decode("utf-8", errors="replace") for n in zf.namelist())
    return data.decode("utf-8", errors="replace")


def crawl(client, app, values: Values) -> dict[str, str]:
    """Every staff GET route, as a page and as an htmx fragment: url → body."""
    seen: dict[str, str] = {}
    for rule in _staff_get_rules(app):
        for url in values.urls(rule):
            for headers in ({}, {"HX-Request": "true"}):
                resp = client.get(url, headers=headers)
                assert resp.status_code < 500, f"{url}: {resp.status_code}"
                if resp.status_code == 200:
                    key = url + (" [htmx]" if headers else "")
                    seen[key] = _text_of(resp)
    return seen


ADMINISTERED_CONTACTS = ("/staff/admin/contacts",)


def test_a_supervisor_outsider_sees_the_administration_of_contacts_masked(
    app, make_client, factory, db_session, scene
):
    """The same crawl as a supervisor (no admin role): the contact pages they may read show no
    raw contact data either."""
    supervisor = factory.staff("supervisor")
    client = make_client()
    client.login(supervisor)
    pages = crawl(client, app, Values(scene, db_session))
    assert any(url.startswith(ADMINISTERED_CONTACTS) for url in pages)
    leaks = [(url, secret) for url, body in pages.items() for secret in SECRETS if secret in body]
    assert leaks == [], f"raw personal data shown to a supervisor not on the request: {leaks}"


def test_outsider_sees_no_contact_value_and_no_personal_data_anywhere(
    app, client, factory, db_session, scene
):
    client.login(scene.outsider)
    pages = crawl(client, app, Values(scene, db_session))
    number = scene.sr.number
    # the crawl did reach the request: its page, its files, the queue
    assert f"/staff/requests/{number}" in pages
    assert f"/staff/requests/{number}/files/{scene.log_file.id}" in pages
    assert any(url.startswith("/staff/queue") for url in pages)
    # the one place an admin sees contacts in full: the administration of contacts, where they
    # create, edit and deactivate them (docs/product.md §8); supervisors see it masked
    # (tests/staff/test_admin_contacts.py). Everywhere else the admin is an outsider like anyone.
    administered = [url for url in pages if url.startswith(ADMINISTERED_CONTACTS)]
    assert administered, "the crawl did not reach the administration of contacts"
    leaks = [
        (url, secret)
        for url, body in pages.items()
        if not url.startswith(ADMINISTERED_CONTACTS)
        for secret in SECRETS
        if secret in body
    ]
    assert leaks == [], f"raw personal data shown to a staff member not on the request: {leaks}"
    page = pages[f"/staff/requests/{number}"]
    assert "****5678" in page and "w***@contact-example.com" in page  # masked, not hidden
    assert "****002X" in page  # the description, message, step: redacted renderings
    log = pages[f"/staff/requests/{number}/files/{scene.log_file.id}"]
    assert "id_card=****002X phone=****5678 card=****0128" in log  # a redacted copy
    # the closed request's handling record: the customer confirmed it, signed 欧*
    closed = pages[f"/staff/requests/{scene.closed.number}"]
    assert "Customer confirmation" in closed and f"{NAME[0]}* · " in closed


def test_the_handler_sees_the_originals(app, client, scene):
    client.login(scene.handler)
    number = scene.sr.number
    page = client.get(f"/staff/requests/{number}").get_data(as_text=True)
    for secret in (PHONE, EMAIL, RESIDENT_ID):
        assert secret in page
    log = client.get(f"/staff/requests/{number}/files/{scene.log_file.id}").get_data(as_text=True)
    assert f"id_card={RESIDENT_ID} phone={PHONE}" in log
    queue = client.get("/staff/queue?view=all").get_data(as_text=True)
    assert PHONE in queue
    closed = client.get(f"/staff/requests/{scene.closed.number}").get_data(as_text=True)
    assert f"{NAME} · " in closed  # the customer confirmation, as signed


def test_the_contact_and_the_org_admin_see_the_originals(client, make_client, factory, scene):
    client.login(scene.contact)
    page = client.get(f"/requests/{scene.sr.number}").get_data(as_text=True)
    assert PHONE in page and EMAIL in page and RESIDENT_ID in page
    admin = factory.customer(scene.org, admin=True)
    other = make_client()
    other.login(admin)
    page = other.get(f"/requests/{scene.sr.number}").get_data(as_text=True)
    assert PHONE in page and RESIDENT_ID in page


def test_e_mails_to_people_outside_the_request_carry_no_personal_data(db_session, scene):
    insiders = {
        a.email
        for a in db_session.scalars(
            select(Account).where(Account.id.in_([scene.handler.id, scene.contact.id]))
        )
    } | {EMAIL}
    outbox = db_session.scalars(select(EmailOutbox)).all()
    leaks = [
        (mail.to_address, secret)
        for mail in outbox
        if mail.to_address not in insiders
        for secret in SECRETS
        if secret in f"{mail.subject}\n{mail.body_text}\n{mail.body_html or ''}"
    ]
    assert leaks == []
