from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .account import Account, Department
from .base import Base, utcnow
from .organisation import Organisation


class ServiceRequest(Base):
    """服务请求登记表 — the service request (SR) and its SLA clock state."""

    __tablename__ = "service_requests"
    __table_args__ = (
        # queue filters: every one is (filter…, sort key, id) so a page is an index range scan
        Index("ix_sr_status_updated", "status", "updated_at", "id"),
        Index("ix_sr_status_priority", "status", "priority", "updated_at", "id"),
        Index("ix_sr_handler_status", "handler_id", "status", "updated_at", "id"),
        Index("ix_sr_org_status", "organisation_id", "status", "updated_at", "id"),
        Index("ix_sr_type_status", "type", "status", "updated_at", "id"),
        Index("ix_sr_contact_status", "contact_id", "status", "updated_at", "id"),
        Index("ix_sr_updated", "updated_at", "id"),
        # "all statuses" lists of one contact or one organisation, newest update first
        Index("ix_sr_org_updated", "organisation_id", "updated_at", "id"),
        Index("ix_sr_contact_updated", "contact_id", "updated_at", "id"),
        # queue sorted by priority or by resolution due
        Index("ix_sr_priority_updated", "priority", "updated_at", "id"),
        Index("ix_sr_resolution_due_id", "resolution_due_at", "id"),
        # the sweep's "assigned, not started" read
        Index("ix_sr_status_assigned", "status", "assigned_at"),
        Index("ix_sr_resolution_due", "status", "resolution_due_at"),
        Index("ix_sr_response_due", "first_response_at", "response_due_at"),
        # the sweep's warning reads: a range over the stored warning instants
        Index("ix_sr_response_warn", "response_warn_at"),
        Index("ix_sr_resolution_warn", "resolution_warn_at"),
        # the open requests still on an older version of a policy (the policy page's count)
        Index("ix_sr_sla_version_status", "sla_policy_version_id", "status"),
        # the reports: the requests submitted in a period (portal/services/reports)
        Index("ix_sr_submitted", "submitted_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    channel: Mapped[str] = mapped_column(String(16))  # Channel
    # the contact for this request, as given on the form (may differ from the account's)
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(20))  # RequestType
    category: Mapped[str | None] = mapped_column(String(60))
    proposed_urgency: Mapped[str] = mapped_column(String(2))  # Priority proposed by the customer
    priority: Mapped[str | None] = mapped_column(String(2))  # confirmed by the supervisor
    expected_completion_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(24), default="submitted")  # Status
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    classified_at: Mapped[datetime | None]
    assigned_at: Mapped[datetime | None]
    work_started_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # SLA clock: due times live here (the database is the source of truth)
    response_due_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime | None]
    # when each clock's warning fires (policy.warn_percent of the target used, on the clock's
    # calendar); NULL when that clock has no warning to come (met, paused, stopped). Kept by
    # portal.services.sla wherever the due times or the clock's state change.
    response_warn_at: Mapped[datetime | None]
    resolution_warn_at: Mapped[datetime | None]
    paused_since: Mapped[datetime | None]
    paused_seconds: Mapped[int] = mapped_column(default=0)
    escalation_level: Mapped[int] = mapped_column(default=0)
    # the version of its organisation's SLA policy in force at submission: the request is
    # measured against its targets for good (NULL: not stamped, the organisation's current one)
    sla_policy_version_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policy_versions.id"))
    rework_count: Mapped[int] = mapped_column(default=0)
    # the time each target took, in seconds on its clock (working time on the business
    # calendar, elapsed on the 24×7 clock), paused time excluded: set by portal.services.sla
    # when the first response is made and when the accepted delivery resolves the request
    # the hours of the IR steps, kept by portal.services.workflow.hours as steps are logged
    hours_logged: Mapped[Decimal] = mapped_column(
        Numeric(10, 2), default=Decimal("0"), server_default="0"
    )
    response_seconds: Mapped[int | None]
    resolution_seconds: Mapped[int | None]
    service_plan_id: Mapped[int | None] = mapped_column(ForeignKey("service_plans.id"))

    organisation: Mapped[Organisation] = relationship(lazy="raise")
    contact: Mapped[Account] = relationship(foreign_keys=[contact_id], lazy="raise")
    created_by: Mapped[Account] = relationship(foreign_keys=[created_by_id], lazy="raise")
    handler: Mapped[Account | None] = relationship(foreign_keys=[handler_id], lazy="raise")


class Classification(Base):
    """需求分类与优先级确认记录 — the supervisor's classification record."""

    __tablename__ = "classifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"), index=True)
    classified_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    type: Mapped[str] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(60))
    priority: Mapped[str] = mapped_column(String(2))
    impact_scope: Mapped[str] = mapped_column(String(20))  # core / partial / none
    urgency: Mapped[str] = mapped_column(String(20))
    business_importance: Mapped[str] = mapped_column(String(20))
    confirmed_details: Mapped[str] = mapped_column(Text)
    expected_completion_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Assignment(Base):
    """任务分配通知单 — one assignment of a handler; reassignments keep the history."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"), index=True)
    handler_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    briefing: Mapped[str] = mapped_column(Text, default="")  # background, priority, expectations
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    can_start_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]


class Collaborator(Base):
    """A cross-department collaborator with interface person and scope."""

    __tablename__ = "collaborators"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    interface_person: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(Text)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]

    account: Mapped[Account] = relationship(foreign_keys=[account_id], lazy="raise")
    department: Mapped[Department | None] = relationship(lazy="raise")


class Message(Base):
    """A public reply (both ways) or an internal note (staff only)."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_request", "request_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    internal: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[Account] = relationship(lazy="raise")


class CooperationRequest(Base):
    """Staff ask the customer for something (an account, a test environment) by a date."""

    __tablename__ = "cooperation_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"), index=True)
    asked_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    what: Mapped[str] = mapped_column(Text)
    needed_by: Mapped[datetime | None]
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    answered_at: Mapped[datetime | None]


class SlaPause(Base):
    """An interval during which the resolution clock stood still (awaiting the customer)."""

    __tablename__ = "sla_pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"), index=True)
    reason: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class Attachment(Base):
    """A file on a request, a step, a message or a deliverable; stored outside static/ under a
    random name, served only through an access-checked route."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    step_id: Mapped[int | None] = mapped_column(ForeignKey("handling_steps.id"))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))  # sniffed from the content
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    internal: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
