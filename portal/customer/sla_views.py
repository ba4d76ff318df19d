"""sla_views: the customer's view of the SLA clock (see portal/web/panels.py).

- the request page's "Service level" panel: response and resolution due, and whether the clock
  is paused waiting for the customer (customer/_due_times.html);
- the new-request page's notice when the desk is outside working hours or a holiday is coming
  ("next working day: …"), through the template global ``desk_notice()``
  (customer/_desk_notice.html).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from flask_login import current_user

from portal.customer import bp
from portal.db import db
from portal.domain import sla as sla_rules
from portal.models import ServiceRequest, utcnow
from portal.services import calendars
from portal.services import sla as sla_service
from portal.web import panels

STOPPED = sla_service.FINISHED
# a holiday this close ahead is announced on the new-request page
HOLIDAY_NOTICE_DAYS = 3


@dataclass(frozen=True)
class DueTimes:
    response_due: datetime | None
    responded_at: datetime | None
    resolution_due: datetime | None
    paused_since: datetime | None
    pause_reason: str  # awaiting_customer / pending_acceptance / ""
    stopped: bool
    provisional: bool  # the priority is not confirmed yet: due times may still change
    response_overdue: bool
    resolution_overdue: bool
    outcomes: sla_service.Outcomes | None = None  # finished: each target met or missed


def due_times(
    sr: ServiceRequest, now: datetime, outcomes: sla_service.Outcomes | None = None
) -> DueTimes:
    stopped = sr.status in STOPPED
    running = not stopped and sr.paused_since is None
    return DueTimes(
        response_due=sr.response_due_at,
        responded_at=sr.first_response_at,
        resolution_due=sr.resolution_due_at,
        paused_since=None if stopped else sr.paused_since,
        pause_reason=sr.status if sr.paused_since and not stopped else "",
        stopped=stopped,
        provisional=sr.priority is None and not stopped,
        response_overdue=bool(
            not stopped
            and sr.first_response_at is None
            and sr.response_due_at
            and sr.response_due_at < now
        ),
        resolution_overdue=bool(running and sr.resolution_due_at and sr.resolution_due_at < now),
        outcomes=outcomes if stopped else None,
    )


@panels.provider("customer")
def _due_times_panel(session, sr, viewer, now) -> dict:
    return {"due_times": due_times(sr, now, sla_service.outcomes(session, sr))}


# --- the new-request page --------------------------------------------------------------------


@dataclass(frozen=True)
class DeskNotice:
    kind: str  # closed / holiday
    next_start: datetime  # when the desk works again
    holiday_name: str = ""
    holiday_first: date | None = None
    holiday_last: date | None = None
    around_the_clock: bool = False  # urgent requests (P1) run on the 24×7 clock


def desk_notice_for(calendar, now: datetime) -> DeskNotice | None:
    """Closed now, or a holiday within the next few days: what the customer should know."""
    today = calendar.local_date(now)
    for offset in range(HOLIDAY_NOTICE_DAYS + 1):
        day = calendar.day(today + timedelta(days=offset))
        if day.kind == "holiday":
            first = last = day.day
            while not calendar.day(first - timedelta(days=1)).working and first > today:
                first -= timedelta(days=1)
            while not calendar.day(last + timedelta(days=1)).working:
                last += timedelta(days=1)
            return DeskNotice(
                "holiday",
                calendar.next_working_start(max(now, _start_of(calendar, last))),
                day.name,
                first,
                last,
            )
    if not calendar.is_working(now):
        return DeskNotice("closed", calendar.next_working_start(now))
    return None


def _start_of(calendar, d: date) -> datetime:
    return datetime.combine(d + timedelta(days=1), datetime.min.time(), tzinfo=calendar.tz)


@bp.context_processor
def _desk_notice_global() -> dict:
    def desk_notice() -> DeskNotice | None:
        if not current_user.is_authenticated or current_user.kind != "customer":
            return None
        org_id = current_user.organisation_id
        notice = desk_notice_for(calendars.for_organisation(db.session, org_id), utcnow())
        if notice is None:
            return None
        p1 = sla_service.policy_for_priority(db.session, org_id, "P1")
        return replace(notice, around_the_clock=p1.respond_unit == sla_rules.HOURS)

    return {"desk_notice": desk_notice}
