"""The periodic service plans in words (docs/product.md §10): the rule as a sentence, the shift,
why an occurrence moved ("10-01 → 10-08: National Day"), the occurrences' statuses, the refusals
of the form and the text of the requests a plan opens."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.domain import plans as rules

KIND_LABELS = {
    rules.MONTHLY_DAY: _l("Every month on a day"),
    rules.MONTHLY_WEEKDAY: _l("Every month on a weekday (the first Monday …)"),
    rules.QUARTERLY_DAY: _l("Every quarter on a day of its first month"),
    rules.QUARTERLY_WEEKDAY: _l("Every quarter on a weekday of its first month"),
    rules.WEEKLY: _l("Every week or every few weeks"),
    rules.ADVANCED: _l("Advanced: an RRULE (RFC 5545)"),
}

SHIFT_LABELS = {
    rules.SHIFT_NEXT: _l("To the next working day"),
    rules.SHIFT_PREVIOUS: _l("To the previous working day"),
    rules.SHIFT_NONE: _l("Not at all (keep the day)"),
}

WEEKDAY_LABELS = {
    "MO": _l("Monday"),
    "TU": _l("Tuesday"),
    "WE": _l("Wednesday"),
    "TH": _l("Thursday"),
    "FR": _l("Friday"),
    "SA": _l("Saturday"),
    "SU": _l("Sunday"),
}

ORDINAL_LABELS = {
    1: _l("first"),
    2: _l("second"),
    3: _l("third"),
    4: _l("fourth"),
    -1: _l("last"),
}

# the statuses of an occurrence on the plan's page
UPCOMING = "upcoming"
OPEN = "open"
ON_TIME = "on_time"
LATE = "late"
MISSED = "missed"
OCCURRENCE_STATUS_LABELS = {
    UPCOMING: _l("Upcoming"),
    OPEN: _l("Open"),
    ON_TIME: _l("Delivered on time"),
    LATE: _l("Delivered late"),
    MISSED: _l("Missed"),
}

ERRORS = {
    ("title", "missing"): _l("Give the plan a title."),
    ("title", "too-long"): _l("At most 200 characters."),
    ("service_item", "missing"): _l("Name the service item (服务项目) the plan delivers."),
    ("service_item", "too-long"): _l("At most 200 characters."),
    ("contact_id", "unknown"): _l("Choose an active customer contact."),
    ("contact_id", "organisation-inactive"): _l(
        "This contact's organisation is deactivated: it gets no new requests."
    ),
    ("checklist", "missing"): _l("Write the checklist: one item a line."),
    ("checklist", "empty-item"): _l("An item of the checklist is empty: write it or remove it."),
    ("checklist", "item-too-long"): _l("An item of the checklist has more than 500 characters."),
    ("checklist", "too-many"): _l("At most 50 items."),
    ("handler_id", "unknown"): _l("Choose an active staff member."),
    ("department_id", "unknown"): _l("Choose an active department."),
    ("priority", "unknown"): _l("Choose P1, P2 or P3."),
    ("sla_policy_id", "unknown"): _l("Choose an active SLA policy."),
    ("starts_on", "missing"): _l("Give the day the plan starts."),
    ("end", "before-start"): _l("The plan cannot end before it starts."),
    ("lead_days", "range"): _l("Between 0 and 60 working days."),
    ("lead_days", "longer-than-interval"): _l(
        "The lead time is as long as the interval: a request would open before the previous "
        "one is due. Shorten it."
    ),
    ("shift", "unknown"): _l("Choose how a date on a day off moves."),
    ("rule", "no-future"): _l("This rule has no occurrence from today on."),
    ("kind", "unknown"): _l("Choose how often."),
    ("interval", "range"): _l("Between 1 and 12."),
    ("day", "range"): _l("A day from 1 to 28, or the last day of the month."),
    ("weekday", "unknown"): _l("Choose a weekday."),
    ("ordinal", "unknown"): _l("Choose first, second, third, fourth or last."),
    ("advanced", "missing"): _l("Type the rule, e.g. FREQ=MONTHLY;BYMONTHDAY=5."),
    ("advanced", "too-long"): _l("At most 300 characters."),
    ("advanced", "invalid"): _l(
        "This is not an RRULE this desk runs: write NAME=VALUE parts separated by “;”, "
        "e.g. FREQ=MONTHLY;BYDAY=+1MO, without DTSTART."
    ),
    ("advanced", "frequency"): _l("FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY."),
    ("advanced", "never"): _l("This rule never happens (e.g. the 30th of February)."),
}

# the form field each refusal is shown at (the domain's names for some)
ERROR_FIELDS = {"end": "ends_on", "rule": "kind"}


def error_message(field: str, code: str) -> str:
    return str(ERRORS.get((field, code)) or _("This value cannot be used."))


def describe(rule: str) -> str:
    """The rule as a sentence in the reader's language."""
    c = rules.choice_of(rule)
    weekday = WEEKDAY_LABELS.get(c.weekday, c.weekday)
    ordinal = ORDINAL_LABELS.get(c.ordinal, str(c.ordinal))
    day = _("the last day") if c.day == -1 else _("day %(day)d", day=c.day)
    if c.kind == rules.MONTHLY_DAY:
        if c.interval == 1:
            return _("Monthly on %(day)s", day=day)
        return _("Every %(n)d months on %(day)s", n=c.interval, day=day)
    if c.kind == rules.MONTHLY_WEEKDAY:
        if c.interval == 1:
            return _("The %(ordinal)s %(weekday)s of each month", ordinal=ordinal, weekday=weekday)
        return _(
            "The %(ordinal)s %(weekday)s of every %(n)d months",
            ordinal=ordinal,
            weekday=weekday,
            n=c.interval,
        )
    if c.kind == rules.QUARTERLY_DAY:
        return _("Quarterly on %(day)s of the quarter's first month", day=day)
    if c.kind == rules.QUARTERLY_WEEKDAY:
        return _("The %(ordinal)s %(weekday)s of each quarter", ordinal=ordinal, weekday=weekday)
    if c.kind == rules.WEEKLY:
        if c.interval == 1:
            return _("Every week on %(weekday)s", weekday=weekday)
        return _("Every %(n)d weeks on %(weekday)s", n=c.interval, weekday=weekday)
    return _("Advanced rule: %(rule)s", rule=rule)


def move_reason(occ: rules.Occurrence) -> str:
    """Why the calendar moved an occurrence, or kept it: "10-01 → 10-08: National Day"."""
    if occ.moved:
        why = occ.reason or (_("weekend") if occ.reason_kind == "weekend" else _("day off"))
        return f"{occ.occurs_on:%m-%d} → {occ.due_on:%m-%d}: {why}"
    if occ.makeup:
        return _("a make-up working day (调休): kept")
    if occ.reason_kind:
        return _("a day off, kept (the plan does not move dates)")
    return ""


def request_title(title: str, occ_due_on) -> str:
    return f"{title} · {occ_due_on.isoformat()}"


def request_description(
    *,
    title: str,
    service_item: str,
    checklist: list[str],
    occ: rules.Occurrence,
    late_note: str = "",
) -> str:
    """The text of the request a plan opens, in the locale in force (the contact's)."""
    lines = [
        _("Periodic service: %(title)s", title=title),
        _("Service item: %(item)s", item=service_item),
        _("Due: %(day)s", day=occ.due_on.isoformat()),
    ]
    reason = move_reason(occ)
    if occ.moved:
        lines.append(_("Moved by the calendar: %(reason)s", reason=reason))
    if late_note:
        lines.append(late_note)
    lines.append("")
    lines.append(_("Checklist (the acceptance criteria of the delivery):"))
    lines.extend(f"{n}. {item}" for n, item in enumerate(checklist, 1))
    return "\n".join(lines)


def late_note(open_at_text: str, opened_text: str) -> str:
    return _(
        "Opened late: due to open %(due)s, opened %(opened)s (the scheduler was not running).",
        due=open_at_text,
        opened=opened_text,
    )
