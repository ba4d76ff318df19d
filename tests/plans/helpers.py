"""A plan built through the service, for the plans' tests."""

from __future__ import annotations

from datetime import date, datetime

from portal.domain import plans as rules
from portal.services import audit
from portal.services import plans as plan_service

CHECKLIST = "检查服务器磁盘空间\n核对数据库备份日志\n确认补丁版本"


def plan_input(contact, **kw) -> plan_service.PlanInput:
    values = dict(
        title="月度系统巡检",
        service_item="系统巡检服务",
        checklist=CHECKLIST,
        contact_id=contact.id,
        rule=rules.RuleChoice(rules.MONTHLY_DAY, day=1),
        shift=rules.SHIFT_NEXT,
        lead_days=0,
        priority="P3",
        starts_on=date(2026, 1, 1),
    )
    values.update(kw)
    return plan_service.PlanInput(**values)


def make_plan(session, author, contact, now: datetime, **kw):
    return plan_service.create(
        session, audit.Actor(author.id), author, plan_input(contact, **kw), now
    )
