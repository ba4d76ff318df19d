"""Business calendars in the database: loading one (with its overrides) for the SLA arithmetic,
the admins' overrides, the import of the official yearly notice, and the warning when a year's
official schedule is missing (docs/product.md §4; the rules are in portal/domain/calendar.py, the
notice is read by portal/domain/holiday_notice.py).

Overrides that came from an imported notice carry ``NOTICE_MARK`` at the start of their note:
they mark the year as published, and a re-import of the same year replaces them.

Every change that can move a working day (an override set or removed, a notice imported, the
hours, zone or country changed) moves the due times of the open requests on the calendar in the
same transaction (``portal.services.sla.follow_calendar``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from portal.domain import calendar as cal
from portal.domain import holiday_notice as notice
from portal.models import Calendar, CalendarOverride, Organisation
from portal.services import audit, defaults

log = logging.getLogger(__name__)

DEFAULT_NAME = defaults.DEFAULT_CALENDAR_NAME
NOTICE_MARK = "[notice] "
# the State Council publishes the coming year's schedule in October or November: from this
# month on, a missing schedule for next year is worth an admin's attention
WARN_NEXT_YEAR_FROM_MONTH = 10


def desk_timezone() -> str:
    """The desk's time zone: ``PORTAL_TIMEZONE`` of the running app (README: Settings), else
    the environment's, read as the app reads it."""
    from portal.config import desk_timezone as from_environment

    try:
        from flask import current_app

        return current_app.config.get("PORTAL_TIMEZONE") or from_environment()
    except RuntimeError:  # no app (a script, a pure test)
        return from_environment()


def default_calendar(session: Session) -> Calendar | None:
    """The desk's default calendar: the first one. Created with the schema
    (``portal.services.defaults``); None only when every calendar was deleted."""
    return session.scalars(select(Calendar).order_by(Calendar.id).limit(1)).first()


def calendar_row_for_organisation(session: Session, organisation_id: int | None) -> Calendar | None:
    """The organisation's calendar, else the desk's default; None if there is no calendar."""
    row = None
    if organisation_id is not None:
        row = session.scalar(
            select(Calendar)
            .join(Organisation, Organisation.calendar_id == Calendar.id)
            .where(Organisation.id == organisation_id)
        )
    return row or default_calendar(session)


@lru_cache(maxsize=8)
def builtin_default(timezone: str) -> cal.BusinessCalendar:
    """The default calendar's values in memory, for a database that has no calendar (they were
    deleted): the SLA arithmetic goes on without writing one."""
    log.warning(
        "no business calendar in the database: counting on the built-in default; "
        "`portal db upgrade` creates it, or an admin creates one on the calendar page"
    )
    values = defaults.calendar_values(timezone)
    return cal.BusinessCalendar(
        timezone=values["timezone"],
        working_hours=values["working_hours"],
        country=values["country"],
        name=values["name"],
    )


def load(session: Session, row: Calendar) -> cal.BusinessCalendar:
    """The domain calendar of ``row`` with its overrides (one query, kept for the transaction)."""
    cache = session.info.setdefault("portal_calendars", {})
    found = cache.get(row.id)
    if found is None:
        rows = list(
            session.scalars(select(CalendarOverride).where(CalendarOverride.calendar_id == row.id))
        )
        found = cache[row.id] = cal.BusinessCalendar(
            timezone=row.timezone,
            working_hours=row.working_hours,
            country=row.country,
            overrides={o.day: cal.Override(o.kind, _plain_note(o.note)) for o in rows},
            name=row.name,
            notice_years={o.day.year for o in rows if o.note.startswith(NOTICE_MARK)},
        )
    return found


def for_organisation(session: Session, organisation_id: int | None) -> cal.BusinessCalendar:
    """The calendar that governs the organisation's requests (its own, else the default)."""
    row = calendar_row_for_organisation(session, organisation_id)
    return load(session, row) if row is not None else builtin_default(desk_timezone())


def _forget(session: Session, calendar_id: int) -> None:
    session.info.get("portal_calendars", {}).pop(calendar_id, None)


def _plain_note(note: str) -> str:
    return note.removeprefix(NOTICE_MARK)


def _due_times_follow(
    session: Session,
    actor: audit.Actor,
    now: datetime,
    calendar_id: int,
    days: tuple[date, date] | None,
    reason: dict,
) -> None:
    from portal.services import sla  # sla reads calendars through this module

    sla.follow_calendar(session, actor, now, calendar_id, days, reason)


# --- the calendars themselves ----------------------------------------------------------------


class CalendarSettingsError(ValueError):
    """Settings that cannot make a calendar; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def save_calendar(
    session: Session,
    actor: audit.Actor,
    now: datetime,
    calendar_id: int | None,
    name: str,
    timezone: str,
    country: str,
    working_hours: dict[str, list[list[str]]],
) -> Calendar:
    """Create a calendar (``calendar_id`` None) or change one; checked by building it."""
    from zoneinfo import available_timezones

    import holidays

    country = (country or "").strip().upper()
    if timezone not in available_timezones():
        raise CalendarSettingsError("timezone", timezone)
    if country and country not in holidays.list_supported_countries():
        raise CalendarSettingsError("country", country)
    try:
        cal.BusinessCalendar(timezone=timezone, working_hours=working_hours, country=country)
    except cal.CalendarError as exc:
        raise CalendarSettingsError("hours", str(exc)) from exc
    clash = session.scalar(
        select(Calendar.id).where(Calendar.name == name.strip(), Calendar.id != (calendar_id or 0))
    )
    if clash is not None:
        raise CalendarSettingsError("name", name)
    row = session.get(Calendar, calendar_id) if calendar_id else None
    before = (
        {
            "name": row.name,
            "timezone": row.timezone,
            "country": row.country,
            "working_hours": row.working_hours,
        }
        if row
        else None
    )
    if row is None:
        row = Calendar()
        session.add(row)
    row.name = name.strip()[:100]
    row.timezone = timezone
    row.country = country
    row.working_hours = working_hours
    session.flush()
    _forget(session, row.id)
    audit.record(
        session,
        actor,
        now,
        "calendar.created" if before is None else "calendar.changed",
        "calendar",
        row.id,
        before=before,
        after={
            "name": row.name,
            "timezone": timezone,
            "country": country,
            "working_hours": working_hours,
        },
    )
    if before is not None and any(
        before[k] != v
        for k, v in (("timezone", timezone), ("country", country), ("working_hours", working_hours))
    ):
        _due_times_follow(session, actor, now, row.id, None, {"reason": "settings"})
    return row


# --- the admins' overrides -------------------------------------------------------------------


def overrides(session: Session, calendar_id: int, year: int | None = None):
    query = select(CalendarOverride).where(CalendarOverride.calendar_id == calendar_id)
    if year is not None:
        query = query.where(
            CalendarOverride.day >= date(year, 1, 1), CalendarOverride.day <= date(year, 12, 31)
        )
    return list(session.scalars(query.order_by(CalendarOverride.day)))


def set_override(
    session: Session,
    actor: audit.Actor,
    now: datetime,
    calendar_id: int,
    day: date,
    kind: str,
    note: str = "",
) -> CalendarOverride:
    """Add or replace the override of one date (a holiday or a make-up working day)."""
    if kind not in (cal.HOLIDAY, cal.WORKDAY):
        raise ValueError("kind is holiday or workday")
    row = session.scalar(
        select(CalendarOverride).where(
            CalendarOverride.calendar_id == calendar_id, CalendarOverride.day == day
        )
    )
    before = {"kind": row.kind, "note": row.note} if row else None
    if row is None:
        row = CalendarOverride(calendar_id=calendar_id, day=day)
        session.add(row)
    row.kind = kind
    row.note = note.strip()[:200]
    session.flush()
    _forget(session, calendar_id)
    audit.record(
        session,
        actor,
        now,
        "calendar.override_set",
        "calendar",
        calendar_id,
        before={"day": day.isoformat(), **before} if before else None,
        after={"day": day.isoformat(), "kind": kind, "note": row.note},
    )
    if before is None or before["kind"] != kind:
        reason = {"reason": "override_set", "day": day.isoformat(), "kind": kind}
        _due_times_follow(session, actor, now, calendar_id, (day, day), reason)
    return row


def remove_override(
    session: Session, actor: audit.Actor, now: datetime, calendar_id: int, override_id: int
) -> bool:
    row = session.scalar(
        select(CalendarOverride).where(
            CalendarOverride.id == override_id, CalendarOverride.calendar_id == calendar_id
        )
    )
    if row is None:
        return False
    audit.record(
        session,
        actor,
        now,
        "calendar.override_removed",
        "calendar",
        calendar_id,
        before={"day": row.day.isoformat(), "kind": row.kind, "note": row.note},
    )
    day = row.day
    session.delete(row)
    session.flush()
    _forget(session, calendar_id)
    reason = {"reason": "override_removed", "day": day.isoformat()}
    _due_times_follow(session, actor, now, calendar_id, (day, day), reason)
    return True


@dataclass
class ImportResult:
    year: int
    holidays: int
    workdays: int
    warnings: list[notice.NoticeProblem]


class NoticeError(ValueError):
    """The pasted text could not be read; ``errors`` says where."""

    def __init__(self, errors: list[notice.NoticeProblem]) -> None:
        super().__init__("; ".join(map(str, errors)))
        self.errors = errors


def import_notice(
    session: Session,
    actor: audit.Actor,
    now: datetime,
    calendar_id: int,
    text: str,
    year: int | None = None,
) -> ImportResult:
    """Import the official yearly notice (or simple lines) as overrides of ``year``. The year's
    earlier imported overrides are replaced; the admins' own overrides of other dates stay."""
    parsed = notice.parse_notice(text, year)
    if parsed.errors:
        raise NoticeError(parsed.errors)
    if not parsed.entries:
        raise NoticeError([notice.NoticeProblem(0, "empty")])
    years = parsed.years
    if year is None:
        year = min(years)
    stray = sorted(e.day for e in parsed.entries if e.day.year not in (year, year - 1))
    if stray:
        raise NoticeError(
            [
                notice.NoticeProblem(0, "other-year", (("day", d.isoformat()), ("year", year)))
                for d in stray
            ]
        )
    imported_before = (
        CalendarOverride.calendar_id == calendar_id,
        CalendarOverride.day >= date(year, 1, 1),
        CalendarOverride.day <= date(year, 12, 31),
        CalendarOverride.note.startswith(NOTICE_MARK, autoescape=True),
    )
    # the kind of each day the import replaces or removes, to know which days changed
    kinds_before = dict(
        session.execute(
            select(CalendarOverride.day, CalendarOverride.kind).where(
                CalendarOverride.calendar_id == calendar_id,
                or_(
                    and_(*imported_before),
                    CalendarOverride.day.in_([e.day for e in parsed.entries]),
                ),
            )
        ).all()
    )
    session.execute(delete(CalendarOverride).where(*imported_before))
    existing = {
        o.day: o
        for o in session.scalars(
            select(CalendarOverride).where(
                CalendarOverride.calendar_id == calendar_id,
                CalendarOverride.day.in_([e.day for e in parsed.entries]),
            )
        )
    }
    for entry in parsed.entries:
        row = existing.get(entry.day)
        if row is None:
            row = CalendarOverride(calendar_id=calendar_id, day=entry.day)
            session.add(row)
        row.kind = entry.kind
        row.note = (NOTICE_MARK + (entry.note or str(year)))[:200]
    session.flush()
    _forget(session, calendar_id)
    result = ImportResult(
        year=year,
        holidays=sum(1 for e in parsed.entries if e.kind == cal.HOLIDAY),
        workdays=sum(1 for e in parsed.entries if e.kind == cal.WORKDAY),
        warnings=parsed.warnings,
    )
    audit.record(
        session,
        actor,
        now,
        "calendar.notice_imported",
        "calendar",
        calendar_id,
        after={"year": year, "holidays": result.holidays, "workdays": result.workdays},
    )
    kinds_after = {e.day: e.kind for e in parsed.entries}
    changed = [
        d for d in kinds_before.keys() | kinds_after if kinds_before.get(d) != kinds_after.get(d)
    ]
    if changed:
        reason = {"reason": "notice_imported", "year": year}
        _due_times_follow(session, actor, now, calendar_id, (min(changed), max(changed)), reason)
    return result


# --- the warning -----------------------------------------------------------------------------


def years_to_check(today: date) -> list[int]:
    years = [today.year]
    if today.month >= WARN_NEXT_YEAR_FROM_MONTH:
        years.append(today.year + 1)
    return years


def missing_schedules(session: Session, today: date) -> list[tuple[Calendar, int]]:
    """(calendar, year) for each Chinese calendar whose schedule for the current year or (from
    October) the coming year is neither known to chinesecalendar nor imported from the notice.
    Such a year runs on the documented fallback (see portal/domain/calendar.py)."""
    years = [y for y in years_to_check(today) if not cal.official_cn_year_known(y)]
    if not years:
        return []
    rows = list(session.scalars(select(Calendar).where(Calendar.country == "CN")))
    if not rows:
        return []
    imported = set(
        session.execute(
            select(CalendarOverride.calendar_id, CalendarOverride.day).where(
                CalendarOverride.calendar_id.in_([r.id for r in rows]),
                CalendarOverride.day >= date(min(years), 1, 1),
                CalendarOverride.note.startswith(NOTICE_MARK, autoescape=True),
            )
        ).all()
    )
    notice_years: dict[int, set[int]] = {}
    for cid, d in imported:
        notice_years.setdefault(cid, set()).add(d.year)
    return [
        (r, y)
        for r in rows
        for y in years
        if not cal.has_official_schedule(r.country, y, notice_years.get(r.id, ()))
    ]


def missing_schedule_years(session: Session, today: date) -> list[int]:
    """The years (current, and from October the coming one) some Chinese calendar lacks an
    official schedule for: admins are warned, and those years use the fallback."""
    return sorted({y for _, y in missing_schedules(session, today)})


def all_calendars(session: Session) -> list[Calendar]:
    """Every calendar, the default first (none if all were deleted)."""
    return list(session.scalars(select(Calendar).order_by(Calendar.id)))
