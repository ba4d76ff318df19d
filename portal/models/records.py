from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class NumberSequence(Base):
    """Per-prefix, per-day counter; incremented in the numbered row's own transaction."""

    __tablename__ = "number_sequences"

    prefix: Mapped[str] = mapped_column(String(4), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    last_value: Mapped[int]


class AuditEvent(Base):
    """Append-only audit log; each row carries the hash of the previous one."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_object", "object_type", "object_id", "id"),
        Index("ix_audit_actor", "actor_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(40))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(64))
    http_request_id: Mapped[str | None] = mapped_column(String(40))
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class VaguePhrase(Base):
    """Record-quality rule: a phrase that alone is too vague for a step or a result."""

    __tablename__ = "vague_phrases"
    __table_args__ = (UniqueConstraint("phrase", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phrase: Mapped[str] = mapped_column(String(60))
    locale: Mapped[str] = mapped_column(String(8))
    # True: a built-in phrase the admin removed from the list (the row hides it)
    removed: Mapped[bool] = mapped_column(default=False, server_default=false())


class DeskSetting(Base):
    """One setting of the desk an admin changes on the pages (e.g. which roles take requests)."""

    __tablename__ = "desk_settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[dict | list | str | int | bool | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))


class ContactImport(Base):
    """A contact file read and checked, waiting for the admin to confirm it: the preview's rows
    are kept here (not in the cookie, not on one machine's disk) until imported or expired."""

    __tablename__ = "contact_imports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    filename: Mapped[str] = mapped_column(String(255))
    rows: Mapped[list] = mapped_column(JSON)
    imported_at: Mapped[datetime | None]
