"""Invitations and password reset by e-mail: single-use links that set a password.

A link carries a signed token (itsdangerous, the app's SECRET_KEY, a salt per purpose) whose
payload is the account id, the purpose and a fingerprint of the account's CURRENT password
hash. Setting a password changes the hash, so a link works once; a password changed any other
way invalidates it too. Links are built from PORTAL_BASE_URL, never from the request's Host.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from limits import RateLimitItemPerSecond
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import security
from portal.domain import password_policy
from portal.domain.masking import mask_email
from portal.domain.vocabulary import AccountKind
from portal.models import Account
from portal.services import audit, outbox
from portal.services.accounts import check_new_password, password_strength, revoke_all_sessions
from portal.services.audit import Actor
from portal.services.mail import recipient_locale, render_mail

log = logging.getLogger(__name__)

INVITATION = "invitation"
RESET = "reset"
PURPOSES = (INVITATION, RESET)
DEFAULT_BASE_URL = "http://127.0.0.1:5000"


class LinkError(Exception):
    """A password link that cannot be used."""


class LinkExpired(LinkError):
    """The link was genuine but is older than its purpose allows."""


class LinkInvalid(LinkError):
    """Used already, superseded by a password change, tampered with, or for another purpose."""


# --- tokens ---------------------------------------------------------------------------------


def max_age(purpose: str) -> timedelta:
    config = current_app.config
    if purpose == INVITATION:
        return timedelta(hours=float(config.get("INVITATION_MAX_AGE_HOURS", 72)))
    if purpose == RESET:
        return timedelta(minutes=float(config.get("PASSWORD_RESET_MAX_AGE_MINUTES", 60)))
    raise ValueError(purpose)


def _serializer(purpose: str, now: datetime) -> URLSafeTimedSerializer:
    stamp = int(now.timestamp())

    class _Signer(TimestampSigner):
        # the clock of the use case, not the wall clock (tests and jobs pass ``now``)
        def get_timestamp(self) -> int:
            return stamp

    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=f"portal.password-link.{purpose}", signer=_Signer
    )


def fingerprint(password_hash: str) -> str:
    """A keyed digest of the password hash: changes whenever the password does, and tells
    nothing about it."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, password_hash.encode(), hashlib.sha256).hexdigest()[:24]


def make_token(account: Account, purpose: str, now: datetime) -> str:
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    payload = {"a": account.id, "p": purpose, "h": fingerprint(account.password_hash)}
    return _serializer(purpose, now).dumps(payload)


def base_url() -> str:
    return (current_app.config.get("PORTAL_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")


def link_path(kind: str, purpose: str, token: str) -> str:
    side = "/staff" if kind == AccountKind.STAFF.value else ""
    verb = "set" if purpose == INVITATION else "reset"
    return f"{side}/password/{verb}/{token}"


def link_for(account: Account, purpose: str, now: datetime) -> str:
    return base_url() + link_path(account.kind, purpose, make_token(account, purpose, now))


def check(
    session: Session, token: str, purpose: str, *, now: datetime, kind: str | None = None
) -> Account:
    """The account a link is for, or LinkExpired / LinkInvalid."""
    if purpose not in PURPOSES or not token or len(token) > 1000:
        raise LinkInvalid()
    serializer = _serializer(purpose, now)
    try:
        payload = serializer.loads(token, max_age=int(max_age(purpose).total_seconds()))
    except SignatureExpired as exc:
        # genuine but old: used already? then it is invalid rather than expired
        try:
            old = serializer.load_payload(exc.payload) if exc.payload is not None else None
        except BadSignature:
            old = None
        if _still_bound(session, old, purpose, kind):
            raise LinkExpired() from exc
        raise LinkInvalid() from exc
    except BadSignature as exc:
        raise LinkInvalid() from exc
    account = _still_bound(session, payload, purpose, kind)
    if account is None:
        raise LinkInvalid()
    return account


def _still_bound(session: Session, payload, purpose: str, kind: str | None) -> Account | None:
    if not isinstance(payload, dict) or payload.get("p") != purpose:
        return None
    account_id, fp = payload.get("a"), payload.get("h")
    if not isinstance(account_id, int) or not isinstance(fp, str):
        return None
    account = session.get(Account, account_id)
    if account is None or not account.active or (kind is not None and account.kind != kind):
        return None
    if not hmac.compare_digest(fingerprint(account.password_hash), fp):
        return None
    return account


# --- use cases ------------------------------------------------------------------------------


def _queue_link_mail(
    session: Session, account: Account, purpose: str, now: datetime, *, dedupe_key: str
) -> None:
    locale = recipient_locale(account.locale)
    age = max_age(purpose)
    mail = render_mail(
        INVITATION if purpose == INVITATION else "reset",
        locale,
        name=account.name,
        link=link_for(account, purpose, now),
        hours=int(age.total_seconds() // 3600),
        minutes=int(age.total_seconds() // 60),
        staff=account.kind == AccountKind.STAFF.value,
    )
    outbox.add(
        session,
        to_address=account.email,
        subject=mail.subject,
        body_text=mail.text,
        body_html=mail.html,
        dedupe_key=dedupe_key,
        meta={"kind": f"password_{purpose}", "account_id": account.id},
    )


def invite(session: Session, account: Account, *, actor: Actor, now: datetime) -> None:
    """Invite the account: no password works until the person sets one through the mailed
    link (valid INVITATION_MAX_AGE_HOURS). Inviting again sends a new link; the old one stops
    working (the unusable password is replaced)."""
    account.invited_at = now
    account.password_hash = security.hash_password(secrets.token_urlsafe(32))
    account.password_changed_at = now
    session.flush()
    # an invited account has no way in but the link: end any session it still had
    revoke_all_sessions(session, account.id, now)
    audit.record(
        session,
        actor,
        now,
        "staff.invited" if account.kind == AccountKind.STAFF.value else "contact.invited",
        "account",
        account.id,
        after={"name": account.name, "email": account.email},
    )
    _queue_link_mail(
        session, account, INVITATION, now, dedupe_key=f"invite:{account.id}:{now.isoformat()}"
    )


def _reset_allowed(address: str, kind: str, ip: str) -> bool:
    """Count this request against the address and the IP in the rate-limit storage
    (portal/limits.py); False beyond either limit. Without the storage: allowed (logged)."""
    from portal.limits import storage

    config = current_app.config.get(
        "PASSWORD_RESET_LIMITS", {"per_address": 3, "per_ip": 20, "window_seconds": 3600}
    )
    window = config["window_seconds"]
    digest = hashlib.sha256(address.encode()).hexdigest()[:32]
    items = [
        (RateLimitItemPerSecond(config["per_address"], window), ("reset", kind, digest)),
        (RateLimitItemPerSecond(config["per_ip"], window), ("reset-ip", kind, ip)),
    ]
    try:
        counts = [storage().incr(item.key_for(*ids), item.get_expiry()) for item, ids in items]
    except Exception as exc:  # the storage's own errors (Redis down)
        log.warning("password reset limits unavailable: %s", type(exc).__name__)
        return True
    return all(count <= item.amount for count, (item, _ids) in zip(counts, items, strict=True))


def reset_requested(session: Session, email: str, kind: str, *, now: datetime, ip: str) -> None:
    """ "Forgot password": mail a reset link if an active account of ``kind`` has this
    address; otherwise nothing. The caller answers the same either way. Requests are counted
    per address and per IP, known or not; beyond the limit they are dropped silently."""
    address = (email or "").strip().lower()
    if not address or "@" not in address or len(address) > 254:
        return
    if not _reset_allowed(address, kind, ip or "-"):
        log.info("password reset for %s dropped: too many requests", mask_email(address))
        return
    account = session.scalars(
        select(Account).where(
            func.lower(Account.email) == address,
            Account.kind == kind,
            Account.active.is_(True),
        )
    ).first()
    if account is None:
        return
    _queue_link_mail(
        session, account, RESET, now, dedupe_key=f"reset:{account.id}:{now.isoformat()}"
    )


def redeem(
    session: Session,
    token: str,
    purpose: str,
    new_password: str,
    *,
    now: datetime,
    ip: str | None,
    kind: str | None = None,
) -> Account:
    """Set the password through a link: LinkExpired / LinkInvalid, or PasswordRefused for a
    password the rules refuse. Clears the invitation and ends ALL the account's sessions."""
    account = check(session, token, purpose, now=now, kind=kind)
    check_new_password(new_password, name=account.name, email=account.email)
    account.password_hash = security.hash_password(new_password)
    account.password_changed_at = now
    account.invited_at = None
    session.flush()
    ended = revoke_all_sessions(session, account.id, now)
    audit.record(
        session,
        Actor(account.id, ip=ip),
        now,
        "account.password_set_by_link",
        "account",
        account.id,
        after={"link": purpose, "sessions_ended": ended},
    )
    return account


def link_password_strength(
    session: Session, token: str, purpose: str, password: str, *, now: datetime, kind: str
) -> password_policy.Strength:
    """The strength meter on a password link's page: judged against the name and address of
    the link's account when the link is good, against the common passwords alone when not (the
    answer never tells more than the page itself does). Reads only."""
    try:
        account = check(session, token, purpose, now=now, kind=kind)
    except LinkError:
        account = None
    return password_strength(
        password,
        name=account.name if account else None,
        email=account.email if account else None,
    )
