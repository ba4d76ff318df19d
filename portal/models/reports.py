from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class FeedbackReport(Base):
    """客户反馈分析报告 — the monthly feedback analysis report (FA-YYYYMM), one per month: the
    figures are frozen when it is generated and sealed by the hash of their canonical form."""

    __tablename__ = "feedback_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)  # FA-202611
    month: Mapped[str] = mapped_column(String(7), unique=True)  # 2026-11: one report a month
    period_start: Mapped[date]
    period_end: Mapped[date]  # the last day of the month
    figures: Mapped[dict] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    generated_at: Mapped[datetime] = mapped_column(default=utcnow)
    generated_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))  # None: job


class ReviewMeeting(Base):
    """服务复盘会 — the monthly service review meeting recorded against a report."""

    __tablename__ = "review_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("feedback_reports.id"), index=True)
    held_on: Mapped[date]
    attendees: Mapped[str] = mapped_column(Text)
    decisions: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
