"""Builders for test data, through the real services where one exists."""

from __future__ import annotations

import itertools
from datetime import datetime

from portal.domain.vocabulary import Channel, Priority, RequestType
from portal.models import Category, Department, Organisation, utcnow
from portal.services import requests as sr_service
from portal.services.accounts import create_account
from portal.services.audit import Actor

# accepted by the password policy (portal/domain/password_policy.py) for every factory name
PASSWORD = "Tide-Orchard-Lamp-58"
_seq = itertools.count(1)


class Factory:
    """Accounts default to English so assertions read English; Chinese is covered by test_i18n."""

    def __init__(self, session, app):
        self.session = session
        self.app = app

    def organisation(self, name: str | None = None, **kw) -> Organisation:
        n = next(_seq)
        org = Organisation(name=name or f"Org {n}", code=kw.pop("code", f"ORG{n}"), **kw)
        self.session.add(org)
        self.session.flush()
        return org

    def department(self, code: str | None = None) -> Department:
        n = next(_seq)
        dept = Department(code=code or f"dept{n}", name_zh=f"部门{n}", name_en=f"Department {n}")
        self.session.add(dept)
        self.session.flush()
        return dept

    def category(self, request_type: str = "fault", code: str | None = None, **kw) -> Category:
        """A category of the managed list (reused when the type already has the code)."""
        from sqlalchemy import select

        code = code or f"cat{next(_seq)}"
        row = self.session.scalar(
            select(Category).where(Category.request_type == request_type, Category.code == code)
        )
        if row is None:
            row = Category(
                request_type=request_type,
                code=code,
                name_zh=kw.pop("name_zh", f"{code}类"),
                name_en=kw.pop("name_en", code.capitalize()),
                position=kw.pop("position", 0),
                active=kw.pop("active", True),
            )
            self.session.add(row)
            self.session.flush()
        return row

    def customer(
        self,
        org: Organisation | None = None,
        *,
        admin: bool = False,
        name: str | None = None,
        phone: str | None = None,
        email: str | None = None,
        locale: str | None = "en",
    ):
        n = next(_seq)
        org = org or self.organisation()
        return create_account(
            self.session,
            kind="customer",
            email=email or f"customer{n}@example.com",
            name=name or f"李客户{n}",
            password=PASSWORD,
            phone=phone or f"1390000{n:04d}",
            organisation_id=org.id,
            is_org_admin=admin,
            locale=locale,
        )

    def staff(
        self,
        *roles: str,
        name: str | None = None,
        department: Department | None = None,
        email: str | None = None,
        locale: str | None = "en",
    ):
        n = next(_seq)
        return create_account(
            self.session,
            kind="staff",
            email=email or f"staff{n}@desk.example.com",
            name=name or f"张工{n}",
            password=PASSWORD,
            roles=list(roles or ("engineer",)),
            department_id=department.id if department else None,
            locale=locale,
        )

    def request(
        self,
        contact,
        *,
        title: str | None = None,
        now: datetime | None = None,
        type: str = RequestType.FAULT,
        urgency: str = Priority.P2,
        channel: str = Channel.PORTAL,
        actor=None,
        **fields,
    ):
        n = next(_seq)
        intake = sr_service.Intake(
            type=RequestType(type),
            proposed_urgency=Priority(urgency),
            title=title or f"生产系统无法登录 {n}",
            description=fields.pop("description", "登录页面提示数据库连接超时,所有用户无法登录。"),
            **fields,
        )
        sr = sr_service.submit(
            self.session,
            actor or Actor(contact.id),
            contact,
            intake,
            now or utcnow(),
            self.app.config["PORTAL_TIMEZONE"],
            channel=channel,
        )
        return sr
