"""Warnings, escalations and the other timed notices (DESIGN §4, §2 step 6): each fires once.

``fire`` records the SlaEvent (unique on request, kind, due_at) in a savepoint first; if another
worker or sweep got there before, the insert conflicts and nothing else happens. Otherwise the
notifications, the e-mails (outbox rows), the audit entry and the request's escalation level are
written in the same transaction, so they exist exactly when the event does.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from portal.models import (
    Account,
    AccountRole,
    HandlingStep,
    ImprovementMeasure,
    Message,
    Notification,
    Organisation,
    ServiceRequest,
    SlaEvent,
)
from portal.services import audit, outbox
from portal.services.notifications import notify
from portal.services.queue import warned
from portal.services.timers import Deadline

# whom each kind of event tells; "handler", "contact", "owner" are people on the request
RECIPIENTS: dict[str, tuple[str, ...]] = {
    "warn": ("handler", "dispatcher"),
    "breach": ("supervisor",),
    "escalation": ("admin",),
    "not_started": ("dispatcher",),
    "feedback_invite": ("contact",),
    "feedback_reminder": ("contact",),
    "feedback_close": (),
    "measure_overdue": ("owner", "supervisor"),
}
LEVEL = {"breach": 1, "escalation": 2}
# the notices that ask for feedback while its window is open (once it passed, the request closes)
FEEDBACK_NOTICES = ("feedback_invite", "feedback_reminder")

# notification texts by kind, rendered in the reader's language from Notification.params
MESSAGES = {
    "response_warn": _l(
        "%(number)s: %(percent)s%% of the response time has gone; respond by %(due)s."
    ),
    "resolution_warn": _l(
        "%(number)s: %(percent)s%% of the resolution time has gone; resolve by %(due)s."
    ),
    "response_breach": _l(
        "%(number)s: the response target was missed (due %(due)s). Escalated to you (level 1)."
    ),
    "resolution_breach": _l(
        "%(number)s: the resolution target was missed (due %(due)s). Escalated to you (level 1)."
    ),
    "response_escalation": _l(
        "%(number)s: still no response after the target of %(due)s. Escalated to you (level 2)."
    ),
    "resolution_escalation": _l(
        "%(number)s: still not resolved after the target of %(due)s. Escalated to you (level 2)."
    ),
    "not_started": _l(
        "%(number)s: assigned, but no step logged by %(due)s (overdue, not started)."
    ),
    "feedback_invite": _l(
        "%(number)s was accepted. Please rate our service by %(due)s: it takes a minute."
    ),
    "feedback_reminder": _l("%(number)s: a reminder to rate our service; the window ends %(due)s."),
    "measure_overdue": _l(
        "%(number)s: the improvement measure \u201c%(measure)s\u201d passed its deadline %(due)s."
    ),
    "request_submitted": _l("%(number)s was submitted and awaits classification."),
}
SUBJECTS = {
    "warn": _l("[%(number)s] SLA warning"),
    "breach": _l("[%(number)s] SLA breached: escalation level 1"),
    "escalation": _l("[%(number)s] SLA breached: escalation level 2"),
    "not_started": _l("[%(number)s] Overdue, not started"),
    "feedback_invite": _l("[%(number)s] How did we do?"),
    "feedback_reminder": _l("[%(number)s] Reminder: how did we do?"),
    "measure_overdue": _l("[%(number)s] Improvement measure overdue"),
}


def family(kind: str) -> str:
    """response_warn → warn, resolution_breach → breach, measure_overdue:7 → measure_overdue."""
    base = kind.split(":", 1)[0]
    for suffix in ("_warn", "_breach", "_escalation"):
        if base.endswith(suffix):
            return suffix[1:]
    return base


def describe(kind: str, params: dict) -> str:
    """A notification's text in the current locale."""
    from portal.web.filters import desk_time

    values = dict(params or {})
    if values.get("due"):
        try:
            values["due"] = desk_time(datetime.fromisoformat(values["due"]))
        except (TypeError, ValueError):
            pass
    message = MESSAGES.get(kind.split(":", 1)[0])
    if message is None:
        return _("%(number)s: %(kind)s", number=values.get("number", ""), kind=kind)
    try:
        return str(message) % {k: v for k, v in values.items()}
    except (KeyError, TypeError, ValueError):
        return _("%(number)s: %(kind)s", number=values.get("number", ""), kind=kind)


def subject(kind: str, params: dict) -> str:
    text = SUBJECTS.get(family(kind))
    return str(text) % {"number": params.get("number", "")} if text else str(params.get("number"))


# --- firing ------------------------------------------------------------------------------------


def _staff_with(session: Session, roles: set[str]) -> list[Account]:
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


def recipients(
    session: Session, sr: ServiceRequest, kind: str, measure: ImprovementMeasure | None = None
) -> list[Account]:
    wanted = RECIPIENTS.get(family(kind), ())
    roles = {w for w in wanted if w in ("dispatcher", "supervisor", "admin")}
    people: dict[int, Account] = {a.id: a for a in _staff_with(session, roles)}
    ids = []
    if "handler" in wanted and sr.handler_id:
        ids.append(sr.handler_id)
    if "contact" in wanted:
        ids.append(sr.contact_id)
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
    if fam == "measure_overdue":
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
    _test_hook(deadline.kind)

    params = {"number": sr.number, "due": _shown_due(sr, deadline).isoformat()}
    if fam == "warn":
        params["percent"] = _warn_percent(session, sr)
    if measure is not None:
        params["measure"] = measure.measure[:80]
    before_level = sr.escalation_level
    if fam in LEVEL and sr.escalation_level < LEVEL[fam]:
        sr.escalation_level = LEVEL[fam]
    told = []
    mails = session.info.setdefault("portal_sla_mails", [])
    for person in recipients(session, sr, deadline.kind, measure):
        key = f"sla:{sr.id}:{deadline.kind}:{deadline.due_epoch}:{person.id}"
        notify(session, person.id, deadline.kind, sr.id, params, dedupe_key=key)
        if person.email:
            with force_locale(person.locale or "zh_CN"):
                mail = outbox.add(
                    session,
                    to_address=person.email,
                    subject=subject(deadline.kind, params),
                    body_text=describe(deadline.kind, params) + "\n\n" + _("— Service Desk"),
                    dedupe_key=key,
                    meta={"request_id": sr.id, "kind": deadline.kind},
                    enqueue=False,  # the firing job sends them after its commit
                )
                if mail is not None:
                    mails.append(mail.id)
        told.append(person.id)
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
    return deadline.due_at


def feedback_window_end(sr: ServiceRequest, deadline: Deadline) -> datetime:
    """When the feedback window of an invitation or reminder ends: 3 working days after the
    completion it belongs to (its ``due_at``), on the calendar of the request's organisation."""
    from portal.services.timers import feedback_calendar, feedback_window

    return feedback_window(deadline.due_at, feedback_calendar(sr))[1]


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
    notify(
        session,
        sr.contact_id,
        "sla_explanation",
        sr.id,
        {"number": sr.number},
        dedupe_key=f"sla_explanation:{message.id}",
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


MESSAGES["sla_explanation"] = _l("%(number)s: the service desk explains a delay.")


# --- the dispatcher's board (SCREENS: Board) ---------------------------------------------------

BOARD_LIMIT = 50


@dataclass(frozen=True)
class BoardRow:
    id: int
    number: str
    title: str
    organisation: str
    priority: str | None
    status: str
    handler: str | None
    due_at: datetime | None
    escalation_level: int


@dataclass
class EngineerLoad:
    id: int
    name: str
    open_by_priority: dict[str, int]
    hours_this_week: Decimal

    @property
    def open_total(self) -> int:
        return sum(self.open_by_priority.values())


@dataclass
class Board:
    breached: list[BoardRow]
    at_risk: list[BoardRow]
    not_started: list[BoardRow]
    awaiting_customer: list[BoardRow]
    engineers: list[EngineerLoad]
    limit: int = BOARD_LIMIT


def _board_rows(session: Session, where, due, order) -> list[BoardRow]:
    SR = ServiceRequest
    Handler = aliased(Account)
    rows = session.execute(
        select(
            SR.id,
            SR.number,
            SR.title,
            Organisation.name,
            SR.priority,
            SR.status,
            Handler.name,
            due.label("due_at"),
            SR.escalation_level,
        )
        .join(Organisation, Organisation.id == SR.organisation_id)
        .outerjoin(Handler, Handler.id == SR.handler_id)
        .where(where)
        .order_by(order, SR.id)
        .limit(BOARD_LIMIT + 1)
    ).all()
    return [BoardRow(*r) for r in rows]


def board(session: Session, now: datetime, timezone: str) -> Board:
    """Seven queries whatever the number of requests: four lists of at most 50 (+1 to say
    "more"), the engineers, their open load and their hours this week."""
    from portal.services.timers import OPEN, RUNNING

    SR = ServiceRequest
    resolution_running = and_(
        SR.status.in_(RUNNING), SR.paused_since.is_(None), SR.resolution_due_at.is_not(None)
    )
    response_running = and_(
        SR.status.in_(OPEN), SR.first_response_at.is_(None), SR.response_due_at.is_not(None)
    )
    res_breached = and_(resolution_running, SR.resolution_due_at < now)
    resp_breached = and_(response_running, SR.response_due_at < now)
    # the due time that matters: the response's while it is outstanding, else the resolution's
    due = case(
        (and_(response_running, SR.response_due_at < SR.resolution_due_at), SR.response_due_at),
        (response_running & SR.resolution_due_at.is_(None), SR.response_due_at),
        else_=SR.resolution_due_at,
    )

    breached = _board_rows(session, or_(res_breached, resp_breached), due, due.asc())
    # at risk: a running clock whose stored warning instant has come, as on the queue's badge
    at_risk = _board_rows(
        session,
        and_(
            ~or_(res_breached, resp_breached),
            or_(
                and_(resolution_running, warned(SR.resolution_warn_at, now)),
                and_(response_running, warned(SR.response_warn_at, now)),
            ),
        ),
        due,
        due.asc(),
    )
    not_started = _board_rows(
        session,
        and_(
            SR.status == "in_progress",
            SR.work_started_at.is_(None),
            exists().where(SlaEvent.request_id == SR.id, SlaEvent.kind == "not_started"),
        ),
        SR.assigned_at,
        SR.assigned_at.asc(),
    )
    awaiting = _board_rows(
        session, SR.status == "awaiting_customer", SR.paused_since, SR.paused_since.asc()
    )

    engineers = session.execute(
        select(Account.id, Account.name)
        .join(AccountRole, AccountRole.account_id == Account.id)
        .where(AccountRole.role == "engineer", Account.active.is_(True))
        .order_by(Account.name, Account.id)
    ).all()
    load: dict[int, dict[str, int]] = {}
    for handler_id, priority, n in session.execute(
        select(SR.handler_id, SR.priority, func.count())
        .where(SR.status.in_(OPEN), SR.handler_id.is_not(None))
        .group_by(SR.handler_id, SR.priority)
    ):
        load.setdefault(handler_id, {})[priority or "-"] = n
    local = now.astimezone(ZoneInfo(timezone))
    week_start = datetime.combine(
        local.date() - timedelta(days=local.weekday()), clock_time(0), ZoneInfo(timezone)
    )
    hours = dict(
        session.execute(
            select(HandlingStep.author_id, func.coalesce(func.sum(HandlingStep.hours), 0))
            .where(HandlingStep.occurred_at >= week_start, HandlingStep.occurred_at <= now)
            .group_by(HandlingStep.author_id)
        ).all()
    )
    return Board(
        breached=breached,
        at_risk=at_risk,
        not_started=not_started,
        awaiting_customer=awaiting,
        engineers=[
            EngineerLoad(eid, name, load.get(eid, {}), Decimal(hours.get(eid, 0) or 0))
            for eid, name in engineers
        ],
    )


# --- notifications -----------------------------------------------------------------------------


def unread_count(session: Session, account_id: int, cap: int = 99) -> int:
    """Unread notifications, counted up to ``cap`` + 1 (the badge says "99+")."""
    return session.scalar(
        select(func.count()).select_from(
            select(Notification.id)
            .where(Notification.recipient_id == account_id, Notification.read_at.is_(None))
            .limit(cap + 1)
            .subquery()
        )
    )


def latest_notifications(session: Session, account_id: int, limit: int = 50):
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.recipient_id == account_id)
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


def mark_read(session: Session, account_id: int, now: datetime, notification_id: int | None) -> int:
    """Mark one (or, with None, every) unread notification of ``account_id`` read."""
    stmt = update(Notification).where(
        Notification.recipient_id == account_id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    return session.execute(
        stmt.values(read_at=now).execution_options(synchronize_session=False)
    ).rowcount
