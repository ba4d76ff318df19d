"""The demo's desk and its customers, as plain data: departments, request categories, the skill
matrix's skills, the working calendar, two customer organisations with their contacts and SLA
policies, and one staff account per role (the builder creates them; portal.demo.scenarios says
what they did)."""

from __future__ import annotations

from typing import NamedTuple

from portal.domain.vocabulary import RequestType


class Department(NamedTuple):
    code: str
    name_zh: str
    name_en: str


class Skill(NamedTuple):
    code: str
    name_zh: str
    name_en: str
    request_type: RequestType
    category: str


class Category(NamedTuple):
    request_type: RequestType
    code: str
    name_zh: str
    name_en: str


class Organisation(NamedTuple):
    code: str
    name: str
    colleagues_may_view: bool


class SlaPolicy(NamedTuple):
    name: str
    # priority → (respond, unit, resolve, unit); the other priorities as the built-in policy
    targets: dict[str, tuple[int, str, int, str]]
    organisations: tuple[str, ...]  # the codes of the organisations put on it


class Customer(NamedTuple):
    key: str
    organisation: str
    name: str
    mobile: str
    email: str
    org_admin: bool = False


class StaffMember(NamedTuple):
    key: str
    name: str
    email: str
    department: str
    roles: tuple[str, ...]
    title: str  # as `portal demo` prints it
    skills: dict[str, int] = {}  # skill code → level 1–5


DEPARTMENTS = [
    Department("support", "技术支持部", "Support"),
    Department("rnd", "研发部", "R&D"),
    Department("test", "测试部", "Test"),
    Department("ops", "运维部", "Operations"),
]

F, C, OPT, D = (
    RequestType.FAULT,
    RequestType.CONSULTATION,
    RequestType.OPTIMISATION,
    RequestType.DELIVERY,
)
# the categories the skills and the scenarios use, per request type, in the lists' order
CATEGORIES = [
    Category(F, "login", "登录与认证", "Login and authentication"),
    Category(F, "database", "数据库", "Database"),
    Category(F, "network", "网络与终端", "Network and devices"),
    Category(F, "usage", "功能使用异常", "Feature not working as expected"),
    Category(C, "usage", "产品使用", "Product usage"),
    Category(C, "integration", "接口集成", "Integration and APIs"),
    Category(OPT, "performance", "性能", "Performance"),
    Category(OPT, "workflow", "流程与报表", "Workflows and reports"),
    Category(D, "deployment", "部署实施", "Deployment"),
    Category(D, "inspection", "定期巡检", "Periodic inspection"),
]
SKILLS = [
    Skill("fault-login", "登录与认证故障", "Login and authentication faults", F, "login"),
    Skill("fault-database", "数据库故障", "Database faults", F, "database"),
    Skill("fault-network", "网络与终端故障", "Network and device faults", F, "network"),
    Skill("consult-usage", "产品使用咨询", "Product usage questions", C, "usage"),
    Skill("consult-integration", "接口集成咨询", "Integration questions", C, "integration"),
    Skill("optim-performance", "性能优化", "Performance tuning", OPT, "performance"),
    Skill("optim-workflow", "流程与报表优化", "Workflow and report improvements", OPT, "workflow"),
    Skill("delivery-deployment", "部署实施", "Deployment", D, "deployment"),
    Skill("delivery-inspection", "定期巡检", "Periodic inspection", D, "inspection"),
]

# the calendar is the desk's default one, made as on a fresh install (services.calendars)

ORGANISATIONS = [
    Organisation("ACME", "华东制造有限公司", colleagues_may_view=True),
    Organisation("STAR", "星河零售集团", colleagues_may_view=False),
]
# the organisation whose presence says the demo is seeded
MARKER_ORG = "ACME"

# the retail group bought the gold service level: urgent requests answered within the hour
SLA_POLICIES = [SlaPolicy("金牌", {"P1": (1, "hours", 2, "hours")}, ("STAR",))]

CUSTOMERS = [
    Customer("li", "ACME", "李明", "13812345678", "li.ming@acme.example.com"),
    Customer("wang", "ACME", "王芳", "13800001234", "wang.fang@acme.example.com"),
    Customer("chen", "ACME", "陈建国", "13900002222", "chen.jianguo@acme.example.com", True),
    Customer("zhao", "STAR", "赵丽", "13700003333", "zhao.li@star.example.com"),
    Customer("sun", "STAR", "孙伟", "13600004444", "sun.wei@star.example.com"),
    Customer("zhou", "STAR", "周敏", "13500005555", "zhou.min@star.example.com", True),
]

STAFF = [
    StaffMember("agent", "刘洋", "agent@desk.example.com", "support", ("agent",), "agent"),
    StaffMember(
        "supervisor",
        "赵静",
        "supervisor@desk.example.com",
        "support",
        ("supervisor",),
        "supervisor",
        {"fault-login": 4, "fault-database": 4, "consult-usage": 5},
    ),
    StaffMember(
        "dispatcher",
        "黄磊",
        "dispatcher@desk.example.com",
        "support",
        ("dispatcher",),
        "dispatcher",
    ),
    StaffMember(
        "eng1",
        "张强",
        "engineer1@desk.example.com",
        "support",
        ("engineer",),
        "engineer",
        {
            "fault-login": 5,
            "fault-database": 4,
            "consult-integration": 4,
            "optim-performance": 4,
            "optim-workflow": 3,
            "consult-usage": 4,
        },
    ),
    StaffMember(
        "eng2",
        "王涛",
        "engineer2@desk.example.com",
        "ops",
        ("engineer",),
        "engineer",
        {
            "fault-network": 5,
            "fault-database": 4,
            "delivery-deployment": 5,
            "delivery-inspection": 4,
            "consult-usage": 3,
        },
    ),
    StaffMember("admin", "孙浩", "admin@desk.example.com", "ops", ("admin",), "admin"),
]

# everyone above by key (customers and staff have distinct keys)
NAMES = {p.key: p.name for p in [*CUSTOMERS, *STAFF]}


class Plan(NamedTuple):
    """A periodic service plan (定期技术服务), made by the supervisor when the desk was set up."""

    title: str
    contact: str
    handler: str
    service_item: str
    checklist: tuple[str, ...]
    kind: str  # portal.domain.plans: monthly_day, quarterly_weekday, …
    day: int = 1
    weekday: str = "MO"
    lead_days: int = 0
    priority: str = "P3"


PLANS = [
    Plan(
        "月度系统巡检",
        "li",
        "eng2",
        "系统巡检服务",
        (
            "检查服务器CPU、内存和磁盘使用率,记录超过80%的项",
            "核对数据库全量备份和增量备份日志,确认最近7天均成功",
            "检查应用错误日志,列出新出现的错误及处理建议",
            "确认操作系统和中间件补丁版本,列出待升级项",
            "提交《月度巡检报告》",
        ),
        "monthly_day",
        day=1,
        lead_days=2,
    ),
    Plan(
        "季度功能优化",
        "zhao",
        "eng1",
        "功能优化服务",
        (
            "汇总本季度用户提出的优化建议并确认优先级",
            "完成确认项的开发与测试,提交测试报告",
            "在测试环境演示优化效果并经客户确认",
            "更新用户操作手册中受影响的章节",
        ),
        "quarterly_weekday",
        weekday="MO",
        lead_days=5,
        priority="P3",
    ),
]
