"""From the demo's scenarios to the desk's actions, dated and in the order they happened (pure: no
database). portal.demo.builder performs them one by one through the services."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal.demo import scenario as sc
from portal.demo.people import NAMES
from portal.demo.scenario import Do, Scenario, When
from portal.domain.vocabulary import Channel, Status

# who registers a request that did not come through the portal
DESK_CHANNELS = (Channel.PHONE, Channel.EMAIL, Channel.ON_SITE)
DAY = 24 * 60  # minutes


@dataclass(frozen=True)
class Action:
    """One thing a person did on a demo request, at ``at``."""

    at: datetime
    request: int  # the scenario's position in submission order
    order: int  # its position in the request's course
    action: str
    by: str  # a person key of portal.demo.people
    args: dict = field(default_factory=dict)


def resolve(when: When, now: datetime, tz: ZoneInfo) -> datetime:
    if isinstance(when, sc.HoursAgo):
        return now - timedelta(hours=when.hours)
    hh, mm = (int(part) for part in when.clock.split(":"))
    day = (now.astimezone(tz) - timedelta(days=when.days_ago)).date()
    return datetime.combine(day, time(hh, mm), tz).astimezone(UTC)


def standard(s: Scenario, minutes_of: Callable[[When], float]) -> list[Do]:
    """The usual course of a request, as far as its outcome, in minutes after submission: the
    supervisor classifies, the dispatcher assigns, the handler confirms and works the steps one
    after the other, asks the customer or delivers; the customer accepts, the handler
    countersigns, the customer rates the service. ``minutes_of`` dates a scenario's own times."""
    outcome = s.outcome
    if outcome == Status.SUBMITTED:
        return []
    pace = 15 if s.priority == "P1" else 40
    course: list[Do] = []
    if s.priority:
        course.append(Do(pace, "classify", "supervisor"))
    if outcome == Status.CANCELLED:
        return [*course, Do(2 * pace, "cancel", "contact", {"reason": sc.SELF_RESOLVED})]
    if outcome == Status.PENDING_ASSIGNMENT:
        return course
    confirmed = 2 * pace + 10
    course += [Do(2 * pace, "assign", "dispatcher"), Do(confirmed, "confirm", "handler")]

    first = cursor = confirmed + 20.0
    for operation, hours in s.steps:  # each logged as it starts, the next when it is done
        args = {"occurred": cursor, "operation": operation, "hours": hours}
        course.append(Do(cursor, "step", "handler", args))
        cursor += float(hours) * 60
    last = cursor if s.steps else float(confirmed)
    if s.steps and outcome in (Status.IN_PROGRESS, Status.PENDING_ACCEPTANCE):
        hello = sc.HELLO.format(handler=NAMES[s.handler or ""])
        course.append(Do(first + 5, "reply", "handler", {"body": hello}))
    if s.answered:
        question, answer = s.answered
        course.append(Do(first + 10, "ask", "handler", {"what": question, "needed_in": DAY}))
        course.append(Do(first + 60, "answer", "contact", {"answer": answer}))
    if s.note:
        course.append(Do(last + 10, "note", "handler", {"body": s.note}))
    if outcome == Status.IN_PROGRESS:
        return course
    if outcome == Status.AWAITING_CUSTOMER:
        course.append(Do(last + 30, "ask", "handler", {"what": s.ask, "needed_in": 2 * DAY}))
        course.append(Do(last + 90, "reply", "contact", {"body": sc.ACKNOWLEDGED}))
        return course

    result = s.steps[-1][0] if s.steps else ""
    course.append(Do(last + 30, "record", "handler", {"final_result": result}))
    delivered = last + 60
    delivery = {"service_item": s.title, "items": sc.DELIVERABLES, "criteria": sc.CRITERIA}
    course.append(Do(delivered, "deliver", "handler", delivery))
    if outcome == Status.PENDING_ACCEPTANCE:
        return course
    if s.accepted is not None:
        accepted = minutes_of(s.accepted)
    else:
        accepted = delivered + (120 if s.priority == "P1" else DAY)
    course += [Do(accepted, "accept", "contact"), Do(accepted + 10, "countersign", "handler")]
    if outcome == Status.COMPLETED or not s.scores:
        return course  # closed without scores: the feedback window closes it (the SLA timers)
    course.append(Do(accepted + DAY, "feedback", "contact"))
    if s.measure:
        course.append(Do(accepted + DAY + 120, "measure", "supervisor"))
    return course


def plan(
    scenarios: Iterable[Scenario], now: datetime, timezone: str
) -> tuple[list[Scenario], list[Action]]:
    """The scenarios in submission order, and every action on them in time order (each request's
    submission first). ValueError for an action after ``now``."""
    tz = ZoneInfo(timezone)
    dated = sorted(((resolve(s.submitted, now, tz), s) for s in scenarios), key=lambda d: d[0])
    actions: list[Action] = []
    for index, (t0, s) in enumerate(dated):
        contact = s.contact
        submitter = "agent" if s.channel in DESK_CHANNELS else contact

        def at(minutes: float, t0: datetime = t0) -> datetime:
            return t0 + timedelta(minutes=minutes)

        def minutes_of(when: When, t0: datetime = t0) -> float:
            return (resolve(when, now, tz) - t0).total_seconds() / 60

        actions.append(Action(t0, index, 0, "submit", submitter))
        course = sorted(s.script or standard(s, minutes_of), key=lambda do: do.at)
        for order, do in enumerate(course, 1):
            when = at(do.at)
            if not t0 < when <= now:
                raise ValueError(f"demo request {s.title}: {do.action} at {when}, not by now")
            by = {"contact": contact, "handler": s.handler}.get(do.by, do.by)
            if by is None:
                raise ValueError(f"demo request {s.title}: {do.action} needs a handler")
            args = dict(do.args)
            if "occurred" in args:
                args["occurred"] = at(args["occurred"])
            if "needed_in" in args:
                args["needed_by"] = when + timedelta(minutes=args.pop("needed_in"))
            actions.append(Action(when, index, order, do.action, by, args))
    actions.sort(key=lambda a: (a.at, a.request, a.order))
    return [s for _t0, s in dated], actions
