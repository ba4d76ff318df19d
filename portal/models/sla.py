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
    """Targets per priority; organisation_id None is the desk's default."""

    __tablename__ = "sla_policies"
    __table_args__ = (UniqueConstraint("organisation_id", "priority"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    priority: Mapped[str] = mapped_column(String(2))
    respond_amount: Mapped[int]
    respond_unit: Mapped[str] = mapped_column(String(16))  # hours / working_hours / working_days
    resolve_amount: Mapped[int]
    resolve_unit: Mapped[str] = mapped_column(String(16))
    warn_percent: Mapped[int] = mapped_column(default=75)
    escalate_after_minutes: Mapped[int] = mapped_column(default=60)  # breach level 1 → level 2


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
