"""The shape of the demo's requests (portal.demo.scenarios holds them), as plain data: who asked
what, when (relative to the moment of seeding), how far it got and what was done on the way.
portal.demo.course turns a scenario into its timed actions; portal.demo.builder walks them through
the services the pages use.

A scenario without a ``script`` takes the standard course (portal.demo.course.standard): it is
classified, assigned and confirmed, its ``steps`` are worked one after the other, and it goes on
(question, delivery, acceptance, feedback) as far as its ``outcome``. The template's own filled-in
example is scripted action by action.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.domain.vocabulary import Channel, RequestType, Status


@dataclass(frozen=True)
class HoursAgo:
    """So many hours before the moment of seeding."""

    hours: float


@dataclass(frozen=True)
class DayAt:
    """A time of day ("14:05", on the desk's clock) so many days before the day of seeding."""

    days_ago: int
    clock: str


When = HoursAgo | DayAt


@dataclass(frozen=True)
class Do:
    """One action of a scripted request, ``at`` minutes after its submission. ``by``: "contact",
    "handler" or a staff key of portal.demo.people; ``args`` as portal.demo.builder reads them."""

    at: float
    action: str
    by: str
    args: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    """One demo request and how far it got."""

    contact: str  # a customer key of portal.demo.people (the organisation is theirs)
    title: str
    description: str
    type: RequestType
    category: str
    urgency: str  # the urgency the customer proposed
    submitted: When
    outcome: Status
    priority: str | None = None  # as the supervisor classified it (None: never classified)
    channel: Channel = Channel.PORTAL
    handler: str | None = None
    steps: tuple[tuple[str, str], ...] = ()  # (operation, hours), one after the other
    note: str = ""  # an internal note after the last step
    answered: tuple[str, str] | None = None  # a question to the customer and their answer
    ask: str = ""  # the question the request is waiting on (outcome awaiting_customer)
    accepted: When | None = None  # when the customer signed (default: the day after delivery)
    scores: tuple[int, int, int] | None = None  # response, effect, attitude
    suggestion: str = ""
    measure: str = ""  # an improvement measure the supervisor draws from the feedback
    script: tuple[Do, ...] = ()  # the request's actions, instead of the standard course


# --- texts of the standard course ------------------------------------------------------------

HELLO = "您好,我是负责工程师{handler},已开始处理,有进展会第一时间同步。"
ACKNOWLEDGED = "收到,我们内部确认后尽快提供。"
SELF_RESOLVED = "问题已自行解决,撤销该请求。"
CONFIRMED_DETAILS = "已与{initial}*电话确认问题现象与影响范围。"
ASSIGN_REASON = "技能匹配度最高,当前在办工作量较低"
BRIEFING = "{priority},客户期望尽快恢复。"
DELIVERABLES = ("处理过程记录", "结果说明与后续维护建议")
CRITERIA = ("问题现象不再出现", "处理记录内容完整")
LOGS = (
    "请提供出错时段的应用日志(可脱敏后上传),以便定位问题。",
    "日志已打包上传到附件,时间段为昨天14:00–15:00。",
)
# an improvement measure is due this many days after the feedback it answers
MEASURE_DAYS = 90
