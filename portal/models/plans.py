from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class ServicePlan(Base):
    """定期技术服务 — a periodic service (monthly inspection, quarterly optimisation) of one
    organisation that opens its delivery requests on schedule (docs/product.md §10; the dates
    are computed by portal/domain/plans.py)."""

    __tablename__ = "service_plans"
    __table_args__ = (Index("ix_service_plans_organisation", "organisation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    # the customer contact the requests are registered for (who accepts each delivery)
    contact_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    title: Mapped[str] = mapped_column(String(200))
    service_item: Mapped[str] = mapped_column(String(200), default="")
    # the checklist template, one item a line: the acceptance criteria (验收标准) of each SD
    checklist: Mapped[str] = mapped_column(Text, default="")
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    # the recurrence: an RFC 5545 RRULE without DTSTART (the start is ``starts_on``)
    rule: Mapped[str] = mapped_column(String(300))
    shift: Mapped[str] = mapped_column(String(10), default="next")  # next / previous / none
    lead_days: Mapped[int] = mapped_column(default=0)  # working days before the due day
    priority: Mapped[str] = mapped_column(String(2), default="P3")
    # NULL: the organisation's policy at the time each request opens
    sla_policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policies.id"))
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    paused_at: Mapped[datetime | None]
    # occurrences that open from this instant on follow the plan as it is now (set when the plan
    # is created, its schedule changed or it is resumed: a change never reaches back)
    effective_from: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlanOccurrence(Base):
    """One occurrence of a plan whose request was opened. The rule's own date is the key:
    whoever opens it (a worker, a sweep, twice at once), one row and one request exist."""

    __tablename__ = "plan_occurrences"
    __table_args__ = (
        UniqueConstraint("plan_id", "occurs_on"),
        Index("ix_plan_occurrences_due", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("service_plans.id"))
    occurs_on: Mapped[date]  # the rule's date
    due_on: Mapped[date]  # after the shift off a non-working day
    open_on: Mapped[date]  # the lead time before it
    status: Mapped[str] = mapped_column(String(12), default="opened")  # opened / opened_late
    # set in the transaction that claims the key (the row is written first, then the request)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("service_requests.id"), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
