"""The working part of a request's lifecycle (the template's steps 2–4): classify, assign and
confirm, collaborators, the handling record (IR) and its steps, asking the customer, messages,
and the customer's cancellation. Every use case checks the transition first, then the input,
then applies the transition with its audit event and SLA effect in the caller's transaction.

This package is the public API (callers use ``workflow.assign(...)``); the use cases live in
modules by responsibility:

- ``triage``: classification, assignment and its confirmation, collaborators;
- ``handling``: the handling record (IR), its steps and hours;
- ``conversation``: messages, asking the customer and their answer, cancellation;
- ``checks``: the transition and input checks they share, and ``FieldError``.
"""

from portal.services.workflow.checks import CLOCK_SKEW, FieldError
from portal.services.workflow.conversation import (
    answer_customer,
    ask_customer,
    cancel,
    open_cooperation,
    post_message,
)
from portal.services.workflow.handling import (
    MAX_STEP_HOURS,
    StepInput,
    ensure_record,
    hours_total,
    log_step,
    update_record,
)
from portal.services.workflow.triage import (
    ClassificationInput,
    add_collaborator,
    assign,
    candidates,
    classify,
    confirm_assignment,
    current_assignment,
    latest_classification,
)

__all__ = [
    "CLOCK_SKEW",
    "MAX_STEP_HOURS",
    "ClassificationInput",
    "FieldError",
    "StepInput",
    "add_collaborator",
    "answer_customer",
    "ask_customer",
    "assign",
    "cancel",
    "candidates",
    "classify",
    "confirm_assignment",
    "current_assignment",
    "ensure_record",
    "hours_total",
    "latest_classification",
    "log_step",
    "open_cooperation",
    "post_message",
    "update_record",
]
