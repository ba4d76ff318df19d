"""Warnings, escalations and the other timed notices (docs/product.md §4, §2 step 6): each fires once.

``fire`` records the SlaEvent (unique on request, kind, due_at) in a savepoint first; if another
worker or sweep got there before, the insert conflicts and nothing else happens. Otherwise the
notifications, the e-mails (outbox rows), the audit entry and the request's escalation level are
written in the same transaction, so they exist exactly when the event does.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import metrics
from portal.domain.sla import family
from portal.models import Account, ImprovementMeasure, Message, ServiceRequest, SlaEvent
from portal.services import audit, group_bots, handoffs
from portal.services.notifications import notify
from portal.services.timers import Deadline

# whom each kind of event tells; "handler", "contact", "owner" are people on the request;
# "customer" is the contact and, where the organisation wants it, its org admins
# (portal.services.handoffs.customer_side)
RECIPIENTS: dict[str, tuple[str, ...]] = {
    "warn": ("handler", "dispatcher"),
    "breach": ("supervisor",),
    "escalation": ("admin",),
    "not_started": ("dispatcher",),
    "feedback_invite": ("contact",),
    "acceptance_reminder": ("customer",),
    "feedback_reminder": ("contact",),
    "feedback_close": (),
    "measure_overdue": ("owner", "supervisor"),
    "measure_due_soon": ("owner",),
}
LEVEL = {"breach": 1, "escalation": 2}
# the notices that ask for feedback while its window is open (once it passed, the request closes)
FEEDBACK_NOTICES = ("feedback_invite", "feedback_reminder")

# --- firing ------------------------------------------------------------------------------------


def recipients(
    session: Session, sr: ServiceRequest, kind: str, measure: ImprovementMeasure | None = None
) -> list[Account]:
    wanted = RECIPIENTS.get(family(kind), ())
    roles = {w for w in wanted if w in ("dispatcher", "supervisor", "admin")}
    people: dict[int, Account] = {a.id: a for a in handoffs.staff_with(session, roles)}
    ids = []
    if "handler" in wanted and sr.handler_id:
        ids.append(sr.handler_id)
    if "contact" in wanted:
        ids.append(sr.contact_id)
    if "customer" in wanted:
        ids.extend(handoffs.customer_side(session, sr))
    if "owner" in wanted and measure is not None:
        ids.append(measure.owner_id)
    for account_id in ids:
        if account_id not in people:
            account = session.get(Account, account_id)
            if account is not None and account.active:
                people[account.id] = account
    return list(people.values())


def _test_hook(kind: str) -> None:
    """Tests only: stop between the insert and the commit (then the test kills the worker)."""
    marker = os.environ.get("PORTAL_TEST_SLA_PAUSE_FILE")
    if marker and os.environ.get("PORTAL_TEST_SLA_PAUSE_KIND", kind) == kind:
        Path(marker).write_text(str(os.getpid()))
        time.sleep(float(os.environ.get("PORTAL_TEST_SLA_PAUSE_SECONDS", "30")))


def fire(session: Session, sr: ServiceRequest, deadline: Deadline, now: datetime) -> bool:
    """Record ``deadline``'s event once, with its notifications, e-mails and audit entry, in the
    caller's transaction. False when it was already recorded (nothing else is written)."""
    fam = family(deadline.kind)
    measure = None
    if fam in ("measure_overdue", "measure_due_soon"):
        measure = session.get(ImprovementMeasure, int(deadline.kind.split(":", 1)[1]))
    savepoint = session.begin_nested()
    try:
        session.add(
            SlaEvent(
                request_id=sr.id,
                kind=deadline.kind,
                due_at=deadline.due_at,
                fired_at=now,
                detail={
                    "fire_at": deadline.fire_at.isoformat(),
                    "late_seconds": _late(deadline, now),
                },
            )
        )
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        return False
    savepoint.commit()
    metrics.record_sla_event(fam, _late(deadline, now))
    _test_hook(deadline.kind)

    params = {"number": sr.number, "due": _shown_due(sr, deadline).isoformat()}
    if fam == "warn":
        params["percent"] = _warn_percent(session, sr)
    if measure is not None:
        params["measure"] = measure.measure[:80]
        params["day"] = measure.deadline.isoformat()
    before_level = sr.escalation_level
    if fam in LEVEL and sr.escalation_level < LEVEL[fam]:
        sr.escalation_level = LEVEL[fam]
    told = []
    mails = session.info.setdefault("portal_sla_mails", [])
    for person in recipients(session, sr, deadline.kind, measure):
        key = f"sla:{sr.id}:{deadline.kind}:{deadline.due_epoch}:{person.id}"
        # the notification and its mail (sent by the firing job after its commit)
        notify(session, person.id, deadline.kind, sr.id, params, dedupe_key=key, mails=mails)
        told.append(person.id)
    # the group chats subscribed to warnings or escalations: one message per bot and event
    group_bots.tell_sla(
        session, sr, deadline.kind, deadline.due_epoch, _shown_due(sr, deadline), mails
    )
    if fam == "feedback_close":
        _close_without_feedback(session, sr, deadline, now)
    audit.record(
        session,
        audit.SYSTEM,
        now,
        f"sla.{deadline.kind.split(':', 1)[0]}",
        "service_request",
        sr.number,
        before={"escalation_level": before_level},
        after={
            "escalation_level": sr.escalation_level,
            "due_at": deadline.due_at.isoformat(),
            "notified": told,
        },
    )
    session.flush()
    return True


def _shown_due(sr: ServiceRequest, deadline: Deadline) -> datetime:
    # a warning and a reminder tell the deadline ahead; the others the one that passed
    if deadline.kind in FEEDBACK_NOTICES:
        return feedback_window_end(sr, deadline)
    if deadline.kind == "acceptance_reminder":
        from portal.services.timers import acceptance_window

        return acceptance_window(sr, deadline.due_at)[1]
    return deadline.due_at


def feedback_window_end(sr: ServiceRequest, deadline: Deadline) -> datetime:
    """When the feedback window of an invitation or reminder ends: the organisation's working
    days (3 by default) after the completion it belongs to (its ``due_at``), on the calendar of
    the request's organisation."""
    from portal.services.timers import feedback_calendar, feedback_days, feedback_window

    return feedback_window(deadline.due_at, feedback_calendar(sr), feedback_days(sr))[1]


def _late(deadline: Deadline, now: datetime) -> float:
    return round((now - deadline.fire_at).total_seconds(), 3)


def _warn_percent(session: Session, sr: ServiceRequest) -> int:
    from portal.services.timers import load_policies, policy_of

    return policy_of(load_policies(session), sr).warn_percent


def _close_without_feedback(
    session: Session, sr: ServiceRequest, deadline: Deadline, now: datetime
) -> None:
    from portal.services import feedback

    window = deadline.fire_at - sr.completed_at
    feedback.close_if_feedback_window_passed(session, sr, now, window)


# --- the supervisor's explanation to the customer ----------------------------------------------


class ExplanationError(ValueError):
    pass


def explain_to_customer(
    session: Session, actor: audit.Actor, sr: ServiceRequest, text: str, now: datetime
) -> Message:
    """向客户说明原因: a public message on the request, audited, the customer notified."""
    text = (text or "").strip()
    if len(text) < 10:
        raise ExplanationError(_("Write at least a sentence: what happened and what comes next."))
    message = Message(
        request_id=sr.id, author_id=actor.account_id, internal=False, body=text, created_at=now
    )
    session.add(message)
    session.flush()
    sr.updated_at = now
    handoffs.tell_customer(
        session,
        sr,
        "sla_explanation",
        {"number": sr.number, "title": sr.title},
        f"sla_explanation:{message.id}",
    )
    audit.record(
        session,
        actor,
        now,
        "sla.explanation",
        "service_request",
        sr.number,
        after={"message_id": message.id, "escalation_level": sr.escalation_level},
    )
    session.flush()
    return message
