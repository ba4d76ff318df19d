from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class HandlingRecord(Base):
    """问题处理跟踪表 — the handling record (IR), one per request, continued through rework."""

    __tablename__ = "handling_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"), unique=True)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    problems: Mapped[str] = mapped_column(Text, default="")
    workaround: Mapped[str] = mapped_column(Text, default="")
    final_result: Mapped[str] = mapped_column(Text, default="")
    customer_confirmed_name: Mapped[str | None] = mapped_column(String(100))
    customer_confirmed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HandlingStep(Base):
    """One timestamped step (time + operation) with the hours it took."""

    __tablename__ = "handling_steps"
    __table_args__ = (Index("ix_handling_steps_record", "record_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("handling_records.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    occurred_at: Mapped[datetime]
    operation: Mapped[str] = mapped_column(Text)
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal("0"))
    visible_to_customer: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
