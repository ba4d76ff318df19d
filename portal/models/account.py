from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .organisation import Department, Organisation


class Account(Base):
    """A person who logs in: a customer contact or a staff member (never both)."""

    __tablename__ = "accounts"
    __table_args__ = (
        Index("ix_accounts_org_kind", "organisation_id", "kind"),
        Index("ix_accounts_phone", "phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # AccountKind
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    # customers
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    is_org_admin: Mapped[bool] = mapped_column(default=False)
    # staff
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    available: Mapped[bool] = mapped_column(default=True)
    # support level (1 = first line … 3 = expert), and a leave that ends on its own
    staff_level: Mapped[int | None]
    on_leave_until: Mapped[date | None]
    # set when invited and not yet accepted (the password is unusable until then)
    invited_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation | None] = relationship(lazy="raise")
    department: Mapped[Department | None] = relationship(lazy="raise")
    roles: Mapped[list[AccountRole]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", back_populates="account"
    )

    @property
    def role_names(self) -> set[str]:
        return {r.role for r in self.roles}

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_names.intersection(roles))


class AccountRole(Base):
    """A staff role held by an account; an account may hold several."""

    __tablename__ = "account_roles"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)  # Role

    account: Mapped[Account] = relationship(back_populates="roles")


class LoginSession(Base):
    """A server-side session: the cookie only carries its random id, so logout, password change
    and 'log out everywhere' really end it (a copied cookie stops working)."""

    __tablename__ = "login_sessions"
    __table_args__ = (Index("ix_login_sessions_account", "account_id", "revoked_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # which side it was opened on
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    revoked_at: Mapped[datetime | None]


class Skill(Base):
    """A skill of the skill matrix, tied to request types and an optional category."""

    __tablename__ = "skills"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    request_type: Mapped[str | None] = mapped_column(String(20))  # RequestType, None = any
    category: Mapped[str | None] = mapped_column(String(60))  # a Category code, None = any
    active: Mapped[bool] = mapped_column(default=True, server_default=true())


class StaffSkill(Base):
    """One cell of the skill matrix: a staff member's level (1–5) in a skill."""

    __tablename__ = "staff_skills"
    __table_args__ = (UniqueConstraint("account_id", "skill_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id", ondelete="CASCADE"), index=True)
    level: Mapped[int]


class Category(Base):
    """A request category of one request type: the managed list a request's category and a
    skill's category are chosen from (``code`` is what requests and skills store)."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("request_type", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_type: Mapped[str] = mapped_column(String(20))  # RequestType
    code: Mapped[str] = mapped_column(String(60))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
