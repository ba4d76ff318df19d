from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class InboundMail(Base):
    """One mail taken from a mailbox (IMAP or ``portal mail receive``), exactly once per
    (mailbox, message key): the key is the SHA-256 of the Message-ID, or of the raw bytes when
    the mail has none. What became of it is its status (docs/product.md §9)."""

    __tablename__ = "inbound_mails"
    __table_args__ = (
        UniqueConstraint("mailbox", "message_key"),
        Index("ix_inbound_mails_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # the mailbox's name ("stdin" for mail delivered by the MTA to `portal mail receive`)
    mailbox: Mapped[str] = mapped_column(String(120))
    message_key: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(Text)
    # received / message / request / triage / ignored / refused / unreadable / discarded
    status: Mapped[str] = mapped_column(String(16), default="received")
    reason: Mapped[str | None] = mapped_column(String(300))
    sender: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(default=0)
    # kept while the mail waits for a person (triage, could not read); emptied once handled
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("service_requests.id"))
    detail: Mapped[dict | None] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
