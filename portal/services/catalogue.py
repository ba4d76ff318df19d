"""The desk's managed lists (docs/product.md §1–3): departments, the categories of each request
type, and the skills of the skill matrix. Each change is audited with only the fields that
changed, as a reader sees them: codes and names (a request type as its code, ``fault``, that
the audit page words; None for "any").

A code is what other rows store (a request's and a skill's ``category``, a staff member's
department): it is chosen once and never renamed; the names are what readers see. Nothing is
deleted: an entry no longer offered is deactivated, and what already uses it keeps it.

Input the forms cannot judge alone (a code taken, a category of another type) is a
``FieldError`` naming the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain.vocabulary import RequestType
from portal.models import Category, Department, Skill
from portal.presentation.labels import TYPE_LABELS
from portal.services import audit
from portal.services.workflow.checks import FieldError

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
CODE_MAX = {"department": 40, "category": 60, "skill": 40}
NAME_MAX = 100


@dataclass
class Names:
    """What an admin types for an entry: its code (on creation only) and its two names."""

    code: str
    name_zh: str
    name_en: str


# the audit action of deactivating (False) or reactivating (True) a row of each list
ACTIVE_ACTIONS = {
    ("department", False): "department.deactivated",
    ("department", True): "department.reactivated",
    ("category", False): "category.deactivated",
    ("category", True): "category.reactivated",
    ("skill", False): "skill.deactivated",
    ("skill", True): "skill.reactivated",
}


def _check_names(names: Names, kind: str, with_code: bool = True) -> Names:
    code = (names.code or "").strip().lower()
    zh = " ".join((names.name_zh or "").split())
    en = " ".join((names.name_en or "").split())
    if with_code:
        if not code:
            raise FieldError("code", _("Give a code."))
        if len(code) > CODE_MAX[kind]:
            raise FieldError("code", _("At most %(max)d characters.", max=CODE_MAX[kind]))
        if not CODE_PATTERN.match(code):
            raise FieldError(
                "code", _("Use lower-case letters, digits, hyphens and underscores only.")
            )
    for field, value in (("name_zh", zh), ("name_en", en)):
        if not value:
            raise FieldError(field, _("Give a name."))
        if len(value) > NAME_MAX:
            raise FieldError(field, _("At most %(max)d characters.", max=NAME_MAX))
    return Names(code, zh, en)


def _changes(row, values: dict) -> tuple[dict, dict]:
    """Set ``values`` on ``row``; the before and after of the fields that changed."""
    before, after = {}, {}
    for key, value in values.items():
        old = getattr(row, key)
        if old != value:
            before[key], after[key] = old, value
            setattr(row, key, value)
    return before, after


def _set_active(session, actor, now, row, active: bool, kind: str) -> bool:
    """Deactivate or reactivate; False (nothing written) when it already was."""
    if row.active == active:
        return False
    row.active = active
    session.flush()
    audit.record(
        session,
        actor,
        now,
        ACTIVE_ACTIONS[kind, active],
        kind,
        row.code,
        before={"active": not active},
        after={"active": active},
    )
    return True


# ---------------------------------------------------------------------------------------------
# Departments


def departments(session: Session) -> list[Department]:
    """Every department, active ones first, by code. One query."""
    return list(
        session.scalars(select(Department).order_by(Department.active.desc(), Department.code))
    )


def create_department(session: Session, actor, now: datetime, names: Names) -> Department:
    names = _check_names(names, "department")
    if session.scalar(select(Department.id).where(Department.code == names.code)):
        raise FieldError("code", _("Another department has the code %(code)s.", code=names.code))
    row = Department(code=names.code, name_zh=names.name_zh, name_en=names.name_en, active=True)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "department.created",
        "department",
        row.code,
        after={"code": row.code, "name_zh": row.name_zh, "name_en": row.name_en},
    )
    return row


def update_department(
    session: Session, actor, now: datetime, row: Department, names: Names
) -> bool:
    """Rename; False when nothing changed (nothing audited)."""
    names = _check_names(names, "department", with_code=False)
    before, after = _changes(row, {"name_zh": names.name_zh, "name_en": names.name_en})
    if not after:
        return False
    session.flush()
    audit.record(session, actor, now, "department.updated", "department", row.code, before, after)
    return True


def set_department_active(session, actor, now, row: Department, active: bool) -> bool:
    return _set_active(session, actor, now, row, active, "department")


# ---------------------------------------------------------------------------------------------
# Categories


def categories(session: Session, active_only: bool = False) -> list[Category]:
    """The categories by type (the vocabulary's order), then position and code. One query."""
    query = select(Category)
    if active_only:
        query = query.where(Category.active.is_(True))
    rows = list(session.scalars(query.order_by(Category.position, Category.code)))
    order = {t.value: i for i, t in enumerate(RequestType)}
    return sorted(rows, key=lambda c: (order.get(c.request_type, 99), not c.active))


def _check_type(request_type: str, field: str = "request_type") -> str:
    try:
        return RequestType(request_type).value
    except ValueError:
        raise FieldError(field, _("Choose a request type.")) from None


def create_category(
    session: Session,
    actor,
    now: datetime,
    request_type: str,
    names: Names,
    position: int | None = None,
) -> Category:
    """A new category of ``request_type``, last of its type unless a position is given."""
    request_type = _check_type(request_type)
    names = _check_names(names, "category")
    taken = session.scalar(
        select(Category.id).where(
            Category.request_type == request_type, Category.code == names.code
        )
    )
    if taken:
        raise FieldError(
            "code",
            _(
                "%(type)s already has a category with the code %(code)s.",
                type=TYPE_LABELS[RequestType(request_type)],
                code=names.code,
            ),
        )
    if position is None:
        last = session.scalar(
            select(func.max(Category.position)).where(Category.request_type == request_type)
        )
        position = (last or 0) + 10
    row = Category(
        request_type=request_type,
        code=names.code,
        name_zh=names.name_zh,
        name_en=names.name_en,
        position=position,
        active=True,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "category.created",
        "category",
        f"{request_type}/{row.code}",
        after={
            "request_type": request_type,
            "code": row.code,
            "name_zh": row.name_zh,
            "name_en": row.name_en,
            "position": row.position,
        },
    )
    return row


def update_category(
    session: Session, actor, now: datetime, row: Category, names: Names, position: int
) -> bool:
    """Rename or move (the position orders a type's categories in every list)."""
    names = _check_names(names, "category", with_code=False)
    if not -100000 <= position <= 100000:
        raise FieldError("position", _("Give a position between -100000 and 100000."))
    before, after = _changes(
        row, {"name_zh": names.name_zh, "name_en": names.name_en, "position": position}
    )
    if not after:
        return False
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "category.updated",
        "category",
        f"{row.request_type}/{row.code}",
        before,
        after,
    )
    return True


def set_category_active(session, actor, now, row: Category, active: bool) -> bool:
    if row.active == active:
        return False
    row.active = active
    session.flush()
    audit.record(
        session,
        actor,
        now,
        ACTIVE_ACTIONS["category", active],
        "category",
        f"{row.request_type}/{row.code}",
        before={"active": not active},
        after={"active": active},
    )
    return True


def check_category(
    session: Session,
    request_type: str,
    code: str | None,
    keep: tuple[str | None, str | None] | None = None,
    field: str = "category",
) -> str | None:
    """The category code a request (or skill) of ``request_type`` may take: None for none, an
    active category of that type, or — so that an old entry can be saved again unchanged —
    the (type, code) pair it already has (``keep``). Anything else is a ``FieldError``."""
    code = (code or "").strip() or None
    if code is None:
        return None
    if ":" in code:
        # a list's option names its type too ("fault:database"): codes repeat across types
        chosen_type, code = code.split(":", 1)
        if chosen_type != request_type:
            raise FieldError(field, _category_of_type(request_type))
    if keep is not None and keep == (request_type, code):
        return code
    found = session.scalar(
        select(Category.id).where(
            Category.request_type == request_type,
            Category.code == code,
            Category.active.is_(True),
        )
    )
    if found is None:
        raise FieldError(field, _category_of_type(request_type))
    return code


def _category_of_type(request_type: str):
    try:
        label = TYPE_LABELS[RequestType(request_type)]
    except ValueError:
        label = request_type
    return _("Choose a category of the type %(type)s.", type=label)


def option_value(request_type: str | None, code: str | None) -> str:
    """The value of a category's option in a list grouped by type (see ``check_category``)."""
    if not code:
        return ""
    return f"{request_type}:{code}" if request_type else code


@dataclass(frozen=True)
class CategoryName:
    name_zh: str
    name_en: str

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


def category_names(session: Session) -> dict[tuple[str, str], CategoryName]:
    """Every category's names by (request type, code), inactive ones too (old requests still
    show them). One query; the web layer keeps it for the length of a request."""
    return {
        (r.request_type, r.code): CategoryName(r.name_zh, r.name_en)
        for r in session.execute(
            select(Category.request_type, Category.code, Category.name_zh, Category.name_en)
        )
    }


def category_name(session: Session, request_type: str | None, code: str | None, locale: str) -> str:
    """One request's category in the reader's language (one query; a list uses
    ``category_names`` once and ``category_label`` per row)."""
    if not code:
        return ""
    rows = session.execute(
        select(Category.request_type, Category.code, Category.name_zh, Category.name_en).where(
            Category.code == code
        )
    ).all()
    names = {(r.request_type, r.code): CategoryName(r.name_zh, r.name_en) for r in rows}
    return category_label(names, request_type, code, locale)


def category_label(
    names: dict[tuple[str, str], CategoryName],
    request_type: str | None,
    code: str | None,
    locale: str,
) -> str:
    """A category in the reader's language; a code the list does not hold, as it is."""
    if not code:
        return ""
    hit = names.get((request_type or "", code))
    if hit is None:
        # a skill or an old request of another type may name a category of any type
        hit = next((v for (t, c), v in names.items() if c == code), None)
    return hit.name(locale) if hit is not None else code


def category_options(
    session: Session, locale: str, keep: tuple[str | None, str | None] | None = None
) -> dict[str, list[tuple[str, str]]]:
    """The active categories for a <select>, grouped by request type (an <optgroup> each) in
    the reader's language: {type label: [(option value, name), …]}, the value as
    ``option_value`` makes it. ``keep``, an entry's own (type, code) that the list no longer
    offers, is offered too, so that it can be saved unchanged. One query."""
    groups: dict[str, list[tuple[str, str]]] = {str(TYPE_LABELS[t]): [] for t in RequestType}
    rows = list(session.execute(select(Category)).scalars())
    offered = set()
    for row in sorted(rows, key=lambda c: (c.position, c.code)):
        if not row.active:
            continue
        try:
            label = str(TYPE_LABELS[RequestType(row.request_type)])
        except ValueError:
            continue
        offered.add((row.request_type, row.code))
        name = row.name_zh if locale.startswith("zh") else row.name_en
        groups[label].append((option_value(row.request_type, row.code), name))
    if keep is not None and keep[1] and tuple(keep) not in offered:
        names = {(r.request_type, r.code): r for r in rows}
        old = names.get(tuple(keep))
        name = (old.name_zh if locale.startswith("zh") else old.name_en) if old else keep[1]
        try:
            label = str(TYPE_LABELS[RequestType(keep[0])])
        except ValueError:
            label = str(_("Any type"))
        groups.setdefault(label, []).append((option_value(*keep), name))
    return {label: options for label, options in groups.items() if options}


# ---------------------------------------------------------------------------------------------
# Skills


@dataclass
class SkillInput:
    names: Names
    request_type: str | None  # None: any type
    # a category of that type ("fault:database", or its code alone); None: any. With any type,
    # the skill takes the category's type.
    category: str | None


def skills(session: Session) -> list[Skill]:
    """Every skill, active ones first, by type and code. One query."""
    rows = list(session.scalars(select(Skill).order_by(Skill.code)))
    order = {t.value: i for i, t in enumerate(RequestType)}
    return sorted(rows, key=lambda s: (not s.active, order.get(s.request_type or "", -1)))


def _skill_scope(
    session: Session, data: SkillInput, keep: tuple[str | None, str | None] | None = None
) -> tuple[str | None, str | None]:
    request_type = data.request_type or None
    if request_type is not None:
        request_type = _check_type(request_type)
    category = (data.category or "").strip() or None
    if category is None:
        return request_type, None
    if request_type is None:
        # a category belongs to one type: a skill of "any type" in one is a skill of that type
        if ":" in category:
            request_type = _check_type(category.split(":", 1)[0], field="category")
        elif keep is not None and keep[1] == category:
            return keep[0], category
        else:
            raise FieldError("category", _("Choose a category from the list."))
    return request_type, check_category(session, request_type, category, keep=keep)


def create_skill(session: Session, actor, now: datetime, data: SkillInput) -> Skill:
    names = _check_names(data.names, "skill")
    request_type, category = _skill_scope(session, data)
    if session.scalar(select(Skill.id).where(Skill.code == names.code)):
        raise FieldError("code", _("Another skill has the code %(code)s.", code=names.code))
    row = Skill(
        code=names.code,
        name_zh=names.name_zh,
        name_en=names.name_en,
        request_type=request_type,
        category=category,
        active=True,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "skill.created",
        "skill",
        row.code,
        after={
            "code": row.code,
            "name_zh": row.name_zh,
            "name_en": row.name_en,
            "request_type": request_type,
            "category": category,
        },
    )
    return row


def update_skill(session: Session, actor, now: datetime, row: Skill, data: SkillInput) -> bool:
    names = _check_names(data.names, "skill", with_code=False)
    request_type, category = _skill_scope(session, data, keep=(row.request_type, row.category))
    before, after = _changes(
        row,
        {
            "name_zh": names.name_zh,
            "name_en": names.name_en,
            "request_type": request_type,
            "category": category,
        },
    )
    if not after:
        return False
    session.flush()
    audit.record(session, actor, now, "skill.updated", "skill", row.code, before, after)
    return True


def set_skill_active(session, actor, now, row: Skill, active: bool) -> bool:
    return _set_active(session, actor, now, row, active, "skill")
