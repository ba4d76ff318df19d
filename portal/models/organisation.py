from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, false, true
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class Organisation(Base):
    """A customer organisation (客户)."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    # Whether contacts may see / reply to their colleagues' requests (org admins always may).
    colleagues_may_view: Mapped[bool] = mapped_column(default=False)
    colleagues_may_reply: Mapped[bool] = mapped_column(default=False)
    # whether its org admins are told of every hand-off on its requests, as the contact is
    notify_org_admins: Mapped[bool] = mapped_column(default=False, server_default=false())
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("calendars.id"))
    # the SLA policy its requests are submitted under; NULL: the built-in one (标准)
    sla_policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policies.id"))
    # working days after completion within which the customer may rate (the template's 3)
    feedback_window_days: Mapped[int] = mapped_column(default=3, server_default="3")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Department(Base):
    """A staff department: support, R&D, test, ops, …"""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
