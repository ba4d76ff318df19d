"""Opening the requests of the periodic service plans (docs/product.md §10), exactly once.

An occurrence is due to open at the start of the working day ``lead_days`` working days before
its due day (portal/domain/plans.py). ``due`` reads which occurrences should be open by now and
are not; ``open_occurrence`` opens one: it first claims the key (plan, rule date) by writing the
occurrence row in a savepoint, then registers the delivery request through the ordinary intake
(``requests.submit``: numbered like any SR, SLA clock, audit), classifies it with the plan's
priority and gives it to the plan's default handler. A second opener racing for the same key
fails at the claim (the UNIQUE key), rolls its savepoint back and opens nothing.

The RQ job (portal/jobs_plans.py) runs every minute, enqueued by the SLA sweep under a
deterministic id, so a Redis that lost everything gets it back with the next sweep. An
occurrence found more than ``LATE_AFTER`` after its time (workers down for days) still opens,
marked late with a note saying when it should have opened.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import force_locale
from sqlalchemy import func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.domain import plans as rules
from portal.domain.classification import impact_from_proposal
from portal.domain.vocabulary import Channel, Priority, RequestType
from portal.models import Account, PlanOccurrence, ServicePlan
from portal.presentation import plans as words
from portal.presentation.formatting import desk_time
from portal.services import audit, requests, sla_policies, workflow
from portal.services.plans import calendar_of, schedule_of
from portal.services.workflow.checks import FieldError

log = logging.getLogger(__name__)

LATE_AFTER = timedelta(hours=1)
OPENED = "opened"
OPENED_LATE = "opened_late"


def open_instant(calendar, day: date) -> datetime:
    """When an occurrence opening on ``day`` opens: the start of that day's working time
    (local midnight on a day without any)."""
    periods = calendar.periods(day)
    if periods:
        return periods[0][0]
    return datetime.combine(day, time(0), tzinfo=calendar.tz).astimezone(UTC)


def due_end(calendar, day: date) -> datetime:
    """The end of an occurrence's due day: the end of its working time (midnight after a day
    without any). A delivery by then is on time."""
    periods = calendar.periods(day)
    if periods:
        return periods[-1][1]
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=calendar.tz).astimezone(UTC)


def any_running(session: Session) -> bool:
    """Whether any plan is running (not paused): the sweep enqueues the opener only then."""
    return (
        session.scalar(select(ServicePlan.id).where(ServicePlan.paused_at.is_(None)).limit(1))
        is not None
    )


@dataclass(frozen=True)
class Due:
    plan_id: int
    occurrence: rules.Occurrence
    open_at: datetime


def due(session: Session, now: datetime) -> list[Due]:
    """The occurrences of the running plans that should be open by ``now`` and are not (three
    queries whatever the number of plans). Only occurrences due from the day a plan took
    effect count (a change never reaches back); each plan is read from its latest opened one."""
    plans = list(
        session.scalars(
            select(ServicePlan).where(ServicePlan.paused_at.is_(None)).order_by(ServicePlan.id)
        )
    )
    if not plans:
        return []
    latest = dict(
        session.execute(
            select(PlanOccurrence.plan_id, func.max(PlanOccurrence.due_on))
            .where(PlanOccurrence.plan_id.in_([p.id for p in plans]))
            .group_by(PlanOccurrence.plan_id)
        ).all()
    )
    found: list[Due] = []
    calendars: dict = {}
    for plan in plans:
        calendar = calendar_of(session, plan.organisation_id, calendars)
        today = calendar.local_date(now)
        due_from = calendar.local_date(plan.effective_from)
        if plan.id in latest:
            due_from = max(due_from, latest[plan.id])
        if plan.ends_on is not None and due_from > plan.ends_on + timedelta(
            days=rules.MAX_SHIFT_DAYS
        ):
            continue
        for occ in rules.occurrences_to_open(calendar, schedule_of(plan), due_from, today):
            at = open_instant(calendar, occ.open_on)
            if at <= now:
                found.append(Due(plan.id, occ, at))
    if not found:
        return []
    opened = set(
        session.execute(
            select(PlanOccurrence.plan_id, PlanOccurrence.occurs_on).where(
                tuple_(PlanOccurrence.plan_id, PlanOccurrence.occurs_on).in_(
                    [(d.plan_id, d.occurrence.occurs_on) for d in found]
                )
            )
        ).all()
    )
    return [d for d in found if (d.plan_id, d.occurrence.occurs_on) not in opened]


def open_occurrence(
    session: Session, item: Due, now: datetime, timezone: str
) -> PlanOccurrence | None:
    """Open one occurrence's request, once: None when another opener has it (or the plan was
    paused or the contact's organisation deactivated since it was read). The caller commits."""
    plan = session.get(ServicePlan, item.plan_id, populate_existing=True)
    if plan is None or plan.paused_at is not None or not _still_due(session, plan, item):
        return None
    occ = item.occurrence
    late = now > max(item.open_at, plan.effective_from) + LATE_AFTER
    try:
        with session.begin_nested():
            row = PlanOccurrence(
                plan_id=plan.id,
                occurs_on=occ.occurs_on,
                due_on=occ.due_on,
                open_on=occ.open_on,
                status=OPENED_LATE if late else OPENED,
                opened_at=now,
            )
            session.add(row)
            session.flush()  # the claim: a racing opener stops here
            sr, note = _open_request(session, plan, occ, item.open_at, now, timezone, late)
            row.request_id = sr.id
            row.note = note
            session.flush()
    except IntegrityError:
        log.info("plan %s occurrence %s: opened by another worker", plan.id, occ.occurs_on)
        return None
    except FieldError:
        log.warning("plan %s occurrence %s: cannot open (organisation)", plan.id, occ.occurs_on)
        return None
    return row


def _still_due(session: Session, plan: ServicePlan, item: Due) -> bool:
    """Re-read before acting: the occurrence is still one of the plan as it is now (its rule
    date, due from the day the plan took effect), with the dates it has now."""
    occ = item.occurrence
    schedule = schedule_of(plan)
    if rules.rule_dates(schedule.rule, plan.starts_on, plan.ends_on, occ.occurs_on, 1) != [
        occ.occurs_on
    ]:
        return False
    calendar = calendar_of(session, plan.organisation_id)
    now_dates = rules.occurrence(calendar, occ.occurs_on, plan.shift, plan.lead_days)
    return now_dates == occ and occ.due_on >= calendar.local_date(plan.effective_from)


def _open_request(session, plan, occ, open_at, now, timezone, late):
    contact = session.get(Account, plan.contact_id)
    author = session.get(Account, plan.created_by_id)
    calendar = calendar_of(session, plan.organisation_id)
    checklist = [line for line in plan.checklist.splitlines() if line.strip()]
    with force_locale(contact.locale or "zh_CN"):
        note = (
            words.late_note(desk_time(open_at, zone=timezone), desk_time(now, zone=timezone))
            if late
            else ""
        )
        description = words.request_description(
            title=plan.title,
            service_item=plan.service_item,
            checklist=checklist,
            occ=occ,
            late_note=note,
        )
    due_at = due_end(calendar, occ.due_on)
    version = None
    if plan.sla_policy_id:
        current = sla_policies.current_version(session, plan.sla_policy_id)
        version = current.id if current is not None else None
    sr = requests.submit(
        session,
        audit.SYSTEM,
        contact,
        requests.Intake(
            type=RequestType.DELIVERY,
            proposed_urgency=Priority(plan.priority),
            title=words.request_title(plan.title, occ.due_on),
            description=description,
            expected_completion_at=due_at,
        ),
        now,
        timezone,
        channel=Channel.PLAN,
        service_plan_id=plan.id,
        sla_policy_version_id=version,
        created_by_id=plan.created_by_id,
    )
    workflow.classify(
        session,
        audit.SYSTEM,
        author,
        sr,
        workflow.ClassificationInput(
            type=RequestType.DELIVERY.value,
            category=None,
            # the answers whose suggestion is the plan's priority (domain/classification.py)
            impact_scope=impact_from_proposal(plan.priority).value,
            urgency="medium",
            business_importance="medium",
            confirmed_details=description,
            priority=plan.priority,
            expected_completion_at=due_at,
        ),
        now,
        by_plan=True,
    )
    handler = session.get(Account, plan.handler_id) if plan.handler_id else None
    if handler is not None and handler.active:
        workflow.assign(
            session,
            audit.SYSTEM,
            author,
            sr,
            handler.id,
            now,
            timezone,
            reason=plan.title,
            briefing="\n".join(checklist),
            by_plan=True,
        )
    return sr, note


def open_due(session: Session, now: datetime, timezone: str) -> dict:
    """Open every due occurrence, one transaction each (committed here). Returns counts."""
    items = due(session, now)
    session.rollback()
    opened = late = 0
    for item in items:
        row = open_occurrence(session, item, now, timezone)
        if row is None:
            session.rollback()
            continue
        session.commit()
        opened += 1
        late += int(row.status == OPENED_LATE)
    return {"due": len(items), "opened": opened, "late": late}
