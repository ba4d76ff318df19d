"""The kinds of notification and the preference category each belongs to (docs/product.md §9).

A person chooses, per category, to be told at once, in a daily digest, or not by e-mail at all
(the portal's own list always shows everything). Security mail (invitation, password reset) is
not a notification and cannot be switched off."""

from __future__ import annotations

CATEGORIES = ("conversation", "acceptance", "feedback", "sla", "measures")

# the preference modes: at once, in the daily digest, or no e-mail
MODES = ("instant", "digest", "off")

KIND_CATEGORY = {
    # the conversation and the hand-offs between people
    "reply": "conversation",
    "cooperation_requested": "conversation",
    "customer_reply": "conversation",
    "customer_answered": "conversation",
    "collaborator_added": "conversation",
    "assigned": "conversation",
    "assignment_confirmed": "conversation",
    "request_submitted": "conversation",
    # delivery, acceptance and closing
    "delivery_ready": "acceptance",
    "acceptance_reminder": "acceptance",
    "acceptance_failed": "acceptance",
    "acceptance_passed": "acceptance",
    "request_closed": "acceptance",
    # feedback
    "feedback_invite": "feedback",
    "feedback_reminder": "feedback",
    "feedback_received": "feedback",
    "low_score": "feedback",
    # SLA clocks
    "response_warn": "sla",
    "resolution_warn": "sla",
    "response_breach": "sla",
    "resolution_breach": "sla",
    "response_escalation": "sla",
    "resolution_escalation": "sla",
    "not_started": "sla",
    "sla_explanation": "sla",
    # improvement measures
    "measure_assigned": "measures",
    "measure_due_soon": "measures",
    "measure_overdue": "measures",
}


def base_kind(kind: str) -> str:
    """``measure_overdue:7`` → ``measure_overdue`` (a suffix keeps dedupe keys apart)."""
    return kind.split(":", 1)[0]


def category_of(kind: str) -> str:
    """The preference category of a notification kind (unknown kinds count as conversation)."""
    return KIND_CATEGORY.get(base_kind(kind), "conversation")
