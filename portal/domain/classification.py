"""Classification (the template's step 2): the priority P1/P2/P3 suggested from impact scope,
urgency and business importance. The supervisor may override the suggestion."""

from __future__ import annotations

from enum import StrEnum

from portal.domain.vocabulary import Priority


class ImpactScope(StrEnum):
    CORE = "core"  # 影响核心业务
    PARTIAL = "partial"  # 影响部分业务
    NONE = "none"  # 不影响业务


class Level(StrEnum):
    """Urgency and business importance: high / medium / low."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


# the template defines the priorities by impact: core → P1, partial → P2, none → P3
_BY_IMPACT = {
    ImpactScope.CORE: Priority.P1,
    ImpactScope.PARTIAL: Priority.P2,
    ImpactScope.NONE: Priority.P3,
}
_ORDER = [Priority.P1, Priority.P2, Priority.P3]


def suggest_priority(impact: str, urgency: str, importance: str) -> Priority:
    """Impact decides the base priority; when urgency and importance are both high it rises one
    step, when both are low it falls one step (never beyond P1 / P3)."""
    base = _ORDER.index(_BY_IMPACT[ImpactScope(impact)])
    u, i = Level(urgency), Level(importance)
    if u == Level.HIGH and i == Level.HIGH:
        base -= 1
    elif u == Level.LOW and i == Level.LOW:
        base += 1
    return _ORDER[min(max(base, 0), len(_ORDER) - 1)]


def urgency_from_proposal(proposed: str | None) -> Level:
    """The customer's proposed urgency (P1/P2/P3) as the form's starting urgency."""
    return {"P1": Level.HIGH, "P2": Level.MEDIUM}.get(proposed or "", Level.LOW)


def impact_from_proposal(proposed: str | None) -> ImpactScope:
    """The customer's proposal is defined by impact in the template (P1 = core business)."""
    return {"P1": ImpactScope.CORE, "P2": ImpactScope.PARTIAL}.get(proposed or "", ImpactScope.NONE)
