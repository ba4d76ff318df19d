"""The skill matrix (技能矩阵, docs/product.md §2 step 3) as one editable grid: a row for each
active staff member who may take requests, a column for each active skill (grouped by request
type), a level 0–5 in each cell (0 = none).

The page is built in three queries whatever its size (the people, the skills, the levels), and
saved in a fixed number too: the form says which levels it showed, so only the cells the admin
changed are written (an edit made meanwhile by someone else in another cell stays), each
person's changes one audit event ``staff.skills_changed`` with before and after as
{skill name: level}.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _
from sqlalchemy import delete, exists, or_, select, tuple_
from sqlalchemy.orm import Session

from portal.domain.ids import parse_id
from portal.domain.vocabulary import RequestType
from portal.models import Account, AccountRole, Department, Skill, StaffSkill
from portal.presentation.labels import TYPE_LABELS
from portal.services import audit
from portal.services.desk_settings import assignable_roles

MAX_LEVEL = 5
CELL = re.compile(r"^level-(\d+)-(\d+)$")


@dataclass(frozen=True)
class Column:
    skill_id: int
    code: str
    name: str
    category: str | None


@dataclass(frozen=True)
class Group:
    """The skills of one request type (or of any type) under one heading."""

    label: str
    columns: list[Column]


@dataclass
class Row:
    account_id: int
    name: str
    department: str | None
    levels: dict[int, int]  # skill id → level (cells at 0 are absent)


@dataclass
class Matrix:
    groups: list[Group]
    rows: list[Row]

    @property
    def columns(self) -> list[Column]:
        return [c for g in self.groups for c in g.columns]

    def shown(self) -> str:
        """The levels the page shows, for the form to post back: "account.skill.level;…"."""
        return ";".join(
            f"{r.account_id}.{skill}.{level}"
            for r in self.rows
            for skill, level in sorted(r.levels.items())
        )


@dataclass
class Grid:
    """What a posted grid says: the level typed in each cell (as typed) and the bad ones."""

    typed: dict[tuple[int, int], str] = field(default_factory=dict)
    levels: dict[tuple[int, int], int] = field(default_factory=dict)
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    shown: dict[tuple[int, int], int] = field(default_factory=dict)

    def value(self, account_id: int, skill_id: int, default: int) -> str:
        return self.typed.get((account_id, skill_id), str(default))


def matrix(session: Session, locale: str) -> Matrix:
    """The grid as it is now. Three queries."""
    zh = locale.startswith("zh")
    skilled = exists().where(StaffSkill.account_id == Account.id)
    holds_role = exists().where(
        AccountRole.account_id == Account.id, AccountRole.role.in_(assignable_roles(session))
    )
    dept = Department.name_zh if zh else Department.name_en
    people = session.execute(
        select(Account.id, Account.name, dept)
        .outerjoin(Department, Department.id == Account.department_id)
        .where(Account.kind == "staff", Account.active.is_(True), or_(holds_role, skilled))
        .order_by(Account.name, Account.id)
    ).all()
    skills = list(session.scalars(select(Skill).where(Skill.active.is_(True)).order_by(Skill.code)))
    by_type: dict[str | None, list[Column]] = {}
    for s in skills:
        column = Column(s.id, s.code, s.name_zh if zh else s.name_en, s.category)
        by_type.setdefault(s.request_type, []).append(column)
    groups = []
    for key in [t.value for t in RequestType] + [None]:
        if key in by_type:
            label = TYPE_LABELS[RequestType(key)] if key else _("Any type")
            groups.append(Group(str(label), by_type.pop(key)))
    for key, columns in by_type.items():  # a type the vocabulary no longer has
        groups.append(Group(str(key), columns))
    rows = {p.id: Row(p.id, p.name, p[2], {}) for p in people}
    skill_ids = [s.id for s in skills]
    if rows and skill_ids:
        for cell in session.execute(
            select(StaffSkill.account_id, StaffSkill.skill_id, StaffSkill.level).where(
                StaffSkill.account_id.in_(list(rows)), StaffSkill.skill_id.in_(skill_ids)
            )
        ):
            if cell.level > 0:
                rows[cell.account_id].levels[cell.skill_id] = cell.level
    return Matrix(groups, list(rows.values()))


def read_grid(
    m: Matrix, posted: Mapping[str, str], shown: str, removed: frozenset[str] = frozenset()
) -> Grid:
    """The posted cells of the grid ``m``: a cell the form did not send keeps its level; a
    level that is not a whole number from 0 to 5 is an error at that cell, and so is one that
    came with control characters (``removed``: the names the input guard took them from)."""
    grid = Grid()
    for part in (shown or "").split(";"):
        bits = part.split(".")
        ids = [parse_id(b) for b in bits[:2]]
        if len(bits) == 3 and None not in ids and bits[2].isascii() and bits[2].isdigit():
            grid.shown[(ids[0], ids[1])] = int(bits[2][:3])
    for row in m.rows:
        for column in m.columns:
            key = (row.account_id, column.skill_id)
            name = f"level-{key[0]}-{key[1]}"
            if name not in posted:
                continue
            raw = posted[name]
            grid.typed[key] = raw[:10]
            text = raw.strip() or "0"
            if name in removed or not (text.isascii() and text.isdigit()) or int(text) > MAX_LEVEL:
                grid.errors[key] = str(_("A level is a whole number from 0 to 5."))
                continue
            grid.levels[key] = int(text)
    return grid


def apply(session: Session, actor, now: datetime, grid: Grid) -> int:
    """Write the cells the admin changed (the level posted differs from the one the form
    showed); the number of people whose skills changed."""
    if grid.errors:
        raise ValueError("a grid with errors is not applied")
    changed = {key: level for key, level in grid.levels.items() if level != grid.shown.get(key, 0)}
    return change(session, actor, now, changed)


def change(session: Session, actor, now: datetime, levels: dict[tuple[int, int], int]) -> int:
    """Set these cells ((account id, skill id) → level, 0 = none) and audit one event per
    person whose skills changed; the number of such people. A fixed number of queries
    whatever the number of cells (and two more per person for their audit event)."""
    if not levels:
        return 0
    current = {
        (r.account_id, r.skill_id): r
        for r in session.scalars(
            select(StaffSkill).where(
                tuple_(StaffSkill.account_id, StaffSkill.skill_id).in_(list(levels))
            )
        )
    }
    names = dict(
        session.execute(
            select(Skill.id, Skill.name_zh).where(Skill.id.in_({k[1] for k in levels}))
        ).all()
    )
    before: dict[int, dict[str, int]] = {}
    after: dict[int, dict[str, int]] = {}
    gone: list[int] = []
    for (account_id, skill_id), level in sorted(levels.items()):
        if not 0 <= level <= MAX_LEVEL:
            raise ValueError(level)
        row = current.get((account_id, skill_id))
        old = row.level if row is not None else 0
        if old == level:
            continue  # as it is already (someone else made the same change meanwhile)
        label = names.get(skill_id, str(skill_id))
        before.setdefault(account_id, {})[label] = old
        after.setdefault(account_id, {})[label] = level
        if level == 0:
            gone.append(row.id)
        elif row is None:
            session.add(StaffSkill(account_id=account_id, skill_id=skill_id, level=level))
        else:
            row.level = level
    if gone:
        session.execute(delete(StaffSkill).where(StaffSkill.id.in_(gone)))
    session.flush()
    for account_id in sorted(after):
        audit.record(
            session,
            actor,
            now,
            "staff.skills_changed",
            "account",
            account_id,
            before=before[account_id],
            after=after[account_id],
        )
    return len(after)
