"""What every workflow use case does first: check the transition (who may act, in which state),
then the input. ``FieldError`` carries a refusal back to the form field it belongs to."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from portal.domain import lifecycle
from portal.models import Account, ServiceRequest
from portal.services import lifecycle as lifecycle_service
from portal.services import record_quality

# a step may be logged a little ahead of the server's clock (a laptop's clock), not more
CLOCK_SKEW = timedelta(minutes=5)


class FieldError(ValueError):
    """Input the form could not judge alone (a vague record, a person who cannot take the
    request); ``field`` names the form field the message belongs to. The message is lazy: it
    is worded in the reader's language when shown (services also run outside a request)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _caps(session: Session, sr: ServiceRequest, account: Account) -> set[str]:
    return lifecycle_service.capacities(session, sr, account)


def check(session: Session, sr: ServiceRequest, account: Account, action: str) -> set[str]:
    """The transition is checked before the input: someone who may not act, or a request in
    the wrong state, hears that first."""
    caps = _caps(session, sr, account)
    lifecycle.check(action, sr.status, caps)
    return caps


def check_quality(session: Session, field: str, text: str | None, locale: str | None) -> None:
    problem = record_quality.check_text(session, text, locale)
    if problem:
        raise FieldError(field, problem)
