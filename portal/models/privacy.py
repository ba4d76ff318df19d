from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class ContactReveal(Base):
    """A supervisor's audited, time-limited reveal of one request's contact (docs/product.md §5)."""

    __tablename__ = "contact_reveals"
    __table_args__ = (
        Index("ix_contact_reveals_lookup", "request_id", "account_id", "expires_at"),
        Index("ix_contact_reveals_revealed", "revealed_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    reason: Mapped[str] = mapped_column(Text)
    revealed_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
