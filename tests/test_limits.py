"""Limits (docs/product.md §11): failed logins per account whichever identifier was typed and
per IP address, race-safe; limits on "forgot password", submission, search and the strength
meter; the client's address from X-Forwarded-For only through ProxyFix."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import sessionmaker

from portal import create_app, limits
from portal.db import make_engine
from portal.models import Account, AuditEvent, LoginSession, Organisation, ServiceRequest, utcnow
from portal.services import accounts, audit, login_lockout
from tests.conftest import CHEAP_HASH, PortalClient
from tests.factories import PASSWORD
from tests.test_auth import alert, attempt, english, from_ip, token_in


def _locks(db_session, account) -> int:
    return db_session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "account.locked", AuditEvent.object_id == str(account.id))
    )


# --- one count per account ----------------------------------------------------------------------


def test_the_mobile_number_shares_the_e_mails_lockout(client, factory, app, db_session):
    user = factory.customer(phone="13912345678")
    english(client)
    for _ in range(app.config["LOGIN_LIMITS"]["per_account"]):
        assert attempt(client, "customer", user.email, "wrong-password").status_code == 401
    # locked: the right password with the account's phone number is refused too
    by_phone = attempt(client, "customer", "13912345678", PASSWORD)
    assert by_phone.status_code == 429
    assert alert(by_phone).startswith("Too many failed attempts.")
    assert token_in(client) is None
    assert _locks(db_session, user) == 1


def test_failures_by_either_identifier_add_up(client, factory, app):
    user = factory.customer(phone="13912345679")
    limit = app.config["LOGIN_LIMITS"]["per_account"]
    for n in range(limit):
        identifier = user.email if n % 2 else "13912345679"
        assert attempt(client, "customer", identifier, "wrong-password").status_code == 401
    assert attempt(client, "customer", user.email, PASSWORD).status_code == 429


def test_a_lock_is_audited_once_however_many_attempts_follow(client, factory, app, db_session):
    user = factory.customer()
    for _ in range(app.config["LOGIN_LIMITS"]["per_account"] + 6):
        attempt(client, "customer", user.email, "wrong-password")
    assert _locks(db_session, user) == 1
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "account.locked")
    ).one()
    assert event.actor_id is None and event.after == {"failures": 5}


def test_a_correct_password_checked_while_the_lock_falls_is_refused(
    app, factory, db_session, monkeypatch
):
    """The lock is checked again after the password: a right password whose (slow) check
    overlapped the wrong attempts that locked the account does not log in."""
    user = factory.customer()
    checking, locked = threading.Event(), threading.Event()
    real = accounts.password_matches

    def slow(account, password):
        if password == PASSWORD:
            checking.set()
            assert locked.wait(timeout=10)
        return real(account, password)

    monkeypatch.setattr(accounts, "password_matches", slow)
    results = {}
    with app.test_request_context():
        lockout = limits.login_lockout()

    def right():
        with app.app_context():
            results["right"] = login_lockout.attempt(
                db_session, lockout, "customer", user.email, PASSWORD, ip="192.0.2.1", now=utcnow()
            )

    thread = threading.Thread(target=right)
    thread.start()
    assert checking.wait(timeout=10)
    subject = lockout.subject("customer", user.email, user)
    for _ in range(app.config["LOGIN_LIMITS"]["per_account"]):
        lockout.failed(subject, "192.0.2.2")
    locked.set()
    thread.join(timeout=10)
    assert results["right"].account is None and results["right"].retry_after > 0


def test_failures_per_address_whatever_the_identities(client, factory, app):
    per_ip = app.config["LOGIN_LIMITS"]["per_ip"]
    user = factory.customer()
    english(from_ip(client, "198.51.100.40"))
    for n in range(per_ip):
        assert attempt(client, "customer", f"guess{n}@example.com", "wrong").status_code == 401
    assert attempt(client, "customer", user.email, PASSWORD).status_code == 429


# --- the client's address and ProxyFix ------------------------------------------------------------


def test_without_proxy_fix_a_forwarded_header_is_not_believed(client, factory, app):
    user = factory.customer()
    per_ip = app.config["LOGIN_LIMITS"]["per_ip"]
    for n in range(per_ip):
        # a client that makes up a new address each time is still one address
        resp = client.post(
            "/login",
            data={"identifier": f"guess{n}@example.com", "password": "wrong"},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        )
        assert resp.status_code == 401
    assert attempt(client, "customer", user.email, PASSWORD).status_code == 429


@pytest.fixture
def proxied_app(database_url, redis_url, tmp_path):
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "proxy-test",
            "PASSWORD_HASH": CHEAP_HASH,
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "BABEL_DEFAULT_LOCALE": "en",
            "PROXY_FIX_X_FOR": 1,
        }
    )


def test_behind_one_trusted_proxy_the_forwarded_address_counts(proxied_app):
    per_ip = proxied_app.config["LOGIN_LIMITS"]["per_ip"]
    browser = PortalClient(proxied_app)

    def guess(n: int, forwarded: str):
        return browser.post(
            "/login",
            data={"identifier": f"guess{n}@example.com", "password": "wrong"},
            # the client's own claim first, then the address our one proxy saw
            headers={"X-Forwarded-For": f"10.9.9.{n}, {forwarded}"},
        )

    for n in range(per_ip):
        assert guess(n, "203.0.113.7").status_code == 401
    assert guess(99, "203.0.113.7").status_code == 429
    # another client behind the same proxy is not locked out with the first
    assert guess(100, "203.0.113.8").status_code == 401


# --- the routes' limits ---------------------------------------------------------------------------


def _form():
    return {
        "type": "fault",
        "urgency": "P2",
        "title": "打印机无法连接",
        "description": "三楼的打印机从今天早上开始无法连接,提示脱机。",
        "expected_completion": "",
        "contact_name": "李小红",
        "contact_phone": "13900001234",
        "contact_email": "li@example.com",
    }


def test_submissions_per_person_are_limited(client, factory, app, db_session, monkeypatch):
    monkeypatch.setitem(app.config["RATE_LIMITS"], "submission", "2 per hour")
    user = factory.customer()
    english(client).login(user)
    for _ in range(2):
        assert client.post("/requests/new", data=_form()).status_code == 302
    refused = client.post("/requests/new", data=_form())
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "Too many requests" in page and "Please wait 60 minutes" in page
    assert int(refused.headers["Retry-After"]) > 0
    count = db_session.scalar(
        select(func.count()).select_from(ServiceRequest).where(ServiceRequest.contact_id == user.id)
    )
    assert count == 2
    # the form itself is still there to read
    assert client.get("/requests/new").status_code == 200
    # another person is not limited by the first
    other = PortalClient(app)
    other.login(factory.customer())
    assert other.post("/requests/new", data=_form()).status_code == 302


def test_the_429_page_speaks_chinese(client, factory, app, monkeypatch):
    monkeypatch.setitem(app.config["RATE_LIMITS"], "submission", "1 per hour")
    client.login(factory.customer(locale="zh_CN"))
    client.post("/requests/new", data=_form())
    page = client.post("/requests/new", data=_form()).get_data(as_text=True)
    assert "请求过于频繁" in page


def test_queue_searches_are_limited_and_plain_lists_are_not(client, factory, app, monkeypatch):
    monkeypatch.setitem(app.config["RATE_LIMITS"], "search", "2 per minute")
    client.login(factory.staff("agent"))
    assert client.get("/staff/queue?q=printer").status_code == 200
    assert client.get("/staff/queue?q=scanner").status_code == 200
    assert client.get("/staff/queue?q=router").status_code == 429
    for _ in range(3):
        assert client.get("/staff/queue").status_code == 200


def test_forgot_password_posts_per_address_are_limited(make_client, app, monkeypatch):
    monkeypatch.setitem(app.config["RATE_LIMITS"], "password_reset", "2 per hour")
    browser = make_client()
    for n in range(2):
        assert (
            browser.post("/password/forgot", data={"email": f"a{n}@example.com"}).status_code == 200
        )
    assert browser.post("/password/forgot", data={"email": "a9@example.com"}).status_code == 429
    # the page to ask is still there
    assert browser.get("/password/forgot").status_code == 200


def test_the_strength_meter_is_limited(make_client, app, monkeypatch):
    monkeypatch.setitem(app.config["RATE_LIMITS"], "strength", "3 per minute")
    browser = make_client()
    answers = [
        browser.post("/password/strength", data={"new_password": "x" * n}).status_code
        for n in range(1, 5)
    ]
    assert answers == [200, 200, 200, 429]


# --- the race, for real: PostgreSQL and Redis, threads --------------------------------------------


@pytest.mark.postgres
def test_fifty_concurrent_wrong_attempts_lock_once_and_no_right_one_gets_in(app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL): concurrent writers")
    engine = make_engine(database_url, pool_size=40, max_overflow=0)
    Session = sessionmaker(engine, expire_on_commit=False)
    tag = uuid.uuid4().hex[:10]
    phone = f"139{int(tag, 16) % 10**8:08d}"
    with Session() as s:
        org = Organisation(name=f"Lockout {tag}", code=f"LOCK{tag}")
        s.add(org)
        s.flush()
        account = accounts.create_account(
            s,
            kind="customer",
            email=f"lockout-{tag}@example.com",
            name="并发登录",
            password=PASSWORD,
            phone=phone,
            organisation_id=org.id,
        )
        s.commit()
        account_id, email, org_id = account.id, account.email, org.id

    def one(identifier: str, password: str, n: int, barrier: threading.Barrier):
        with app.test_request_context(), Session() as s:
            lockout = limits.login_lockout()
            barrier.wait(timeout=30)
            result = login_lockout.attempt(
                s,
                lockout,
                "customer",
                identifier,
                password,
                ip=f"198.51.{n // 250}.{n % 250}",
                now=utcnow(),
            )
            s.commit()
            return result

    try:
        # 50 wrong attempts at once, half by e-mail and half by phone number
        barrier = threading.Barrier(50)
        with ThreadPoolExecutor(max_workers=50) as pool:
            wrong = list(
                pool.map(
                    lambda n: one(email if n % 2 else phone, "wrong-password", n, barrier),
                    range(50),
                )
            )
        assert all(r.account is None for r in wrong)
        with Session() as s:
            locks = s.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(
                    AuditEvent.action == "account.locked", AuditEvent.object_id == str(account_id)
                )
            )
        assert locks == 1
        # while locked: 20 right and 20 wrong attempts at once, none gets in, no second lock
        barrier = threading.Barrier(40)
        with ThreadPoolExecutor(max_workers=40) as pool:
            mixed = list(
                pool.map(
                    lambda n: one(
                        email if n % 4 < 2 else phone,
                        PASSWORD if n % 2 else "wrong-password",
                        100 + n,
                        barrier,
                    ),
                    range(40),
                )
            )
        assert all(r.account is None for r in mixed)
        assert all(r.retry_after > 0 for r in mixed)
        with Session() as s:
            assert (
                s.scalar(
                    select(func.count())
                    .select_from(AuditEvent)
                    .where(AuditEvent.action == "account.locked")
                    .where(AuditEvent.object_id == str(account_id))
                )
                == 1
            )
    finally:
        with Session() as s:
            with audit.unguarded(s):
                s.execute(
                    delete(AuditEvent).where(
                        AuditEvent.object_type == "account",
                        AuditEvent.object_id == str(account_id),
                    )
                )
            s.execute(delete(LoginSession).where(LoginSession.account_id == account_id))
            s.execute(delete(Account).where(Account.id == account_id))
            s.execute(delete(Organisation).where(Organisation.id == org_id))
            s.commit()
        engine.dispose()


def test_each_app_keeps_its_own_limits_storage(app, tmp_path):
    """Another app in the same process (the CLI, a test's own) does not move this app's limits
    into its storage."""
    other = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}",
            "REDIS_URL": None,
            "SECRET_KEY": "other",
            "PASSWORD_HASH": CHEAP_HASH,
        }
    )
    with other.app_context():
        assert type(limits.storage()).__name__ == "MemoryStorage"
    with app.app_context():
        assert type(limits.storage()).__name__ == "RedisStorage"
