"""The sections of the administration area, in the order the front page lists them.

Each entry: the endpoint, its title and a line saying what it is for, and whether supervisors
see it (read-only unless the page says otherwise). A new admin page adds one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Section:
    endpoint: str
    title: str
    summary: str
    supervisors: bool = False  # supervisors see it (read-only where they may not change)


SECTIONS: tuple[Section, ...] = (
    Section(
        "staff.admin.organisations",
        _l("Organisations"),
        _l("Customers (客户): codes, names, what colleagues may see, calendar, feedback window."),
        supervisors=True,
    ),
    Section(
        "staff.admin.plans",
        _l("Service plans"),
        _l(
            "Periodic services (定期技术服务): monthly inspections, quarterly optimisations; "
            "their requests open on working days, once each."
        ),
        supervisors=True,
    ),
    Section(
        "staff.admin.contacts",
        _l("Contacts"),
        _l("Customer contacts: add, invite, edit, deactivate; import a spreadsheet."),
        supervisors=True,
    ),
    Section(
        "staff.admin.departments",
        _l("Departments"),
        _l("The departments staff belong to and collaborators come from."),
        supervisors=True,
    ),
    Section(
        "staff.admin.categories",
        _l("Request categories"),
        _l("The categories of each request type that requests and skills are filed under."),
        supervisors=True,
    ),
    Section(
        "staff.admin.skills",
        _l("Skills"),
        _l("The skills of the skill matrix, each for a request type and category."),
        supervisors=True,
    ),
    Section(
        "staff.admin.skill_matrix",
        _l("Skill matrix"),
        _l("Who is how good at what (levels 0–5): the assignment ranks candidates by it."),
        supervisors=True,
    ),
    Section(
        "staff.admin.staff",
        _l("Staff"),
        _l("Invite staff, their roles, department, level and leave; deactivate who has left."),
        supervisors=True,
    ),
    Section(
        "staff.admin.settings",
        _l("Desk settings"),
        _l("Which roles take requests when the dispatcher assigns them."),
        supervisors=True,
    ),
    Section(
        "staff.admin.calendars",
        _l("Business calendars"),
        _l("Working hours, holidays and make-up working days (调休) the SLA clocks count on."),
    ),
    Section(
        "staff.admin.sla_policies",
        _l("SLA policies"),
        _l("Named response and resolution targets per priority; each organisation uses one."),
        supervisors=True,
    ),
    Section(
        "staff.admin.vague_phrases",
        _l("Vague phrases (模糊表述)"),
        _l("Phrases that alone are too vague for a step, a result or a deliverable."),
        supervisors=True,
    ),
    Section(
        "staff.admin.mailboxes",
        _l("Mailboxes (IMAP)"),
        _l("The mailboxes inbound mail is taken from: server, login, folders; test a connection."),
    ),
    Section(
        "staff.admin.bots",
        _l("Group bots"),
        _l("WeCom, DingTalk and Feishu group chats told of SLA warnings, escalations and P1s."),
    ),
    Section(
        "staff.admin.audit",
        _l("Audit log"),
        _l("Every change, who made it and when, on a tamper-evident chain."),
    ),
    Section(
        "staff.admin.reveals",
        _l("Contact reveals"),
        _l("Who looked at a masked contact, and why."),
    ),
    Section(
        "staff.admin.retention",
        _l("Retention"),
        _l("Archive and purge closed requests past their retention period."),
    ),
)


def sections_for(is_admin: bool) -> list[Section]:
    return [s for s in SECTIONS if is_admin or s.supervisors]
