"""How each person wants to be told by e-mail, per category, and the digests sent
(docs/product.md §9)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class NotificationPreference(Base):
    """One person's mode for one category (portal/domain/notice_kinds.py); no row = instant."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("account_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    category: Mapped[str] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(10))  # instant / digest / off
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestWatermark(Base):
    """The daily digest of one person for one desk day: at most one (the unique key), and up to
    which notification it told (the next digest starts after it)."""

    __tablename__ = "digest_watermarks"
    __table_args__ = (UniqueConstraint("account_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    day: Mapped[date]
    last_notification_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
