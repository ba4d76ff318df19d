from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class ServicePlan(Base):
    """定期技术服务 — a periodic service (monthly inspection, quarterly optimisation) that opens
    delivery requests on schedule, with its checklist."""

    __tablename__ = "service_plans"
    __table_args__ = (Index("ix_service_plans_due", "active", "next_run_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    title: Mapped[str] = mapped_column(String(200))
    request_type: Mapped[str] = mapped_column(String(20), default="delivery")
    recurrence: Mapped[str] = mapped_column(String(16))  # monthly / quarterly
    checklist: Mapped[str] = mapped_column(Text, default="")
    next_run_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
