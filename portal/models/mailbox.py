from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class Mailbox(Base):
    """An IMAP mailbox the portal takes mail from (docs/product.md §9). Its ``name`` is what
    each mail taken from it records (``InboundMail.mailbox``). The password is kept encrypted
    (portal/services/inbound/mailbox_secret.py), never in the clear."""

    __tablename__ = "mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    host: Mapped[str] = mapped_column(String(253))
    port: Mapped[int] = mapped_column(default=993)
    use_ssl: Mapped[bool] = mapped_column(default=True, server_default=true())
    username: Mapped[str] = mapped_column(String(254))
    password_encrypted: Mapped[str] = mapped_column(Text)
    folder: Mapped[str] = mapped_column(String(200), default="INBOX")
    # what happens to a mail once taken: moved to ``taken_folder``, or deleted
    after_taking: Mapped[str] = mapped_column(String(8), default="move")
    taken_folder: Mapped[str] = mapped_column(String(200), default="Portal/Taken")
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    last_fetch_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    last_taken_count: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
