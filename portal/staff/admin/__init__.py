"""The administration area, at "/staff/admin": a blueprint nested in the staff side and guarded
as a whole (docs/architecture.md). Admins change everything here; supervisors reach the parts
their role may use and see them read-only where they may not change things (``may_change``).
"""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user

from portal.domain.vocabulary import Role

bp = Blueprint("admin", __name__)

# who enters the area at all; each page narrows it with require_admin or may_change
AREA_ROLES = (Role.ADMIN, Role.SUPERVISOR)


@bp.before_request
def _guard():
    # the staff side's guard ran first: the person is logged in on the staff side
    if not current_user.account.has_role(*AREA_ROLES):
        abort(403)


def may_change() -> bool:
    """Whether the logged-in person may change what the admin pages show (admins only)."""
    return current_user.account.has_role(Role.ADMIN)


def require_admin() -> None:
    """403 unless the logged-in staff member is an admin."""
    if not may_change():
        abort(403)


from portal.staff.admin import (  # noqa: E402,F401  (routes register on bp)
    calendars,
    catalogue,
    contacts,
    group_bots,
    index,
    mailboxes,
    organisations,
    plans,
    privacy,
    settings,
    skill_matrix,
    sla_policies,
    staff_members,
    vague_phrases,
)
