"""Who is told at each hand-off of a request (docs/product.md §9, "Who is told what").

The services that make a hand-off (a delivery, a signature, a feedback, a closing, a measure)
call these in their own transaction, so the notifications (and their mails) exist exactly when
the hand-off does. Each notification carries only what its reader may see: the signer's name is
masked, scores and item texts are the request's own record.

- The customer side: the contact, plus the organisation's active org admins when the
  organisation asks for that (``Organisation.notify_org_admins``); never the person who acted.
- The handler: what the customer did (acceptance failed or passed, feedback received).
- Supervisors and dispatchers: a failed acceptance, and a low score (any dimension ≤ 2).
- A measure's owner: the measure assigned (due soon and overdue are timed: portal.jobs_sla).
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import feedback as feedback_rules
from portal.domain.masking import mask_name
from portal.models import (
    Account,
    AccountRole,
    Delivery,
    Feedback,
    ImprovementMeasure,
    Organisation,
    ServiceRequest,
)
from portal.services.notifications import notify

# the numbering of the unmet criteria on the acceptance form ("1. 故障报告内容完整")
_NUMBERED = re.compile(r"^\d+\.\s+")
# a score at or below this, in any dimension, is a low score for supervisors and dispatchers
LOW_SCORE = 2
# the staff roles told of a failed acceptance and of a low score
OVERSIGHT_ROLES = frozenset({"supervisor", "dispatcher"})


def staff_with(session: Session, roles: set[str] | frozenset[str]) -> list[Account]:
    """Active staff holding any of ``roles``, each once, in id order."""
    if not roles:
        return []
    return list(
        session.scalars(
            select(Account)
            .join(AccountRole, AccountRole.account_id == Account.id)
            .where(AccountRole.role.in_(roles), Account.active.is_(True))
            .distinct()
            .order_by(Account.id)
        )
    )


def customer_side(session: Session, sr: ServiceRequest) -> list[int]:
    """The contact of ``sr``, then its organisation's active org admins when the organisation
    wants them told (each once)."""
    ids = [sr.contact_id]
    wants = session.scalar(
        select(Organisation.notify_org_admins).where(Organisation.id == sr.organisation_id)
    )
    if wants:
        ids += [
            account_id
            for account_id in session.scalars(
                select(Account.id)
                .where(
                    Account.organisation_id == sr.organisation_id,
                    Account.is_org_admin.is_(True),
                    Account.active.is_(True),
                )
                .order_by(Account.id)
            )
            if account_id != sr.contact_id
        ]
    return ids


def tell_customer(
    session: Session,
    sr: ServiceRequest,
    kind: str,
    params: dict,
    key: str,
    *,
    actor_id: int | None = None,
    mails: list[int] | None = None,
) -> int:
    """Notify the customer side of ``sr`` (less ``actor_id``); ``key`` is the contact's dedupe
    key, an org admin's is ``key:account id``. Returns how many were added."""
    told = 0
    for account_id in customer_side(session, sr):
        if account_id == actor_id:
            continue
        own = key if account_id == sr.contact_id else f"{key}:{account_id}"
        told += notify(session, account_id, kind, sr.id, params, dedupe_key=own, mails=mails)
    return told


def _tell(session: Session, ids: list[int], kind: str, sr: ServiceRequest, params: dict, key: str):
    seen: set[int] = set()
    for account_id in ids:
        if account_id is None or account_id in seen:
            continue
        seen.add(account_id)
        notify(session, account_id, kind, sr.id, params, dedupe_key=f"{key}:{account_id}")


def _signer_name(session: Session, account_id: int | None) -> str:
    account = session.get(Account, account_id) if account_id else None
    return mask_name(account.name if account is not None else "")


# --- delivery and acceptance -------------------------------------------------------------------


def delivery_ready(session: Session, sr: ServiceRequest, dlv: Delivery) -> None:
    """The handler delivered: the customer side is asked to accept, by the acceptance window's
    end (3 working days, portal.services.timers.acceptance_window)."""
    from portal.services.timers import acceptance_window

    _reminder, end = acceptance_window(sr, dlv.delivered_at)
    params = {"number": sr.number, "title": sr.title, "sd": dlv.number, "due": end.isoformat()}
    tell_customer(session, sr, "delivery_ready", params, f"delivery_ready:{dlv.id}")


def acceptance_decided(session: Session, sr: ServiceRequest, dlv: Delivery, signer_id: int):
    """The customer signed: the handler is told either way; a failure, with its unmet items,
    also goes to supervisors and dispatchers."""
    params = {
        "number": sr.number,
        "title": sr.title,
        "sd": dlv.number,
        "signer": _signer_name(session, signer_id),
    }
    if dlv.result == "fail":
        unmet = [_NUMBERED.sub("", line) for line in (dlv.unmet_items or "").splitlines()]
        unmet = [line for line in unmet if line.strip()]
        params["unmet"] = "; ".join(unmet)[:500]
        oversight = [a.id for a in staff_with(session, OVERSIGHT_ROLES)]
        _tell(
            session,
            [sr.handler_id, *oversight],
            "acceptance_failed",
            sr,
            params,
            f"acceptance_failed:{dlv.id}",
        )
    else:
        _tell(session, [sr.handler_id], "acceptance_passed", sr, params, f"acceptance:{dlv.id}")


# --- feedback and closing ----------------------------------------------------------------------


def feedback_received(session: Session, sr: ServiceRequest, fb: Feedback) -> None:
    """The handler reads the scores; a low one (any dimension ≤ 2) also goes to supervisors
    and dispatchers."""
    scores = {
        "response": fb.score_response,
        "effect": fb.score_effect,
        "attitude": fb.score_attitude,
    }
    params = {"number": sr.number, "title": sr.title, "fb": fb.number, "mean": str(fb.mean_score)}
    params.update(scores)
    _tell(session, [sr.handler_id], "feedback_received", sr, params, f"feedback:{fb.id}")
    lowest = min(scores[d] for d in feedback_rules.DIMENSIONS)
    if lowest <= LOW_SCORE:
        oversight = [a.id for a in staff_with(session, OVERSIGHT_ROLES)]
        _tell(session, oversight, "low_score", sr, params, f"low_score:{fb.id}")


def request_closed(session: Session, sr: ServiceRequest, *, actor_id: int | None) -> None:
    """The request closed (feedback given or recorded, or the feedback window passed): the
    customer side is told, but for the customer who closed it by rating."""
    params = {"number": sr.number, "title": sr.title}
    tell_customer(session, sr, "request_closed", params, f"closed:{sr.id}", actor_id=actor_id)


# --- improvement measures ----------------------------------------------------------------------


def measure_assigned(
    session: Session, measure: ImprovementMeasure, fb: Feedback, *, actor_id: int | None
) -> None:
    """A measure's owner learns it is theirs (unless they added it themselves)."""
    if measure.owner_id == actor_id:
        return
    sr = session.get(ServiceRequest, fb.request_id)
    if sr is None:
        return
    params = {
        "number": sr.number,
        "measure": measure.measure[:80],
        "day": measure.deadline.isoformat(),
    }
    _tell(session, [measure.owner_id], "measure_assigned", sr, params, f"measure:{measure.id}")
