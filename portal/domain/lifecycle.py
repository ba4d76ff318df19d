"""The lifecycle of a service request (docs/product.md §2): every legal transition, who may make it and
from which state. Pure: the caller says who the actor is to this request (their capacities)."""

from __future__ import annotations

from dataclasses import dataclass

from portal.domain.vocabulary import Status

# Capacities an actor can have towards one request. Staff roles come from the account
# (agent, supervisor, dispatcher, engineer, admin); the rest from the request itself.
HANDLER = "handler"  # the staff member the request is assigned to
COLLABORATOR = "collaborator"  # an active cross-department collaborator
CUSTOMER = "customer"  # the contact, or an admin (or permitted colleague) of their organisation
SYSTEM = "system"  # the scheduler (timeouts)

OPEN = frozenset(
    {
        Status.SUBMITTED,
        Status.PENDING_ASSIGNMENT,
        Status.IN_PROGRESS,
        Status.AWAITING_CUSTOMER,
        Status.PENDING_ACCEPTANCE,
    }
)
WORKING = frozenset({Status.IN_PROGRESS, Status.AWAITING_CUSTOMER})


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[Status]
    target: Status | None  # None: the status stays as it is
    allowed: frozenset[str]


def _t(action: str, sources, target: Status | None, *allowed: str) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset(allowed))


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        _t("classify", {Status.SUBMITTED}, Status.PENDING_ASSIGNMENT, "supervisor"),
        _t("reclassify", OPEN - {Status.SUBMITTED}, None, "supervisor"),
        _t("assign", {Status.PENDING_ASSIGNMENT}, Status.IN_PROGRESS, "dispatcher", "supervisor"),
        # a periodic service plan's request (docs/product.md §10): the scheduler classifies it
        # with the plan's priority and gives it to the plan's default handler
        _t("plan_classify", {Status.SUBMITTED}, Status.PENDING_ASSIGNMENT, SYSTEM),
        _t("plan_assign", {Status.PENDING_ASSIGNMENT}, Status.IN_PROGRESS, SYSTEM),
        _t("reassign", WORKING, None, "dispatcher", "supervisor"),
        _t("confirm_assignment", WORKING, None, HANDLER),
        _t(
            "add_collaborator",
            WORKING | {Status.PENDING_ACCEPTANCE},
            None,
            "dispatcher",
            "supervisor",
            HANDLER,
        ),
        _t("log_step", WORKING, None, HANDLER, COLLABORATOR),
        _t("update_record", WORKING | {Status.PENDING_ACCEPTANCE}, None, HANDLER),
        _t("ask_customer", {Status.IN_PROGRESS}, Status.AWAITING_CUSTOMER, HANDLER),
        _t("answer_customer", {Status.AWAITING_CUSTOMER}, Status.IN_PROGRESS, CUSTOMER),
        _t("deliver", {Status.IN_PROGRESS}, Status.PENDING_ACCEPTANCE, HANDLER),
        _t("accept_pass", {Status.PENDING_ACCEPTANCE}, Status.COMPLETED, CUSTOMER),
        _t("accept_fail", {Status.PENDING_ACCEPTANCE}, Status.IN_PROGRESS, CUSTOMER),
        _t("countersign", {Status.COMPLETED, Status.CLOSED}, None, HANDLER),
        _t("give_feedback", {Status.COMPLETED}, Status.CLOSED, CUSTOMER),
        _t("record_feedback", {Status.COMPLETED}, Status.CLOSED, "agent", "supervisor"),
        _t("close_timeout", {Status.COMPLETED}, Status.CLOSED, SYSTEM),
        _t("cancel", {Status.SUBMITTED, Status.PENDING_ASSIGNMENT}, Status.CANCELLED, CUSTOMER),
        _t(
            "reply_public",
            OPEN | {Status.COMPLETED},
            None,
            CUSTOMER,
            HANDLER,
            COLLABORATOR,
            "agent",
            "supervisor",
            "dispatcher",
        ),
        _t(
            "note_internal",
            OPEN | {Status.COMPLETED, Status.CLOSED},
            None,
            "agent",
            "supervisor",
            "dispatcher",
            "engineer",
            "admin",
            HANDLER,
            COLLABORATOR,
        ),
    )
}


class TransitionError(Exception):
    """An illegal transition. ``code`` says why: unknown-action, wrong-state or not-allowed."""

    def __init__(self, code: str, action: str, status: str) -> None:
        super().__init__(f"{code}: {action} from {status}")
        self.code = code
        self.action = action
        self.status = status


def check(action: str, status: str, capacities: set[str] | frozenset[str]) -> Status:
    """The status after ``action``, or TransitionError. The state is checked before the actor,
    so that a person who may act is told the request is not in a state for it."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise TransitionError("unknown-action", action, status)
    current = Status(status)
    if current not in transition.sources:
        raise TransitionError("wrong-state", action, status)
    if not transition.allowed & set(capacities):
        raise TransitionError("not-allowed", action, status)
    return transition.target or current


def allowed_actions(status: str, capacities: set[str] | frozenset[str]) -> set[str]:
    """The actions this actor may take now: what the page offers."""
    current = Status(status)
    caps = set(capacities)
    return {t.action for t in TRANSITIONS.values() if current in t.sources and t.allowed & caps}
