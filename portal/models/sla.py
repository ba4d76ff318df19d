from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class Calendar(Base):
    """A business calendar: time zone, working hours per weekday, holidays of a country."""

    __tablename__ = "calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    country: Mapped[str] = mapped_column(String(2), default="CN")
    # {"0": [["09:00","12:00"],["13:00","18:00"]], …} Monday = "0"
    working_hours: Mapped[dict] = mapped_column(JSON)


class CalendarOverride(Base):
    """An admin's override: a holiday or a make-up working day (调休) on one date."""

    __tablename__ = "calendar_overrides"
    __table_args__ = (UniqueConstraint("calendar_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendars.id", ondelete="CASCADE"))
    day: Mapped[date]
    kind: Mapped[str] = mapped_column(String(10))  # holiday / workday
    note: Mapped[str] = mapped_column(String(200), default="")


class SlaPolicy(Base):
    """A named SLA policy (标准, 金牌, …) that organisations point at. Its targets are kept as
    numbered versions (``SlaPolicyVersion``): a change makes a new version, and a request keeps
    the version it was submitted under. ``builtin``: the template's defaults, the policy of every
    organisation without one of its own (shown as 标准 / Standard in the reader's language)."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    builtin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlaPolicyVersion(Base):
    """One version of a policy's targets, numbered from 1; the highest number is current."""

    __tablename__ = "sla_policy_versions"
    __table_args__ = (UniqueConstraint("policy_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("sla_policies.id", ondelete="CASCADE"))
    number: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))


class SlaTarget(Base):
    """The targets of one priority in one version of a policy. Units: hours (the 24×7 clock),
    working_hours and working_days (the business calendar)."""

    __tablename__ = "sla_targets"
    __table_args__ = (UniqueConstraint("version_id", "priority"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("sla_policy_versions.id", ondelete="CASCADE")
    )
    priority: Mapped[str] = mapped_column(String(2))
    respond_amount: Mapped[int]
    respond_unit: Mapped[str] = mapped_column(String(16))  # hours / working_hours / working_days
    resolve_amount: Mapped[int]
    resolve_unit: Mapped[str] = mapped_column(String(16))
    warn_percent: Mapped[int] = mapped_column(default=75)
    # the interval between escalation levels: breach (level 1) → level 2
    escalate_after_minutes: Mapped[int] = mapped_column(default=60)


class SlaEvent(Base):
    """A warning or escalation, recorded once: the unique key makes retries harmless."""

    __tablename__ = "sla_events"
    __table_args__ = (
        UniqueConstraint("request_id", "kind", "due_at"),
        Index("ix_sla_events_fired", "fired_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"))
    kind: Mapped[str] = mapped_column(String(40))
    due_at: Mapped[datetime]
    fired_at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[dict | None] = mapped_column(JSON)
