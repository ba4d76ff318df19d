from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class Feedback(Base):
    """客户反馈表 — feedback (FB): three scores 1–5, the mean to one decimal, suggestions."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    channel: Mapped[str] = mapped_column(String(16))  # portal / phone
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    score_response: Mapped[int]
    score_effect: Mapped[int]
    score_attitude: Mapped[int]
    mean_score: Mapped[Decimal] = mapped_column(Numeric(2, 1))
    suggestions: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImprovementMeasure(Base):
    """改进措施 — needs an owner and a deadline; tracked to done."""

    __tablename__ = "improvement_measures"
    __table_args__ = (Index("ix_measures_status_deadline", "status", "deadline"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # from a feedback, or from a decision of a service review meeting (服务复盘会)
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("feedback.id"), index=True)
    review_meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_meetings.id"), index=True
    )
    measure: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    deadline: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default="open")  # open / in_progress / done
    done_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
