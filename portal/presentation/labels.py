"""Labels of the vocabulary in the reader's language (lazy gettext)."""

from flask_babel import lazy_gettext as _l

from portal.domain import feedback as feedback_rules
from portal.domain.vocabulary import Channel, Priority, RequestType, Role, Status

STATUS_LABELS = {
    Status.SUBMITTED: _l("Awaiting classification"),
    Status.PENDING_ASSIGNMENT: _l("Pending assignment"),
    Status.IN_PROGRESS: _l("In progress"),
    Status.AWAITING_CUSTOMER: _l("Awaiting customer"),
    Status.PENDING_ACCEPTANCE: _l("Pending acceptance"),
    Status.COMPLETED: _l("Completed"),
    Status.CLOSED: _l("Closed"),
    Status.CANCELLED: _l("Cancelled"),
}

TYPE_LABELS = {
    RequestType.FAULT: _l("Fault"),
    RequestType.CONSULTATION: _l("Consultation"),
    RequestType.OPTIMISATION: _l("Optimisation"),
    RequestType.DELIVERY: _l("Delivery"),
}

TYPE_HINTS = {
    RequestType.FAULT: _l("Something that worked has stopped working or gives errors."),
    RequestType.CONSULTATION: _l("A question about how to use or configure the system."),
    RequestType.OPTIMISATION: _l("An improvement to something that already works."),
    RequestType.DELIVERY: _l(
        "Planned work to deliver: an installation, an inspection, a training."
    ),
}

PRIORITY_LABELS = {
    Priority.P1: _l("P1 urgent"),
    Priority.P2: _l("P2 important"),
    Priority.P3: _l("P3 normal"),
}

PRIORITY_HINTS = {
    Priority.P1: _l("Affects core business"),
    Priority.P2: _l("Affects part of the business"),
    Priority.P3: _l("Does not affect the business"),
}

CHANNEL_LABELS = {
    Channel.PORTAL: _l("Portal"),
    Channel.PHONE: _l("Phone"),
    Channel.EMAIL: _l("E-mail"),
    Channel.ON_SITE: _l("On site"),
    Channel.PLAN: _l("Service plan"),
}

ROLE_LABELS = {
    Role.AGENT: _l("Agent"),
    Role.SUPERVISOR: _l("Supervisor"),
    Role.DISPATCHER: _l("Dispatcher"),
    Role.ENGINEER: _l("Engineer"),
    Role.ADMIN: _l("Administrator"),
}

# classification (the supervisor's panel): impact scope as the template defines the priorities
IMPACT_LABELS = {
    "core": _l("Affects core business"),
    "partial": _l("Affects part of the business"),
    "none": _l("Does not affect the business"),
}

LEVEL_LABELS = {
    "high": _l("High"),
    "medium": _l("Medium"),
    "low": _l("Low"),
}

# improvement measures (FB): a measure's status, and the filter of the measures list
MEASURE_STATUS_LABELS = {
    feedback_rules.MEASURE_OPEN: _l("Open"),
    feedback_rules.MEASURE_IN_PROGRESS: _l("In progress"),
    feedback_rules.MEASURE_DONE: _l("Done"),
}

MEASURE_FILTER_LABELS = {"open": _l("Not done"), "done": _l("Done"), "all": _l("All")}

BOT_PLATFORM_LABELS = {
    "wecom": _l("WeCom (企业微信)"),
    "dingtalk": _l("DingTalk (钉钉)"),
    "feishu": _l("Feishu (飞书)"),
}

BOT_EVENT_LABELS = {
    "sla_warning": _l("SLA warnings"),
    "sla_escalation": _l("SLA escalations"),
    "new_p1": _l("New P1 requests"),
}

BOT_LANGUAGE_LABELS = {"zh_CN": _l("Chinese"), "en": _l("English")}

# the feedback form's three dimensions (响应及时性 / 处理效果 / 服务态度), for the reports
DIMENSION_LABELS = {
    "response": _l("Response timeliness"),
    "effect": _l("Handling effect"),
    "attitude": _l("Service attitude"),
}
REPORT_GROUP_LABELS = {
    "priority": _l("Priority"),
    "type": _l("Type"),
    "organisation": _l("Organisation"),
    "engineer": _l("Engineer"),
}
