"""The filters of a report and who sees what.

A report covers the requests **submitted** in its period (local dates in the desk's time zone,
both days included) that match the filters. Supervisors and admins see every figure; an engineer
sees only their own: the requests they handle and the hours they logged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select

from portal.domain.report_stats import Month
from portal.domain.vocabulary import Priority, RequestType
from portal.models import Account, Organisation, ServiceRequest
from portal.services.organisations import search_clause

SR = ServiceRequest
REPORT_ROLES = ("supervisor", "admin")
OWN_FIGURES_ROLES = ("engineer",)
MAX_DAYS = 366 * 2  # a period longer than two years is refused


@dataclass(frozen=True)
class ReportFilters:
    start: date
    end: date  # inclusive
    organisation_id: int | None = None
    organisation: str | None = None  # words of an organisation's code or name, as in the queue
    type: str | None = None
    category: str | None = None
    priority: str | None = None
    engineer_id: int | None = None
    department_id: int | None = None

    def as_args(self) -> dict[str, str]:
        """The query string that makes these filters (for links and the drill-down)."""
        args = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        for name, key in (
            ("organisation_id", "org_id"),
            ("organisation", "org"),
            ("type", "type"),
            ("category", "category"),
            ("priority", "priority"),
            ("engineer_id", "engineer"),
            ("department_id", "department"),
        ):
            value = getattr(self, name)
            if value not in (None, ""):
                args[key] = str(value)
        return args


def last_month(today: date) -> tuple[date, date]:
    month = Month.of(today).shift(-1)
    return month.first_day, month.next_first_day - timedelta(days=1)


def bounds(start: date, end: date, timezone: str) -> tuple[datetime, datetime]:
    """The UTC instants [from, to) of the local dates ``start`` … ``end``."""
    tz = ZoneInfo(timezone)
    return (
        datetime.combine(start, time(0), tz).astimezone(UTC),
        datetime.combine(end + timedelta(days=1), time(0), tz).astimezone(UTC),
    )


class FilterError(ValueError):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(problems)
        self.problems = problems


def parse(args, today: date) -> ReportFilters:
    """Filters from a query string (a Mapping of str); FilterError names the bad fields (codes:
    ``date``, ``order``, ``long``, ``choice``, ``number``)."""
    problems: dict[str, str] = {}
    default_start, default_end = last_month(today)

    def day(key: str, default: date) -> date:
        raw = (args.get(key) or "").strip()
        if not raw:
            return default
        try:
            return date.fromisoformat(raw)
        except ValueError:
            problems[key] = "date"
            return default

    def number(key: str) -> int | None:
        raw = (args.get(key) or "").strip()
        if not raw:
            return None
        if not raw.isdigit() or len(raw) > 12:
            problems[key] = "number"
            return None
        return int(raw)

    def choice(key: str, allowed) -> str | None:
        raw = (args.get(key) or "").strip()
        if not raw:
            return None
        if raw not in allowed:
            problems[key] = "choice"
            return None
        return raw

    start, end = day("from", default_start), day("to", default_end)
    if "from" not in problems and "to" not in problems:
        if end < start:
            problems["to"] = "order"
        elif (end - start).days > MAX_DAYS:
            problems["to"] = "long"
    organisation = (args.get("org") or "").strip() or None
    if organisation is not None and len(organisation) > 100:
        problems["org"] = "long"
        organisation = None
    category = (args.get("category") or "").strip() or None
    if category is not None and len(category) > 60:
        problems["category"] = "choice"
        category = None
    filters = ReportFilters(
        start=start,
        end=end,
        organisation_id=number("org_id"),
        organisation=organisation,
        type=choice("type", {t.value for t in RequestType}),
        category=category,
        priority=choice("priority", {p.value for p in Priority}),
        engineer_id=number("engineer"),
        department_id=number("department"),
    )
    if problems:
        raise FilterError(problems)
    return filters


def sees_all(viewer: Account) -> bool:
    return viewer.has_role(*REPORT_ROLES)


def may_view(viewer: Account) -> bool:
    return viewer.kind == "staff" and (sees_all(viewer) or viewer.has_role(*OWN_FIGURES_ROLES))


def scoped(filters: ReportFilters, viewer: Account) -> ReportFilters:
    """An engineer's report is their own: the engineer filter is them, whatever was asked."""
    if sees_all(viewer):
        return filters
    return replace(filters, engineer_id=viewer.id, department_id=None)


def clauses(
    filters: ReportFilters, timezone: str, *, period: bool = True
) -> list[ColumnElement[bool]]:
    """The SQL conditions on service_requests for the filters (``period``: and the period)."""
    out: list[ColumnElement[bool]] = []
    if period:
        since, until = bounds(filters.start, filters.end, timezone)
        out += [SR.submitted_at >= since, SR.submitted_at < until]
    if filters.organisation_id:
        out.append(SR.organisation_id == filters.organisation_id)
    words = search_clause(filters.organisation)
    if words is not None:
        out.append(SR.organisation_id.in_(select(Organisation.id).where(words)))
    if filters.type:
        out.append(SR.type == filters.type)
    if filters.category:
        out.append(SR.category == filters.category)
    if filters.priority:
        out.append(SR.priority == filters.priority)
    if filters.engineer_id:
        out.append(SR.handler_id == filters.engineer_id)
    if filters.department_id:
        out.append(
            SR.handler_id.in_(
                select(Account.id).where(Account.department_id == filters.department_id)
            )
        )
    return out
