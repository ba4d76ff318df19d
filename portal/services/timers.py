"""SLA timers on RQ (DESIGN §4): scheduling the jobs that fire at warn and due times.

``reschedule`` is called by the SLA service whenever a request's due times or pause state
change; the jobs are (re)scheduled once the transaction commits.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.models import ServiceRequest


def reschedule(session: Session, sr: ServiceRequest) -> None:
    """Mark ``sr`` for (re)scheduling of its deadline jobs after commit."""
    session.info.setdefault("portal_sla_changed", set()).add(sr.id)
