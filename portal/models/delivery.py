from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class Delivery(Base):
    """服务交付验收单 — a delivery and its acceptance (SD). A failed acceptance leads to rework
    and a later delivery with a new SD number."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_request", "request_id", "delivered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"))
    round: Mapped[int] = mapped_column(default=1)
    delivered_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    service_item: Mapped[str] = mapped_column(String(200))
    demo_note: Mapped[str] = mapped_column(Text, default="")
    delivered_at: Mapped[datetime] = mapped_column(default=utcnow)
    # SHA-256 over the canonical content (items, criteria, service item): any later change shows
    content_hash: Mapped[str] = mapped_column(String(64))
    result: Mapped[str | None] = mapped_column(String(8))  # pass / fail
    unmet_items: Mapped[str] = mapped_column(Text, default="")
    rectification: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None]


class DeliveryItem(Base):
    """One deliverable of the list (交付内容清单)."""

    __tablename__ = "delivery_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)


class DeliveryCriterion(Base):
    """One acceptance criterion (验收标准), checked by the customer."""

    __tablename__ = "delivery_criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    met: Mapped[bool | None]


class Signature(Base):
    """A party's signature on an acceptance form (双方签字版)."""

    __tablename__ = "signatures"
    __table_args__ = (UniqueConstraint("delivery_id", "party"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    party: Mapped[str] = mapped_column(String(10))  # customer / handler
    signer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    typed_name: Mapped[str] = mapped_column(String(100))
    image_png: Mapped[str | None] = mapped_column(Text)  # data: URL of the drawn signature
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64))  # the delivery's hash when signed
