from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, true
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class GroupBot(Base):
    """A WeCom, DingTalk or Feishu group webhook that staff notices go to
    (portal/domain/group_bots.py). The secret is stored as the platform gave it (it must be
    sent to sign), never shown again, never logged or audited."""

    __tablename__ = "group_bots"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    platform: Mapped[str] = mapped_column(String(10))  # wecom / dingtalk / feishu
    webhook_url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str | None] = mapped_column(String(200))
    # the events it is told of: among sla_warning, sla_escalation, new_p1
    events: Mapped[list] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(8), default="zh_CN")
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
