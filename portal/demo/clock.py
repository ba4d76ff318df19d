"""The demo's clock: the seed performs ten days of the desk's work in one transaction, and this
is the time it is while it does.

- Rows a service leaves to the database's clock (a notification's or an e-mail's ``created_at``,
  an account's) get the demo's time instead: the services take the time as an argument, these
  few rows do not.
- The SLA timers fire as the worker would have fired them, at their own time and through the
  same code (portal.services.escalation.fire): warnings, breaches and escalations, the feedback
  invitation, reminder and the close of a completed request that got no feedback.

The e-mails they queue stay in the outbox; the worker's sweep sends them once the desk runs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.models import ServiceRequest
from portal.services import escalation, timers

CLOCK_KEY = "portal_demo_clock"
# the columns a new row gets from the database's clock when the service leaves them empty
STAMPED = ("created_at", "password_changed_at")
# the states whose deadlines the timers watch
WATCHED = (*timers.OPEN, "completed")


class DeskClock:
    """The time it is in the demo (``now``), and the SLA timers of ``requests`` up to it."""

    def __init__(self, session: Session, timezone: str) -> None:
        self.session = session
        self.timezone = timezone
        self.now: datetime | None = None
        self._requests: dict[int, ServiceRequest] = {}
        self._deadlines: dict[int, list[timers.Deadline]] = {}
        self._changed: set[int] = set()
        self._done: set[tuple[int, str, int]] = set()
        self._policies: dict | None = None

    def __enter__(self) -> DeskClock:
        self.session.info[CLOCK_KEY] = self
        return self

    def __exit__(self, *exc) -> None:
        self.session.info.pop(CLOCK_KEY, None)

    def set(self, at: datetime) -> None:
        self.now = at

    def changed(self, sr: ServiceRequest) -> None:
        """``sr`` was acted on: its deadlines are read again."""
        self._requests[sr.id] = sr
        self._changed.add(sr.id)

    def advance(self, until: datetime) -> int:
        """Fire, in their order, the deadlines that come by ``until``; the clock is then at
        ``until``. Returns how many fired."""
        fired = 0
        while (due := self._next(until)) is not None:
            sr, deadline = due
            self._done.add((sr.id, deadline.kind, deadline.due_epoch))
            # a deadline that an action moved into the past fires at once, as its job would
            at = max(deadline.fire_at, self.now) if self.now else deadline.fire_at
            # as portal.jobs_sla: a warning that would come at its due time is the breach's
            if escalation.family(deadline.kind) == "warn" and at >= deadline.due_at:
                continue
            self.set(at)
            fired += escalation.fire(self.session, sr, deadline, at)
            # the firing job sends its mails after its commit: here they wait in the outbox
            self.session.info.pop("portal_sla_mails", None)
            self.changed(sr)
        self.set(until)
        return fired

    def _next(self, until: datetime) -> tuple[ServiceRequest, timers.Deadline] | None:
        if self._policies is None:
            self._policies = timers.load_policies(self.session)
        for request_id in self._changed:
            sr = self._requests[request_id]
            policy = timers.policy_of(self._policies, sr)
            self._deadlines[request_id] = (
                timers.deadlines_for(sr, policy, self.timezone) if sr.status in WATCHED else []
            )
        self._changed.clear()
        best = None
        for request_id, deadlines in self._deadlines.items():
            for d in deadlines:
                if d.fire_at > until or (request_id, d.kind, d.due_epoch) in self._done:
                    continue
                if best is None or d.fire_at < best.fire_at:
                    best = d
        return None if best is None else (self._requests[best.request_id], best)


@event.listens_for(Session, "before_flush")
def _stamp(session: Session, _flush_context, _instances) -> None:
    clock = session.info.get(CLOCK_KEY)
    if clock is None or clock.now is None:
        return
    for obj in session.new:
        for name in STAMPED:
            if hasattr(obj, name) and getattr(obj, name) is None:
                setattr(obj, name, clock.now)
