"""Feedback (FB) and improvement measures on the database; closing a completed request after
feedback or after the feedback window. Services flush; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, select
from sqlalchemy.orm import Session, aliased

from portal.domain import feedback as rules
from portal.domain import lifecycle
from portal.models import (
    Account,
    Feedback,
    FeedbackReport,
    ImprovementMeasure,
    ReviewMeeting,
    ServiceRequest,
)
from portal.services import audit, handoffs
from portal.services import lifecycle as lifecycle_service
from portal.services.delivery import InvalidInput
from portal.services.numbers import next_number

# who may add improvement measures to a feedback (the supervisor analyses feedback, the agent
# collects it) and change any measure's status (besides its owner)
MEASURE_ROLES = frozenset({"agent", "supervisor", "admin"})
MEASURE_MANAGERS = frozenset({"supervisor", "admin"})


class NotAllowed(PermissionError):
    """The account may not do this (a measure that is not theirs)."""


def _draft(session: Session, draft_args: dict | None, today: date) -> rules.MeasureDraft | None:
    if not draft_args:
        return None
    try:
        draft = rules.check_measure(
            draft_args.get("measure"), draft_args.get("owner_id"), draft_args.get("deadline"), today
        )
    except rules.FeedbackError as exc:
        raise InvalidInput(
            {f"measure_{k}" if k != "measure" else k: v for k, v in exc.problems.items()}
        ) from None
    owner = session.get(Account, draft.owner_id)
    if owner is None or owner.kind != "staff" or not owner.active:
        raise InvalidInput({"measure_owner": "unknown"})
    return draft


def give(
    session: Session,
    actor: audit.Actor,
    account: Account,
    sr: ServiceRequest,
    now: datetime,
    timezone: str,
    *,
    scores: dict[str, int | None],
    suggestions: str = "",
    channel: str | None = None,
    measure: dict | None = None,
    today: date | None = None,
) -> Feedback:
    """Feedback on a completed request closes it: the customer in the portal ("give_feedback")
    or an agent from a call ("record_feedback", with its channel). ``measure`` optionally adds
    one improvement measure ({measure, owner_id, deadline}; staff only)."""
    staff = account.kind == "staff"
    action = "record_feedback" if staff else "give_feedback"
    caps = lifecycle_service.capacities(session, sr, account)
    lifecycle.check(action, sr.status, caps)
    lifecycle_service.require_principal(sr, account, action)
    problems: dict[str, str] = {}
    checked: dict[str, int] = {}
    try:
        checked = rules.check_scores(scores)
    except rules.FeedbackError as exc:
        problems.update(exc.problems)
    if staff:
        if channel not in rules.RECORDED_CHANNELS:
            problems["channel"] = "missing"
    else:
        channel = rules.PORTAL
    draft = None
    try:
        draft = _draft(session, measure, today or now.date()) if staff else None
    except InvalidInput as exc:
        problems.update(exc.problems)
    if problems:
        raise InvalidInput(problems)

    lifecycle_service.apply(session, actor, caps, sr, action, now, {"channel": channel})
    fb = Feedback(
        number=next_number(session, "FB", now, timezone),
        request_id=sr.id,
        customer_id=sr.contact_id if staff else account.id,
        channel=channel,
        recorded_by_id=account.id,
        score_response=checked["response"],
        score_effect=checked["effect"],
        score_attitude=checked["attitude"],
        mean_score=rules.mean_score(checked["response"], checked["effect"], checked["attitude"]),
        suggestions=(suggestions or "").strip(),
        created_at=now,
    )
    session.add(fb)
    sr.closed_at = now
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "feedback.given",
        "feedback",
        fb.number,
        after={
            "request": sr.number,
            "channel": channel,
            "scores": checked,
            "mean": str(fb.mean_score),
            "suggestions": fb.suggestions,
        },
    )
    if draft is not None:
        _add_measure(session, actor, fb, draft, now)
    handoffs.feedback_received(session, sr, fb)
    handoffs.request_closed(session, sr, actor_id=account.id)
    session.flush()
    return fb


def _add_measure(
    session: Session,
    actor: audit.Actor,
    fb: Feedback,
    draft: rules.MeasureDraft,
    now: datetime,
) -> ImprovementMeasure:
    row = ImprovementMeasure(
        feedback_id=fb.id,
        measure=draft.measure,
        owner_id=draft.owner_id,
        deadline=draft.deadline,
        status=rules.MEASURE_OPEN,
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "measure.added",
        "improvement_measure",
        row.id,
        after={
            "feedback": fb.number,
            "measure": row.measure,
            "owner_id": row.owner_id,
            "deadline": row.deadline.isoformat(),
        },
    )
    handoffs.measure_assigned(session, row, fb, actor_id=actor.account_id)
    return row


def add_measure(
    session: Session,
    actor: audit.Actor,
    account: Account,
    fb: Feedback,
    now: datetime,
    *,
    measure: str | None,
    owner_id: int | None,
    deadline: date | None,
    today: date,
) -> ImprovementMeasure:
    """An improvement measure on a feedback: what, an owner (staff) and a deadline."""
    if account.kind != "staff" or not (set(account.role_names) & MEASURE_ROLES):
        raise NotAllowed("measure")
    # the arguments are never empty here, so a draft comes back (or InvalidInput is raised)
    draft = _draft(session, {"measure": measure, "owner_id": owner_id, "deadline": deadline}, today)
    row = _add_measure(session, actor, fb, draft, now)
    session.flush()
    return row


def may_update(account: Account, measure: ImprovementMeasure) -> bool:
    return account.kind == "staff" and (
        measure.owner_id == account.id or bool(set(account.role_names) & MEASURE_MANAGERS)
    )


def set_measure_status(
    session: Session,
    actor: audit.Actor,
    account: Account,
    measure: ImprovementMeasure,
    status: str,
    now: datetime,
) -> ImprovementMeasure:
    """Move a measure to open / in_progress / done (its owner, a supervisor or an admin)."""
    if not may_update(account, measure):
        raise NotAllowed("measure")
    if status not in rules.MEASURE_STATUSES:
        raise InvalidInput({"status": "unknown"})
    before = measure.status
    if before == status:
        return measure
    measure.status = status
    measure.done_at = now if status == rules.MEASURE_DONE else None
    audit.record(
        session,
        actor,
        now,
        "measure.status",
        "improvement_measure",
        measure.id,
        before={"status": before},
        after={"status": status},
    )
    session.flush()
    return measure


@dataclass(frozen=True)
class MeasureRow:
    measure: ImprovementMeasure
    feedback_number: str | None  # None: from a review meeting's decision
    request_number: str | None
    owner_name: str
    overdue: bool
    report_number: str | None = None  # the monthly report whose review meeting decided it


def list_measures(
    session: Session,
    today: date,
    *,
    owner_id: int | None = None,
    state: str = "open",
    limit: int = 200,
    measure_id: int | None = None,
) -> list[MeasureRow]:
    """Measures, overdue first, then the open ones, done last, each by deadline; ``state``
    open (not done), done or all. One query."""
    owner = aliased(Account)
    # overdue first, then the other open ones, done last; each by deadline
    rank = case(
        (ImprovementMeasure.status == rules.MEASURE_DONE, 2),
        (ImprovementMeasure.deadline < today, 0),
        else_=1,
    )
    stmt = (
        select(
            ImprovementMeasure,
            Feedback.number,
            ServiceRequest.number,
            owner.name,
            FeedbackReport.number,
        )
        .outerjoin(Feedback, Feedback.id == ImprovementMeasure.feedback_id)
        .outerjoin(ServiceRequest, ServiceRequest.id == Feedback.request_id)
        .outerjoin(ReviewMeeting, ReviewMeeting.id == ImprovementMeasure.review_meeting_id)
        .outerjoin(FeedbackReport, FeedbackReport.id == ReviewMeeting.report_id)
        .join(owner, owner.id == ImprovementMeasure.owner_id)
    )
    if owner_id:
        stmt = stmt.where(ImprovementMeasure.owner_id == owner_id)
    if measure_id:
        stmt = stmt.where(ImprovementMeasure.id == measure_id)
    if state == "open":
        stmt = stmt.where(ImprovementMeasure.status != rules.MEASURE_DONE)
    elif state == "done":
        stmt = stmt.where(ImprovementMeasure.status == rules.MEASURE_DONE)
    stmt = stmt.order_by(rank, ImprovementMeasure.deadline, ImprovementMeasure.id).limit(limit)
    return [
        MeasureRow(m, fb_no, sr_no, name, rules.is_overdue(m.status, m.deadline, today), fa_no)
        for m, fb_no, sr_no, name, fa_no in session.execute(stmt)
    ]


def measure_owners(session: Session) -> list[tuple[int, str]]:
    """Who may own a measure: the active staff, (id, name) by name. One query."""
    return [
        (i, name)
        for i, name in session.execute(
            select(Account.id, Account.name)
            .where(Account.kind == "staff", Account.active.is_(True))
            .order_by(Account.name, Account.id)
        )
    ]


def find_measure(session: Session, measure_id: int | None) -> ImprovementMeasure | None:
    return session.get(ImprovementMeasure, measure_id) if measure_id else None


def feedback_of(session: Session, request_id: int) -> Feedback | None:
    """The request's feedback (a request has at most one), or None. One query."""
    return session.scalar(select(Feedback).where(Feedback.request_id == request_id))


@dataclass
class FeedbackView:
    feedback: Feedback
    recorded_by: str
    recorded_by_staff: bool
    measures: list[tuple[ImprovementMeasure, str]]  # (measure, owner name)


def load(session: Session, request_id: int) -> FeedbackView | None:
    """The request's feedback with its measures and their owners: two queries (one if none)."""
    row = session.execute(
        select(Feedback, Account.name, Account.kind)
        .join(Account, Account.id == Feedback.recorded_by_id)
        .where(Feedback.request_id == request_id)
    ).first()
    if row is None:
        return None
    fb, name, kind = row
    measures = [
        (m, owner_name)
        for m, owner_name in session.execute(
            select(ImprovementMeasure, Account.name)
            .join(Account, Account.id == ImprovementMeasure.owner_id)
            .where(ImprovementMeasure.feedback_id == fb.id)
            .order_by(ImprovementMeasure.created_at, ImprovementMeasure.id)
        )
    ]
    return FeedbackView(fb, name, kind == "staff", measures)


# ---------------------------------------------------------------------------------------------
# Closing without feedback


def close_if_feedback_window_passed(
    session: Session, sr: ServiceRequest, now: datetime, window: timedelta
) -> bool:
    """The admin-configured timeout: a completed request that got no feedback within ``window``
    of its completion closes ("close_timeout", by the system). True when it closed; False when
    it is not completed (feedback closed it, or it went back to work) or the window is still
    open. Safe to call again."""
    if sr.status != "completed" or not rules.feedback_window_passed(sr.completed_at, now, window):
        return False
    lifecycle_service.apply(
        session,
        audit.SYSTEM,
        {lifecycle.SYSTEM},
        sr,
        "close_timeout",
        now,
        {"window_seconds": int(window.total_seconds())},
    )
    sr.closed_at = now
    handoffs.request_closed(session, sr, actor_id=None)
    session.flush()
    return True
