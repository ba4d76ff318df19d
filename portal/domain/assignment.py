"""Assignment (the template's step 3): ranking candidate handlers by skill for the request's type
and category, their open load and their availability. Pure: the caller loads the numbers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SkillLevel:
    """One cell of the skill matrix as it concerns a request."""

    skill_code: str
    skill_name: str
    request_type: str | None  # None: any type
    category: str | None  # None: any category
    level: int


@dataclass(frozen=True)
class Candidate:
    account_id: int
    name: str
    available: bool
    open_load: int
    skills: tuple[SkillLevel, ...] = ()


@dataclass(frozen=True)
class Ranked:
    candidate: Candidate
    match: int  # 2 = type and category, 1 = type only, 0 = no matching skill
    best_skill: SkillLevel | None

    @property
    def level(self) -> int:
        return self.best_skill.level if self.best_skill else 0


def _norm(value: str | None) -> str | None:
    value = (value or "").strip().lower()
    return value or None


def match_strength(skill: SkillLevel, request_type: str, category: str | None) -> int:
    """How well a skill fits a request: 2 same type and category, 1 same type (the skill or the
    request has no category), 0 no fit (another type, or another category)."""
    if skill.request_type is not None and skill.request_type != request_type:
        return 0
    s_cat, r_cat = _norm(skill.category), _norm(category)
    if s_cat is not None and r_cat is not None:
        return 2 if s_cat == r_cat else 0
    return 1


def best_skill(
    skills: tuple[SkillLevel, ...], request_type: str, category: str | None
) -> tuple[int, SkillLevel | None]:
    best: tuple[int, int, SkillLevel | None] = (0, 0, None)
    for skill in skills:
        strength = match_strength(skill, request_type, category)
        if strength and (strength, skill.level) > best[:2]:
            best = (strength, skill.level, skill)
    return best[0], best[2]


def rank(candidates: list[Candidate], request_type: str, category: str | None) -> list[Ranked]:
    """Available people first; then the better skill match, the higher level, the lower open
    load; the name breaks ties so the order is stable."""
    ranked = []
    for c in candidates:
        strength, skill = best_skill(c.skills, request_type, category)
        ranked.append(Ranked(c, strength, skill))
    ranked.sort(
        key=lambda r: (
            not r.candidate.available,
            -r.match,
            -r.level,
            r.candidate.open_load,
            r.candidate.name,
            r.candidate.account_id,
        )
    )
    return ranked
