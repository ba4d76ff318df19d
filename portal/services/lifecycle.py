"""Applying the lifecycle to the database: who the actor is to the request, the transition, its
audit event and the SLA clock, all in the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import lifecycle
from portal.models import Account, Collaborator, Organisation, ServiceRequest
from portal.services import audit


def capacities(session: Session, sr: ServiceRequest, account: Account | None) -> set[str]:
    """What ``account`` is to ``sr``: its staff roles, handler, collaborator, customer."""
    if account is None:
        return {lifecycle.SYSTEM}
    if account.kind == "staff":
        caps = set(account.role_names)
        if sr.handler_id == account.id:
            caps.add(lifecycle.HANDLER)
        if session.scalar(
            select(Collaborator.id).where(
                Collaborator.request_id == sr.id,
                Collaborator.account_id == account.id,
                Collaborator.removed_at.is_(None),
            )
        ):
            caps.add(lifecycle.COLLABORATOR)
        return caps
    if account.organisation_id != sr.organisation_id:
        return set()
    if account.id == sr.contact_id or account.is_org_admin:
        return {lifecycle.CUSTOMER}
    may_reply = session.scalar(
        select(Organisation.colleagues_may_reply).where(Organisation.id == sr.organisation_id)
    )
    return {lifecycle.CUSTOMER} if may_reply else set()


# What a colleague of the contact (neither the contact nor an organisation admin) does on a
# request of an organisation with "colleagues may reply": the conversation only. Signing the
# acceptance, the feedback and cancelling stay with the contact and the organisation admins.
COLLEAGUE_ACTIONS = frozenset({"reply_public", "answer_customer"})


def customer_principal(sr: ServiceRequest, account: Account) -> bool:
    """The contact of the request or an admin of its organisation (客户方对接人)."""
    return account.kind == "customer" and (
        account.id == sr.contact_id
        or (account.is_org_admin and account.organisation_id == sr.organisation_id)
    )


def customer_actions(session: Session, sr: ServiceRequest, account: Account) -> set[str]:
    """The lifecycle actions the customer pages offer this customer account now."""
    actions = lifecycle.allowed_actions(sr.status, capacities(session, sr, account))
    if not customer_principal(sr, account):
        actions &= COLLEAGUE_ACTIONS
    return actions


def require_principal(sr: ServiceRequest, account: Account, action: str) -> None:
    """Refuse a principal-only action (signing, feedback) to a colleague of the contact."""
    if account.kind == "customer" and not customer_principal(sr, account):
        raise lifecycle.TransitionError("not-allowed", action, sr.status)


def apply(
    session: Session,
    actor: audit.Actor,
    caps: set[str],
    sr: ServiceRequest,
    action: str,
    now: datetime,
    detail: dict | None = None,
) -> str:
    """Check and apply ``action``; write its audit event and move the SLA clock. Returns the
    new status. Raises lifecycle.TransitionError when the action is not allowed."""
    before = sr.status
    after = lifecycle.check(action, before, caps).value
    sr.status = after
    sr.updated_at = now
    audit.record(
        session,
        actor,
        now,
        f"request.{action}",
        "service_request",
        sr.number,
        before={"status": before},
        after={"status": after, **(detail or {})},
    )
    from portal.services import sla

    sla.after_transition(session, sr, action, before, now)
    session.flush()
    return after
