"""The template's vocabulary: statuses, types, priorities, channels, roles.

Their labels in the reader's language live in portal.presentation.labels.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    SUBMITTED = "submitted"
    PENDING_ASSIGNMENT = "pending_assignment"
    IN_PROGRESS = "in_progress"
    AWAITING_CUSTOMER = "awaiting_customer"
    PENDING_ACCEPTANCE = "pending_acceptance"
    COMPLETED = "completed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


OPEN_STATUSES = (
    Status.SUBMITTED,
    Status.PENDING_ASSIGNMENT,
    Status.IN_PROGRESS,
    Status.AWAITING_CUSTOMER,
    Status.PENDING_ACCEPTANCE,
)


class RequestType(StrEnum):
    FAULT = "fault"
    CONSULTATION = "consultation"
    OPTIMISATION = "optimisation"
    DELIVERY = "delivery"


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"


class Channel(StrEnum):
    PORTAL = "portal"
    PHONE = "phone"
    EMAIL = "email"
    ON_SITE = "on_site"
    PLAN = "plan"  # opened by a periodic service plan (docs/product.md §10)


class AccountKind(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    DISPATCHER = "dispatcher"
    ENGINEER = "engineer"
    ADMIN = "admin"


class FormPrefix(StrEnum):
    """The four numbered forms of the template."""

    SERVICE_REQUEST = "SR"
    HANDLING_RECORD = "IR"
    DELIVERY = "SD"
    FEEDBACK = "FB"
