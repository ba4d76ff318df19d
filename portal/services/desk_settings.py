"""The desk's settings an admin changes on the pages (``DeskSetting``: a key and a JSON value).

A missing row means the default: nothing is written until an admin saves a setting (no GET
writes), so a fresh install counts on the defaults below.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.domain.vocabulary import Role
from portal.models import DeskSetting
from portal.services import audit

# which roles may be given requests (the candidates of the assignment)
ASSIGNABLE_ROLES = "assignable_roles"
DEFAULT_ASSIGNABLE_ROLES: tuple[str, ...] = (Role.ENGINEER.value,)


# the program and script types an admin allows as attachments (none by default; the types are
# portal/services/attachments.py PROGRAM_TYPES)
ALLOWED_PROGRAM_TYPES = "allowed_program_types"


class SettingError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def assignable_roles(session: Session) -> tuple[str, ...]:
    """The roles whose holders are candidates for a request, in the vocabulary's order. One
    query (none when the session has the row already)."""
    row = session.get(DeskSetting, ASSIGNABLE_ROLES)
    stored = row.value if row is not None and isinstance(row.value, list) else None
    if not stored:
        return DEFAULT_ASSIGNABLE_ROLES
    known = {r.value for r in Role}
    roles = tuple(r.value for r in Role if r.value in stored and r.value in known)
    return roles or DEFAULT_ASSIGNABLE_ROLES


def set_assignable_roles(
    session: Session, actor: audit.Actor, now: datetime, roles: list[str] | tuple[str, ...]
) -> bool:
    """Save which roles take requests; audited as ``desk_setting.updated`` with the roles
    before and after. At least one role. Returns whether anything changed."""
    wanted = tuple(r.value for r in Role if r.value in set(roles))
    if not wanted:
        raise SettingError("roles", _l("Choose at least one role that takes requests."))
    before = assignable_roles(session)
    if wanted == before:
        return False
    row = session.get(DeskSetting, ASSIGNABLE_ROLES)
    if row is None:
        row = DeskSetting(key=ASSIGNABLE_ROLES)
        session.add(row)
    row.value = list(wanted)
    row.updated_at = now
    row.updated_by_id = actor.account_id
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "desk_setting.updated",
        "desk_setting",
        ASSIGNABLE_ROLES,
        before={"roles": list(before)},
        after={"roles": list(wanted)},
    )
    return True


def allowed_program_types(session: Session) -> frozenset[str]:
    """The program types the desk accepts as attachments (none unless an admin allowed some).
    One query (none when the session has the row already)."""
    row = session.get(DeskSetting, ALLOWED_PROGRAM_TYPES)
    stored = row.value if row is not None and isinstance(row.value, list) else []
    return frozenset(t for t in stored if isinstance(t, str))


def set_allowed_program_types(
    session: Session, actor: audit.Actor, now: datetime, types, known: tuple[str, ...]
) -> bool:
    """Save which program types may be attached; audited as ``desk_setting.updated``. Returns
    whether anything changed."""
    wanted = [t for t in known if t in set(types or ())]
    before = [t for t in known if t in allowed_program_types(session)]
    if wanted == before:
        return False
    row = session.get(DeskSetting, ALLOWED_PROGRAM_TYPES)
    if row is None:
        row = DeskSetting(key=ALLOWED_PROGRAM_TYPES)
        session.add(row)
    row.value = wanted
    row.updated_at = now
    row.updated_by_id = actor.account_id
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "desk_setting.updated",
        "desk_setting",
        ALLOWED_PROGRAM_TYPES,
        before={"program_types": before},
        after={"program_types": wanted},
    )
    return True
