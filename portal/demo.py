"""The demo seed of `portal demo`: two customer organisations, one staff account per role and about
thirty requests over every status, submitted over the last ten days.

Requests are submitted through the real intake service with the time of their submission (so SR
numbers carry that day); the later states are then written directly, as the classification,
assignment, handling, delivery and feedback steps would have left them. Seeding runs once: a
database that already holds the demo organisations is left alone unless reset.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import security
from portal.domain import delivery as delivery_rules
from portal.domain import feedback as feedback_rules
from portal.domain.classification import suggest_priority, urgency_from_proposal
from portal.domain.vocabulary import Channel, FormPrefix, Priority, RequestType, Status
from portal.models import (
    Account,
    AccountRole,
    Assignment,
    Base,
    Calendar,
    Classification,
    Collaborator,
    CooperationRequest,
    Delivery,
    DeliveryCriterion,
    DeliveryItem,
    Department,
    Feedback,
    HandlingRecord,
    HandlingStep,
    ImprovementMeasure,
    Message,
    Organisation,
    ServiceRequest,
    Signature,
    Skill,
    SlaPause,
    StaffSkill,
)
from portal.services import audit, defaults, sla
from portal.services import requests as request_service
from portal.services.notifications import notify
from portal.services.numbers import next_number

DEMO_PASSWORD = "demo1234"
MARKER_ORG = "ACME"

DEPARTMENTS = [
    ("support", "技术支持部", "Support"),
    ("rnd", "研发部", "R&D"),
    ("test", "测试部", "Test"),
    ("ops", "运维部", "Operations"),
]

# code, zh, en, request type, category
SKILLS = [
    ("fault-login", "登录与认证故障", "Login and authentication faults", "fault", "login"),
    ("fault-database", "数据库故障", "Database faults", "fault", "database"),
    ("fault-network", "网络与终端故障", "Network and device faults", "fault", "network"),
    ("consult-usage", "产品使用咨询", "Product usage questions", "consultation", "usage"),
    ("consult-integration", "接口集成咨询", "Integration questions", "consultation", "integration"),
    ("optim-performance", "性能优化", "Performance tuning", "optimisation", "performance"),
    (
        "optim-workflow",
        "流程与报表优化",
        "Workflow and report improvements",
        "optimisation",
        "workflow",
    ),
    ("delivery-deployment", "部署实施", "Deployment", "delivery", "deployment"),
    ("delivery-inspection", "定期巡检", "Periodic inspection", "delivery", "inspection"),
]

ORGANISATIONS = [
    # code, name, colleagues may view
    ("ACME", "华东制造有限公司", True),
    ("STAR", "星河零售集团", False),
]

# key, organisation, name, mobile, e-mail, org admin
CUSTOMERS = [
    ("li", "ACME", "李明", "13812345678", "li.ming@acme.example.com", False),
    ("wang", "ACME", "王芳", "13800001234", "wang.fang@acme.example.com", False),
    ("chen", "ACME", "陈建国", "13900002222", "chen.jianguo@acme.example.com", True),
    ("zhao", "STAR", "赵丽", "13700003333", "zhao.li@star.example.com", False),
    ("sun", "STAR", "孙伟", "13600004444", "sun.wei@star.example.com", False),
    ("zhou", "STAR", "周敏", "13500005555", "zhou.min@star.example.com", True),
]

# key, name, e-mail, department, roles, skills {code: level}
STAFF = [
    ("agent", "刘洋", "agent@desk.example.com", "support", ["agent"], {}),
    (
        "supervisor",
        "赵静",
        "supervisor@desk.example.com",
        "support",
        ["supervisor"],
        {"fault-login": 4, "fault-database": 4, "consult-usage": 5},
    ),
    ("dispatcher", "黄磊", "dispatcher@desk.example.com", "support", ["dispatcher"], {}),
    (
        "eng1",
        "张强",
        "engineer1@desk.example.com",
        "support",
        ["engineer"],
        {
            "fault-login": 5,
            "fault-database": 4,
            "consult-integration": 4,
            "optim-performance": 4,
            "optim-workflow": 3,
            "consult-usage": 4,
        },
    ),
    (
        "eng2",
        "王涛",
        "engineer2@desk.example.com",
        "ops",
        ["engineer"],
        {
            "fault-network": 5,
            "fault-database": 4,
            "delivery-deployment": 5,
            "delivery-inspection": 4,
            "consult-usage": 3,
        },
    ),
    ("admin", "孙浩", "admin@desk.example.com", "ops", ["admin"], {}),
]

ROLE_TITLES = {
    "agent": "agent",
    "supervisor": "supervisor",
    "dispatcher": "dispatcher",
    "eng1": "engineer",
    "eng2": "engineer",
    "admin": "admin",
}

# the template's SLA: (respond, unit, resolve, unit)
SLA_DEFAULTS = {
    "P1": (2, "hours", 4, "hours"),
    "P2": (4, "hours", 24, "hours"),
    "P3": (8, "working_hours", 3, "working_days"),
}


@dataclass
class Spec:
    """One demo request and how far it got."""

    org: str
    contact: str
    title: str
    description: str
    type: str
    category: str
    urgency: str
    status: str
    submitted: datetime
    priority: str | None = None
    channel: str = Channel.PORTAL
    handler: str | None = None
    steps: list[tuple[str, str]] = field(default_factory=list)  # (operation, hours)
    scores: tuple[int, int, int] | None = None
    suggestion: str = ""
    measure: str = ""
    ask: str = ""


@dataclass
class SeedResult:
    created: bool
    requests: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------


def is_seeded(session: Session) -> bool:
    return (
        session.scalar(select(Organisation.id).where(Organisation.code == MARKER_ORG)) is not None
    )


def wipe(session: Session) -> None:
    """Delete every row of every table (the schema stays)."""
    from portal.services import audit

    with audit.unguarded(session):  # the append-only audit log goes with everything else
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())
        session.flush()


def seed(session: Session, now: datetime, timezone: str, *, reset: bool = False) -> SeedResult:
    """Seed the demo once; the caller commits."""
    if reset:
        wipe(session)
    elif is_seeded(session):
        return SeedResult(created=False)
    # the same password for every demo account: hash it once, not once per account
    password_hash = security.hash_password(DEMO_PASSWORD)
    builder = _Builder(session, now, timezone, password_hash)
    builder.reference_data()
    builder.people()
    builder.requests()
    session.flush()
    counts = dict(
        session.execute(
            select(ServiceRequest.status, func.count()).group_by(ServiceRequest.status)
        ).all()
    )
    return SeedResult(created=True, requests=sum(counts.values()), by_status=counts)


def logins() -> list[dict]:
    """The demo accounts to print: side, role, name, organisation, e-mail."""
    org_names = {code: name for code, name, _ in ORGANISATIONS}
    rows = []
    for _key, org, name, _phone, email, admin in CUSTOMERS:
        rows.append(
            {
                "side": "customer",
                "role": "org admin" if admin else "contact",
                "name": name,
                "where": f"{org_names[org]} ({org})",
                "email": email,
            }
        )
    for key, name, email, dept, _roles, _skills in STAFF:
        rows.append(
            {
                "side": "staff",
                "role": ROLE_TITLES[key],
                "name": name,
                "where": dict((c, en) for c, _z, en in DEPARTMENTS)[dept],
                "email": email,
            }
        )
    return rows


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _display_width(text))


def format_logins(base_url: str) -> str:
    """The table `portal demo` prints (CJK-aware column widths)."""
    base = base_url.rstrip("/")
    rows = logins()
    lines = [f"Password for every demo account: {DEMO_PASSWORD}", ""]
    for side, path, label in (
        ("customer", "/login", "Customer side"),
        ("staff", "/staff/login", "Staff side"),
    ):
        part = [r for r in rows if r["side"] == side]
        cols = ("role", "name", "where", "email")
        heads = {
            "role": "role",
            "name": "name",
            "where": "organisation" if side == "customer" else "department",
            "email": "login (e-mail)",
        }
        widths = {
            c: max(_display_width(heads[c]), *(_display_width(r[c]) for r in part)) for c in cols
        }
        lines.append(f"{label}: {base}{path}")
        lines.append("  " + "  ".join(_pad(heads[c], widths[c]) for c in cols).rstrip())
        for r in part:
            lines.append("  " + "  ".join(_pad(r[c], widths[c]) for c in cols).rstrip())
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------------------------------------


def _add_working_hours(start: datetime, hours: float, tz: ZoneInfo) -> datetime:
    """Demo approximation of the business calendar: Mon–Fri 09–12 and 13–18, no holidays.
    The SLA service recomputes due times properly on the next change of a request."""
    remaining = timedelta(hours=hours)
    cursor = start.astimezone(tz)
    while remaining > timedelta(0):
        if cursor.weekday() < 5:
            for a, b in ((time(9), time(12)), (time(13), time(18))):
                lo = datetime.combine(cursor.date(), a, tz)
                hi = datetime.combine(cursor.date(), b, tz)
                begin = max(cursor, lo)
                if begin >= hi:
                    continue
                take = min(remaining, hi - begin)
                remaining -= take
                cursor = begin + take
                if remaining <= timedelta(0):
                    return cursor.astimezone(UTC)
        cursor = datetime.combine(cursor.date() + timedelta(days=1), time(0), tz)
    return cursor.astimezone(UTC)


def _due(submitted: datetime, priority: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    respond, r_unit, resolve, s_unit = SLA_DEFAULTS[priority]

    def add(amount: int, unit: str) -> datetime:
        if unit == "hours":
            return submitted + timedelta(hours=amount)
        hours = amount if unit == "working_hours" else amount * 8
        return _add_working_hours(submitted, hours, tz)

    return add(respond, r_unit), add(resolve, s_unit)


def _content_hash(service_item: str, items: list[str], criteria: list[str]) -> str:
    # the same canonical content hash the delivery service takes (no demo note, no files here)
    return delivery_rules.content_hash(service_item, items, criteria)


def _mean(scores: tuple[int, int, int]) -> Decimal:
    return feedback_rules.mean_score(*scores)


class _Builder:
    def __init__(self, session: Session, now: datetime, timezone: str, password_hash: str) -> None:
        self.s = session
        self.now = now
        self.tzname = timezone
        self.tz = ZoneInfo(timezone)
        self.password_hash = password_hash
        self.depts: dict[str, Department] = {}
        self.orgs: dict[str, Organisation] = {}
        self.people_by_key: dict[str, Account] = {}
        # numbered forms (IR, SD, FB) are made in time order, so their day sequences follow time
        self.numbered: list[tuple[datetime, int, str, Callable[[str], None]]] = []

    # --- time helpers -------------------------------------------------------------------------

    def ago(self, days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
        return self.now - timedelta(days=days, hours=hours, minutes=minutes)

    def local(self, days_ago: int, hh: int, mm: int) -> datetime:
        day = (self.now.astimezone(self.tz) - timedelta(days=days_ago)).date()
        return datetime.combine(day, time(hh, mm), self.tz).astimezone(UTC)

    # --- reference data -----------------------------------------------------------------------

    def reference_data(self) -> None:
        s = self.s
        for code, zh, en in DEPARTMENTS:
            dept = s.scalar(select(Department).where(Department.code == code))
            if dept is None:
                dept = Department(code=code, name_zh=zh, name_en=en)
                s.add(dept)
            self.depts[code] = dept
        for code, zh, en, rtype, category in SKILLS:
            if s.scalar(select(Skill.id).where(Skill.code == code)) is None:
                s.add(
                    Skill(code=code, name_zh=zh, name_en=en, request_type=rtype, category=category)
                )
        s.flush()
        # the migration created the default calendar and SLA policies; --reset wiped them
        defaults.ensure_defaults(s.connection(), self.tzname)
        calendar = s.scalars(select(Calendar).order_by(Calendar.id)).first()
        for code, name, colleagues in ORGANISATIONS:
            org = Organisation(
                code=code,
                name=name,
                colleagues_may_view=colleagues,
                colleagues_may_reply=False,
                calendar_id=calendar.id,
                created_at=self.local(30, 9, 12),
            )
            s.add(org)
            self.orgs[code] = org
        s.flush()

    def people(self) -> None:
        s = self.s
        created = self.local(30, 10, 25)
        for key, org, name, phone, email, admin in CUSTOMERS:
            acc = Account(
                kind="customer",
                email=email,
                name=name,
                phone=phone,
                password_hash=self.password_hash,
                organisation_id=self.orgs[org].id,
                is_org_admin=admin,
                created_at=created,
                password_changed_at=created,
            )
            s.add(acc)
            self.people_by_key[key] = acc
        skills = {sk.code: sk for sk in s.scalars(select(Skill))}
        for key, name, email, dept, roles, _levels in STAFF:
            acc = Account(
                kind="staff",
                email=email,
                name=name,
                phone=None,
                password_hash=self.password_hash,
                department_id=self.depts[dept].id,
                created_at=created,
                password_changed_at=created,
                roles=[AccountRole(role=r) for r in roles],
            )
            s.add(acc)
            self.people_by_key[key] = acc
        s.flush()
        for key, _name, _email, _dept, _roles, levels in STAFF:
            for code, level in levels.items():
                s.add(
                    StaffSkill(
                        account_id=self.people_by_key[key].id, skill_id=skills[code].id, level=level
                    )
                )
        s.flush()

    # --- requests -----------------------------------------------------------------------------

    def specs(self) -> list[Spec]:
        ago, local = self.ago, self.local
        F, C, OPT, D = (
            RequestType.FAULT,
            RequestType.CONSULTATION,
            RequestType.OPTIMISATION,
            RequestType.DELIVERY,
        )
        S = Status
        return [
            # awaiting classification
            Spec(
                "ACME",
                "wang",
                "MES报工界面加载缓慢",
                "车间报工页面打开需要15秒以上,早班交接时尤其明显,影响报工效率。",
                OPT,
                "performance",
                "P3",
                S.SUBMITTED,
                ago(hours=2),
            ),
            Spec(
                "STAR",
                "zhao",
                "会员积分未到账",
                "顾客3月消费后积分未到账,涉及约20名会员,门店无法手工补录。",
                F,
                "database",
                "P2",
                S.SUBMITTED,
                ago(hours=1),
                channel=Channel.PHONE,
            ),
            Spec(
                "STAR",
                "sun",
                "咨询小程序接口调用频率限制",
                "计划在小程序中批量查询库存,想确认开放接口每分钟的调用上限和超限后的返回码。",
                C,
                "integration",
                "P3",
                S.SUBMITTED,
                ago(hours=5),
                channel=Channel.EMAIL,
            ),
            Spec(
                "ACME",
                "li",
                "申请开通测试环境账号",
                "新项目组3名成员需要测试环境的登录账号,用于下周的验收测试。",
                D,
                "deployment",
                "P3",
                S.SUBMITTED,
                ago(minutes=30),
            ),
            # pending assignment
            Spec(
                "ACME",
                "chen",
                "ERP月结报表导出失败",
                "财务月结时导出总账报表提示“导出任务超时”,重试三次均失败。",
                F,
                "database",
                "P2",
                S.PENDING_ASSIGNMENT,
                local(1, 14, 5),
                priority="P2",
            ),
            Spec(
                "STAR",
                "zhou",
                "门店POS收银机无法打印小票",
                "徐汇店两台收银机今早开始无法打印小票,顾客排队,影响门店收银。",
                F,
                "network",
                "P1",
                S.PENDING_ASSIGNMENT,
                ago(hours=3),
                priority="P1",
                channel=Channel.PHONE,
            ),
            Spec(
                "STAR",
                "zhao",
                "促销规则配置咨询",
                "想配置“满300减50且会员再享9.5折”的叠加促销,不确定规则优先级如何设置。",
                C,
                "usage",
                "P3",
                S.PENDING_ASSIGNMENT,
                local(1, 11, 40),
                priority="P3",
            ),
            Spec(
                "ACME",
                "wang",
                "仓库扫码枪批量入库优化",
                "仓库入库每次只能扫一箱,希望支持整托批量扫码入库,减少重复操作。",
                OPT,
                "workflow",
                "P3",
                S.PENDING_ASSIGNMENT,
                local(2, 15, 30),
                priority="P3",
                channel=Channel.EMAIL,
            ),
            # in progress
            Spec(
                "ACME",
                "li",
                "VPN连接频繁断开",
                "分厂员工通过VPN访问MES时每隔约10分钟断开一次,需要重新登录。",
                F,
                "network",
                "P2",
                S.IN_PROGRESS,
                local(2, 9, 50),
                priority="P2",
                handler="eng2",
                steps=[
                    ("远程查看VPN网关日志,发现会话空闲超时设置为600秒", "0.5"),
                    ("将分厂VPN策略的空闲超时调整为3600秒并观察一个班次", "1.0"),
                ],
            ),
            Spec(
                "STAR",
                "sun",
                "库存同步任务延迟超过30分钟",
                "门店库存与总部系统的同步任务延迟超过30分钟,线上订单出现超卖。",
                F,
                "database",
                "P1",
                S.IN_PROGRESS,
                ago(hours=3),
                priority="P1",
                handler="eng1",
                channel=Channel.ON_SITE,
                steps=[("检查同步队列,积压约1.2万条消息,消费者进程仅剩1个存活", "0.5")],
            ),
            Spec(
                "ACME",
                "chen",
                "生产数据看板查询优化",
                "生产数据看板按月查询需要40秒,希望优化到5秒以内。",
                OPT,
                "performance",
                "P3",
                S.IN_PROGRESS,
                local(3, 16, 15),
                priority="P3",
                handler="eng1",
            ),
            Spec(
                "STAR",
                "zhou",
                "新门店系统部署",
                "静安新门店下周开业,需要部署收银、会员和库存系统并完成联调。",
                D,
                "deployment",
                "P2",
                S.IN_PROGRESS,
                local(4, 13, 35),
                priority="P2",
                handler="eng2",
                steps=[
                    ("完成门店服务器操作系统安装和网络配置,IP段192.168.50.0/24", "3.0"),
                    ("安装收银系统4.2版并导入门店商品主数据1.8万条", "2.5"),
                ],
            ),
            Spec(
                "ACME",
                "wang",
                "MES与ERP接口字段映射咨询",
                "MES工单完工数据回传ERP时,批次号字段应对应ERP哪个字段?",
                C,
                "integration",
                "P3",
                S.IN_PROGRESS,
                local(2, 10, 5),
                priority="P3",
                handler="eng1",
                channel=Channel.EMAIL,
                steps=[("查阅接口文档3.4节,整理工单完工回传字段对照表初稿", "1.0")],
            ),
            Spec(
                "STAR",
                "zhao",
                "会员系统登录验证码收不到",
                "部分会员反映登录时收不到短信验证码,集中在移动号段。",
                F,
                "login",
                "P2",
                S.IN_PROGRESS,
                local(1, 14, 50),
                priority="P2",
                handler="eng1",
                steps=[("查询短信网关发送记录,移动号段返回码为频率限制", "0.5")],
            ),
            # awaiting the customer
            Spec(
                "ACME",
                "li",
                "数据库备份任务失败",
                "每晚的数据库全量备份任务连续两天失败,备份日志提示磁盘空间不足。",
                F,
                "database",
                "P2",
                S.AWAITING_CUSTOMER,
                local(3, 9, 12),
                priority="P2",
                handler="eng2",
                steps=[("检查备份服务器磁盘,/backup分区使用率98%", "0.5")],
                ask="请提供备份服务器的只读账号,以便核对历史备份的保留策略。",
            ),
            Spec(
                "STAR",
                "sun",
                "收银系统升级后价格显示异常",
                "收银系统升级到4.2版后,部分商品会员价显示为原价。",
                F,
                "usage",
                "P2",
                S.AWAITING_CUSTOMER,
                local(4, 10, 25),
                priority="P2",
                handler="eng1",
                channel=Channel.PHONE,
                steps=[("在测试环境复现:会员价规则的生效门店列表为空时显示原价", "1.5")],
                ask="请提供一家测试门店的收银环境,用于验证修复后的会员价规则。",
            ),
            Spec(
                "ACME",
                "chen",
                "季度功能优化需求梳理",
                "本季度需优化的功能点较多,请协助梳理优先级和工作量。",
                OPT,
                "workflow",
                "P3",
                S.AWAITING_CUSTOMER,
                local(5, 14, 5),
                priority="P3",
                handler="eng1",
                steps=[("与客户电话沟通1小时,记录待优化功能点12项", "1.0")],
                ask="请确认附件中12项优化需求的业务优先级。",
            ),
            # pending acceptance
            Spec(
                "STAR",
                "zhou",
                "门店网络交换机更换",
                "浦东店核心交换机老化频繁丢包,需要更换并迁移配置。",
                D,
                "deployment",
                "P2",
                S.PENDING_ACCEPTANCE,
                local(5, 11, 40),
                priority="P2",
                handler="eng2",
                channel=Channel.ON_SITE,
                steps=[
                    ("现场更换核心交换机并迁移VLAN与ACL配置", "3.0"),
                    ("连续ping测试2小时,丢包率0%", "2.0"),
                ],
            ),
            Spec(
                "ACME",
                "wang",
                "报表导出模板调整",
                "质检日报导出的Excel模板需要增加“返工数量”和“责任工序”两列。",
                OPT,
                "workflow",
                "P3",
                S.PENDING_ACCEPTANCE,
                local(6, 15, 30),
                priority="P3",
                handler="eng1",
                steps=[
                    ("修改质检日报模板,新增两列并调整公式", "2.0"),
                    ("用上周数据生成样表,与手工统计核对一致", "1.0"),
                ],
            ),
            Spec(
                "STAR",
                "zhao",
                "小程序订单接口对接咨询",
                "小程序下单后如何调用订单接口同步到门店系统?需要示例。",
                C,
                "integration",
                "P3",
                S.PENDING_ACCEPTANCE,
                local(4, 9, 50),
                priority="P3",
                handler="eng1",
                steps=[("编写订单同步接口调用示例(含签名算法)并在沙箱验证通过", "2.5")],
            ),
            # completed (accepted, feedback not yet given)
            Spec(
                "ACME",
                "li",
                "月度系统巡检(本月)",
                "按服务合同进行本月系统巡检:服务器、数据库、备份与安全基线。",
                D,
                "inspection",
                "P3",
                S.COMPLETED,
                local(7, 16, 15),
                priority="P3",
                handler="eng2",
                steps=[
                    ("检查8台服务器CPU、内存、磁盘使用率并记录", "2.0"),
                    ("核对数据库备份可恢复性,抽检恢复1个库成功", "1.5"),
                    ("输出巡检报告,列出3项风险与建议", "1.0"),
                ],
            ),
            Spec(
                "STAR",
                "sun",
                "POS机网络配置咨询",
                "新采购的POS机如何配置静态IP和打印机端口?",
                C,
                "usage",
                "P3",
                S.COMPLETED,
                local(6, 13, 35),
                priority="P3",
                handler="eng2",
                steps=[("远程指导门店配置静态IP与打印机9100端口,打印测试页成功", "1.0")],
            ),
            Spec(
                "ACME",
                "chen",
                "ERP登录缓慢排查",
                "ERP登录需要1分钟左右,其他功能正常。",
                F,
                "login",
                "P2",
                S.COMPLETED,
                local(5, 10, 5),
                priority="P2",
                handler="eng1",
                steps=[
                    ("抓取登录请求耗时,LDAP查询超时占55秒", "1.0"),
                    ("将LDAP服务器地址改为内网地址,登录耗时降至3秒", "0.5"),
                ],
            ),
            # closed
            Spec(
                "STAR",
                "zhou",
                "会员数据导出失败",
                "导出全部会员数据时页面报错500。",
                F,
                "database",
                "P2",
                S.CLOSED,
                local(8, 14, 50),
                priority="P2",
                handler="eng1",
                steps=[
                    ("查看应用日志,导出查询超过内存限制", "0.5"),
                    ("改为分批导出每批5000条,导出全部26万条会员数据成功", "2.0"),
                ],
                scores=(4, 4, 5),
                suggestion="希望导出完成后能收到通知。",
            ),
            Spec(
                "ACME",
                "wang",
                "打印服务配置咨询",
                "车间标签打印机如何设置为默认打印机?",
                C,
                "usage",
                "P3",
                S.CLOSED,
                local(9, 9, 12),
                priority="P3",
                handler="eng2",
                steps=[("远程设置车间终端默认打印机并打印测试标签", "0.5")],
                scores=(5, 5, 5),
            ),
            Spec(
                "STAR",
                "zhao",
                "促销页面加载优化",
                "大促期间促销页面加载需要8秒。",
                OPT,
                "performance",
                "P3",
                S.CLOSED,
                local(10, 10, 25),
                priority="P3",
                handler="eng1",
                steps=[("为促销商品列表增加缓存,页面加载降至1.2秒", "3.0")],
            ),
            Spec(
                "ACME",
                "chen",
                "新产线工控机系统部署",
                "二号产线新增6台工控机,需要安装MES客户端并接入产线网络。",
                D,
                "deployment",
                "P2",
                S.CLOSED,
                local(9, 14, 5),
                priority="P2",
                handler="eng2",
                channel=Channel.ON_SITE,
                steps=[
                    ("6台工控机安装MES客户端3.1版并接入产线VLAN 30", "4.0"),
                    ("逐台完成扫码报工联调,6台全部通过", "2.0"),
                ],
                scores=(4, 3, 4),
                suggestion="现场实施前希望提前一天确认到场时间。",
                measure="现场实施类请求在派工时同步确认到场时间,并短信通知客户对接人",
            ),
            # cancelled
            Spec(
                "STAR",
                "sun",
                "会员卡无法绑定",
                "顾客反映会员卡无法绑定到小程序。",
                F,
                "login",
                "P3",
                S.CANCELLED,
                local(3, 11, 40),
                priority=None,
            ),
            Spec(
                "ACME",
                "wang",
                "咨询导出PDF功能",
                "报表能否直接导出为PDF?",
                C,
                "usage",
                "P3",
                S.CANCELLED,
                local(2, 15, 30),
                priority="P3",
            ),
            # the template's example (SR-…, IR with four timed steps totalling 2.5 h, SD, FB 4.7)
            Spec(
                "ACME",
                "li",
                "生产系统无法登录",
                "生产系统登录页面提示“数据库连接超时”,所有用户无法登录,影响车间生产。附系统截图和错误日志。",
                F,
                "login",
                "P1",
                S.CLOSED,
                local(6, 9, 30),
                priority="P1",
                handler="eng1",
                scores=(5, 4, 5),
                suggestion="希望增加故障预警功能",
                measure="记录需求,纳入下一季度产品优化计划",
            ),
        ]

    def requests(self) -> None:
        specs = sorted(self.specs(), key=lambda sp: sp.submitted)
        made = []
        for sp in specs:
            contact = self.people_by_key[sp.contact]
            by_agent = sp.channel in (Channel.PHONE, Channel.EMAIL, Channel.ON_SITE)
            actor = audit.Actor(self.people_by_key["agent"].id if by_agent else contact.id)
            sr = request_service.submit(
                self.s,
                actor,
                contact,
                request_service.Intake(
                    type=RequestType(sp.type),
                    proposed_urgency=Priority(sp.urgency),
                    title=sp.title,
                    description=sp.description,
                    category=sp.category,
                ),
                sp.submitted,
                self.tzname,
                channel=Channel(sp.channel),
            )
            made.append((sp, sr))
        # the seed tells supervisors itself (below); no background job for thirty old requests
        self.s.info.pop("portal_after_commit", None)
        for sp, sr in made:
            if sp.title == "生产系统无法登录":
                self.template_example(sp, sr)
            else:
                self.progress(sp, sr)
        for _when, _order, prefix, make in sorted(self.numbered, key=lambda n: (n[0], n[1])):
            make(prefix)
        # the due times above were set directly: the warning instants follow them, in working
        # time on the calendar, as the SLA service stores them (NULL where no warning is to come)
        for _sp, sr in made:
            sla.refresh_warn_times(self.s, sr)
        self.s.flush()
        for _sp, sr in made:
            if sr.updated_at > self.now:
                raise AssertionError(f"demo request {sr.title} ends in the future")

    def later(self, when: datetime, prefix: str, make: Callable[[str], None]) -> None:
        self.numbered.append((when, len(self.numbered), prefix, make))

    def number(self, prefix: str, when: datetime) -> str:
        return next_number(self.s, prefix, when, self.tzname)

    # --- the states of one request ------------------------------------------------------------

    def classify(self, sp: Spec, sr: ServiceRequest, at: datetime) -> None:
        sup = self.people_by_key["supervisor"]
        # the three answers of the supervisor's panel, chosen so that the suggested priority
        # (portal.domain.classification) is the one recorded
        impact = {"P1": "core", "P2": "partial", "P3": "none"}[sp.priority]
        urgency = urgency_from_proposal(sp.urgency).value
        importance = {"P1": "high", "P2": "medium", "P3": "low"}[sp.priority]
        assert suggest_priority(impact, urgency, importance) == sp.priority
        self.s.add(
            Classification(
                request_id=sr.id,
                classified_by_id=sup.id,
                type=sr.type,
                category=sr.category,
                priority=sp.priority,
                impact_scope=impact,
                urgency=urgency,
                business_importance=importance,
                confirmed_details=f"已与{sr.contact_name[0]}*电话确认问题现象与影响范围。",
                expected_completion_at=None,
                created_at=at,
            )
        )
        sr.priority = sp.priority
        sr.classified_at = at
        audit.record(
            self.s,
            audit.Actor(sup.id),
            at,
            "request.classify",
            "service_request",
            sr.number,
            before={"status": "submitted"},
            after={"status": "pending_assignment", "priority": sp.priority},
        )

    def assign(
        self, sr: ServiceRequest, handler: Account, at: datetime, confirmed: datetime
    ) -> None:
        disp = self.people_by_key["dispatcher"]
        assignment = Assignment(
            request_id=sr.id,
            handler_id=handler.id,
            assigned_by_id=disp.id,
            reason="技能匹配度最高,当前在办工作量较低",
            briefing=f"{sr.priority},客户期望尽快恢复。",
            assigned_at=at,
            confirmed_at=confirmed,
            can_start_at=confirmed,
        )
        self.s.add(assignment)
        self.s.flush()
        # the assignment notice, as portal.services.workflow.assign sends it
        notify(
            self.s,
            handler.id,
            "assigned",
            sr.id,
            {"number": sr.number, "title": sr.title, "priority": sr.priority},
            dedupe_key=f"assigned:{assignment.id}",
        )
        sr.handler_id = handler.id
        sr.assigned_at = at
        sr.first_response_at = confirmed
        audit.record(
            self.s,
            audit.Actor(disp.id),
            at,
            "request.assign",
            "service_request",
            sr.number,
            before={"status": "pending_assignment"},
            after={"status": "in_progress", "handler_id": handler.id},
        )

    def answered_question(
        self, sr: ServiceRequest, handler: Account, contact: Account, after: datetime
    ) -> None:
        """A question to the customer, answered: the pause it caused is closed and counted."""
        asked = after + timedelta(minutes=10)
        answered = asked + timedelta(minutes=50)
        self.s.add(
            CooperationRequest(
                request_id=sr.id,
                asked_by_id=handler.id,
                what="请提供出错时段的应用日志(可脱敏后上传),以便定位问题。",
                needed_by=asked + timedelta(days=1),
                asked_at=asked,
                answer="日志已打包上传到附件,时间段为昨天14:00–15:00。",
                answered_by_id=contact.id,
                answered_at=answered,
            )
        )
        self.s.add(
            SlaPause(
                request_id=sr.id, reason="awaiting_customer", started_at=asked, ended_at=answered
            )
        )
        sr.paused_seconds += int((answered - asked).total_seconds())

    def record(
        self,
        sr: ServiceRequest,
        handler: Account,
        created: datetime,
        steps: list[tuple[datetime, str, str]],
        **fields,
    ) -> None:
        def make(prefix: str) -> None:
            rec = HandlingRecord(
                number=self.number(prefix, created),
                request_id=sr.id,
                handler_id=handler.id,
                created_at=created,
                **fields,
            )
            self.s.add(rec)
            self.s.flush()
            for at, operation, hours in steps:
                self.s.add(
                    HandlingStep(
                        record_id=rec.id,
                        author_id=handler.id,
                        occurred_at=at,
                        operation=operation,
                        hours=Decimal(hours),
                        created_at=at,
                    )
                )

        self.later(created, FormPrefix.HANDLING_RECORD, make)

    def deliver(
        self,
        sr: ServiceRequest,
        handler: Account,
        contact: Account,
        at: datetime,
        service_item: str,
        items: list[str],
        criteria: list[str],
        decided: datetime | None,
    ) -> None:
        def make(prefix: str) -> None:
            digest = _content_hash(service_item, items, criteria)
            dlv = Delivery(
                number=self.number(prefix, at),
                request_id=sr.id,
                delivered_by_id=handler.id,
                service_item=service_item,
                delivered_at=at,
                content_hash=digest,
                result="pass" if decided else None,
                decided_at=decided,
            )
            self.s.add(dlv)
            self.s.flush()
            for i, text in enumerate(items, 1):
                self.s.add(DeliveryItem(delivery_id=dlv.id, position=i, text=text))
            for i, text in enumerate(criteria, 1):
                self.s.add(
                    DeliveryCriterion(
                        delivery_id=dlv.id, position=i, text=text, met=True if decided else None
                    )
                )
            if decided:
                # the customer signs the acceptance; the handler countersigns after it (双方签字)
                self.s.add(
                    Signature(
                        delivery_id=dlv.id,
                        party="customer",
                        signer_id=contact.id,
                        typed_name=contact.name,
                        signed_at=decided,
                        content_hash=digest,
                    )
                )
                self.s.add(
                    Signature(
                        delivery_id=dlv.id,
                        party="handler",
                        signer_id=handler.id,
                        typed_name=handler.name,
                        signed_at=decided + timedelta(minutes=10),
                        content_hash=digest,
                    )
                )

        self.later(at, FormPrefix.DELIVERY, make)
        sr.delivered_at = at

    def feedback(
        self,
        sr: ServiceRequest,
        contact: Account,
        at: datetime,
        scores: tuple[int, int, int],
        suggestion: str,
        measure: str,
    ) -> None:
        sup = self.people_by_key["supervisor"]

        def make(prefix: str) -> None:
            fb = Feedback(
                number=self.number(prefix, at),
                request_id=sr.id,
                customer_id=contact.id,
                channel="portal",
                recorded_by_id=contact.id,
                score_response=scores[0],
                score_effect=scores[1],
                score_attitude=scores[2],
                mean_score=_mean(scores),
                suggestions=suggestion,
                created_at=at,
            )
            self.s.add(fb)
            self.s.flush()
            if measure:
                deadline = (at.astimezone(self.tz) + timedelta(days=90)).date()
                self.s.add(
                    ImprovementMeasure(
                        feedback_id=fb.id,
                        measure=measure,
                        owner_id=sup.id,
                        deadline=deadline,
                        created_at=at + timedelta(hours=2),
                    )
                )

        self.later(at, FormPrefix.FEEDBACK, make)

    def message(
        self, sr: ServiceRequest, author: Account, at: datetime, body: str, internal: bool = False
    ) -> None:
        self.s.add(
            Message(
                request_id=sr.id, author_id=author.id, internal=internal, body=body, created_at=at
            )
        )

    def set_due(self, sr: ServiceRequest, priority: str) -> None:
        sr.response_due_at, sr.resolution_due_at = _due(sr.submitted_at, priority, self.tz)

    def progress(self, sp: Spec, sr: ServiceRequest) -> None:
        t0 = sr.submitted_at
        contact = self.people_by_key[sp.contact]
        quick = sp.priority == "P1"
        step = timedelta(minutes=15 if quick else 40)
        last = t0
        self.set_due(sr, sp.priority or sp.urgency)

        if sp.status == Status.SUBMITTED:
            sup = self.people_by_key["supervisor"]
            notify(
                self.s,
                sup.id,
                "request_submitted",
                sr.id,
                {"number": sr.number},
                dedupe_key=f"submitted:{sr.id}:{sup.id}",
            )
            return
        if sp.status == Status.CANCELLED:
            if sp.priority:
                self.classify(sp, sr, t0 + step)
            at = t0 + 2 * step
            self.message(sr, contact, at, "问题已自行解决,撤销该请求。")
            sr.status, sr.cancelled_at, sr.updated_at = Status.CANCELLED, at, at
            audit.record(
                self.s,
                audit.Actor(contact.id),
                at,
                "request.cancel",
                "service_request",
                sr.number,
                after={"status": "cancelled"},
            )
            return

        last = t0 + step
        self.classify(sp, sr, last)
        sr.status = Status.PENDING_ASSIGNMENT
        if sp.status == Status.PENDING_ASSIGNMENT:
            sr.updated_at = last
            return

        handler = self.people_by_key[sp.handler]
        assigned = last + step
        confirmed = assigned + timedelta(minutes=10)
        self.assign(sr, handler, assigned, confirmed)
        sr.status = Status.IN_PROGRESS
        # steps follow each other by the hours they took
        timed_steps = []
        cursor = confirmed + timedelta(minutes=20)
        for operation, hours in sp.steps:
            timed_steps.append((cursor, operation, hours))
            cursor += timedelta(hours=float(hours))
        last = cursor if timed_steps else confirmed
        delivered = last + timedelta(hours=1)
        accepted = delivered + (timedelta(hours=2) if quick else timedelta(days=1))
        if timed_steps:
            sr.work_started_at = timed_steps[0][0]
        # a reply on some requests, and one internal note
        if sp.status in (Status.IN_PROGRESS, Status.PENDING_ACCEPTANCE) and timed_steps:
            self.message(
                sr,
                handler,
                timed_steps[0][0] + timedelta(minutes=5),
                f"您好,我是负责工程师{handler.name},已开始处理,有进展会第一时间同步。",
            )
        if sp.status == Status.IN_PROGRESS and sp.priority == "P1":
            self.message(
                sr,
                handler,
                last + timedelta(minutes=10),
                "客户生产库为主备架构,重启消费者前已与运维确认备库同步正常。",
                internal=True,
            )

        fields: dict = {}
        if sp.status in (Status.COMPLETED, Status.CLOSED, Status.PENDING_ACCEPTANCE):
            fields["final_result"] = timed_steps[-1][1] if timed_steps else ""
        if sp.status in (Status.COMPLETED, Status.CLOSED):
            fields["customer_confirmed_name"] = contact.name
            fields["customer_confirmed_at"] = accepted
        # the IR is opened at assignment, as the assignment service does
        self.record(sr, handler, assigned, timed_steps, **fields)
        if sp.status == Status.IN_PROGRESS and len(timed_steps) >= 2:
            self.answered_question(sr, handler, contact, timed_steps[0][0])

        if sp.status == Status.IN_PROGRESS:
            sr.updated_at = last
            return
        if sp.status == Status.AWAITING_CUSTOMER:
            asked = last + timedelta(minutes=30)
            question = CooperationRequest(
                request_id=sr.id,
                asked_by_id=handler.id,
                what=sp.ask,
                needed_by=asked + timedelta(days=2),
                asked_at=asked,
            )
            self.s.add(question)
            self.s.add(SlaPause(request_id=sr.id, reason="awaiting_customer", started_at=asked))
            self.s.flush()
            notify(
                self.s,
                contact.id,
                "cooperation_requested",
                sr.id,
                {"number": sr.number, "title": sr.title},
                dedupe_key=f"cooperation:{question.id}",
            )
            sr.status, sr.paused_since, sr.updated_at = Status.AWAITING_CUSTOMER, asked, asked
            self.message(sr, contact, asked + timedelta(hours=1), "收到,我们内部确认后尽快提供。")
            return

        passed = sp.status in (Status.COMPLETED, Status.CLOSED)
        self.deliver(
            sr,
            handler,
            contact,
            delivered,
            service_item=sp.title,
            items=["处理过程记录", "结果说明与后续维护建议"],
            criteria=["问题现象不再出现", "处理记录内容完整"],
            decided=accepted if passed else None,
        )
        if not passed:
            sr.status, sr.updated_at = Status.PENDING_ACCEPTANCE, delivered
            return
        sr.status, sr.completed_at, sr.updated_at = Status.COMPLETED, accepted, accepted
        if sp.status == Status.COMPLETED:
            return
        closed = accepted + timedelta(days=1 if sp.scores else 3)
        if sp.scores:
            self.feedback(sr, contact, closed, sp.scores, sp.suggestion, sp.measure)
        sr.status, sr.closed_at, sr.updated_at = Status.CLOSED, closed, closed
        audit.record(
            self.s,
            audit.SYSTEM if not sp.scores else audit.Actor(contact.id),
            closed,
            "request.closed",
            "service_request",
            sr.number,
            before={"status": "completed"},
            after={"status": "closed"},
        )

    def template_example(self, sp: Spec, sr: ServiceRequest) -> None:
        """The template's filled-in example: SR, IR (four steps, 2.5 h), SD and FB 4.7."""
        contact = self.people_by_key[sp.contact]
        handler = self.people_by_key[sp.handler]
        ops = self.people_by_key["eng2"]
        t0 = sr.submitted_at  # 09:30 local
        at = lambda minutes: t0 + timedelta(minutes=minutes)  # noqa: E731
        self.set_due(sr, "P1")
        self.classify(sp, sr, at(5))
        self.assign(sr, handler, at(8), at(10))
        self.s.add(
            Collaborator(
                request_id=sr.id,
                account_id=ops.id,
                department_id=ops.department_id,
                interface_person=ops.name,
                scope="重启数据库服务并确认主备同步",
                added_by_id=handler.id,
                added_at=at(60),
            )
        )
        steps = [
            (at(0), "接收工单,远程登录系统排查", "0.75"),
            (at(45), "定位为数据库连接超时", "0.25"),
            (at(60), f"协同运维{ops.name}重启数据库服务", "0.5"),
            (at(90), "系统恢复正常", "1.0"),
        ]
        self.record(
            sr,
            handler,
            at(0),
            steps,
            workaround="重启数据库服务",
            final_result="数据库连接已恢复,用户可正常登录",
            customer_confirmed_name=contact.name,
            customer_confirmed_at=at(120),
        )
        self.message(sr, handler, at(15), "您好,已远程登录排查,初步判断为数据库连接问题,正在处理。")
        self.message(sr, contact, at(100), "确认已可以正常登录,谢谢。")
        self.message(
            sr,
            handler,
            at(70),
            "运维已重启数据库服务;需跟进连接池上限配置,避免再次耗尽。",
            internal=True,
        )
        sr.work_started_at = at(0)
        sr.status = Status.CLOSED
        self.deliver(
            sr,
            handler,
            contact,
            at(110),
            service_item="生产系统故障修复",
            items=["故障原因分析报告", "系统恢复操作记录", "后续维护建议"],
            criteria=["系统登录无异常", "故障报告内容完整"],
            decided=at(120),
        )
        sr.completed_at = at(120)
        closed = t0 + timedelta(days=1)
        self.feedback(sr, contact, closed, sp.scores, sp.suggestion, sp.measure)
        sr.closed_at = sr.updated_at = closed
        audit.record(
            self.s,
            audit.Actor(contact.id),
            closed,
            "request.closed",
            "service_request",
            sr.number,
            before={"status": "completed"},
            after={"status": "closed"},
        )
