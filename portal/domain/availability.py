"""Whether a staff member is available to take requests: on duty, or on leave until a date.

The one rule (the ranking of candidates, the staff pages and the dispatcher's board all use
it): an account marked unavailable is on leave until ``on_leave_until`` inclusive; from the
day after, it counts as on duty again without anyone changing it. Unavailable with no date is
a leave until someone marks the person back on duty. ``today`` is the desk's date.
"""

from __future__ import annotations

from datetime import date


def on_leave(available: bool, on_leave_until: date | None, today: date) -> bool:
    """Whether the person is on leave on ``today``."""
    if available:
        return False
    return on_leave_until is None or on_leave_until >= today


def is_available(available: bool, on_leave_until: date | None, today: date) -> bool:
    """Whether the person is on duty on ``today`` (a leave whose last day has passed is over)."""
    return not on_leave(available, on_leave_until, today)
