"""The availability rule of portal.domain.availability in SQL, and the desk's date it is
evaluated on. The clause must say what ``availability.on_leave`` says (tests check both on the
same cases): unavailable, and no end date or an end date not yet passed."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_

from portal.models import Account


def desk_today(now: datetime, timezone: str) -> date:
    """The date at the desk (a leave ends with the desk's day, not UTC's)."""
    return now.astimezone(ZoneInfo(timezone)).date()


def on_leave_clause(account=Account, today: date | None = None):
    """SQL: ``account`` (the class or an alias) is on leave on ``today``."""
    return and_(
        account.available.is_(False),
        or_(account.on_leave_until.is_(None), account.on_leave_until >= today),
    )


def unavailable_clause(account=Account, today: date | None = None):
    """SQL: ``account`` takes no work on ``today``: deactivated, or on leave."""
    return or_(account.active.is_(False), on_leave_clause(account, today))
