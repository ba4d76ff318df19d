"""calendar_views: the admins' calendar page ``/staff/admin/calendars``
(staff/admin/calendars.html with the htmx panel staff/_cal_panel.html): calendars, overrides
(add / remove), the import of the State Council's yearly notice, and the warning when a year's
schedule is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.db import db
from portal.domain import calendar as cal
from portal.domain.holiday_notice import NoticeProblem
from portal.domain.ids import parse_id
from portal.models import Calendar, utcnow
from portal.services import calendars as calendar_service
from portal.staff.admin import bp, require_admin
from portal.web.auth import actor
from portal.web.forms import PortalForm
from portal.web.params import row_id
from portal.web.rendering import wants_fragment


def problem_text(problem: NoticeProblem) -> str:
    """A problem of a pasted notice in the reader's language."""
    v = problem.values
    texts = {
        "no-year": lambda: _("the year is not given"),
        "not-a-date": lambda: _("%(text)s is not a date", text=v.get("text")),
        "kind": lambda: _("say holiday or workday"),
        "range": lambda: _("the range is not a range of days"),
        "no-month": lambda: _("a day without a month"),
        "weekday": lambda: _(
            "%(day)s is not a %(weekday)s in %(year)s",
            day=v.get("day"),
            weekday=v.get("weekday"),
            year=v.get("year"),
        ),
        "total": lambda: _(
            "%(festival)s is %(days)s days, the notice says %(total)s",
            festival=v.get("festival") or _("holiday"),
            days=v.get("days"),
            total=v.get("total"),
        ),
        "other-year": lambda: _("%(day)s is not in %(year)s", day=v.get("day"), year=v.get("year")),
        "empty": lambda: _("no dates found"),
    }
    text = texts[problem.code]() if problem.code in texts else str(problem)
    return _("line %(line)s: %(text)s", line=problem.line, text=text) if problem.line else text


# --- the admins' calendar page ---------------------------------------------------------------


class OverrideForm(PortalForm):
    day = DateField(_l("Date"), validators=[DataRequired()])
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice(cal.HOLIDAY, _l("Holiday (desk closed)")),
            SelectChoice(cal.WORKDAY, _l("Working day (make-up day worked)")),
        ],
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=150)])


class NoticeForm(PortalForm):
    year = IntegerField(_l("Year"), validators=[DataRequired(), NumberRange(2000, 2100)])
    text = TextAreaField(_l("Text of the notice"), validators=[DataRequired(), Length(max=20000)])


WEEKDAY_FIELDS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class CalendarForm(PortalForm):
    calendar_id = HiddenField()
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    timezone = StringField(_l("Time zone"), validators=[DataRequired(), Length(max=64)])
    country = StringField(
        _l("Country (holidays)"),
        validators=[Optional(), Length(max=2)],
        description=_l("CN for China; another ISO code, or empty for no public holidays."),
    )
    mon = StringField(_l("Monday"))
    tue = StringField(_l("Tuesday"))
    wed = StringField(_l("Wednesday"))
    thu = StringField(_l("Thursday"))
    fri = StringField(_l("Friday"))
    sat = StringField(_l("Saturday"))
    sun = StringField(_l("Sunday"))

    def day_fields(self):
        return [getattr(self, name) for name in WEEKDAY_FIELDS]

    @classmethod
    def of(cls, row: Calendar | None) -> CalendarForm:
        if row is None:
            return cls(
                formdata=None,
                prefix="new",
                timezone=calendar_service.desk_timezone(),
                country="CN",
                **{
                    name: cal.day_text(cal.DEFAULT_WORKING_HOURS.get(str(i)))
                    for i, name in enumerate(WEEKDAY_FIELDS)
                },
            )
        hours = row.working_hours or {}
        return cls(
            formdata=None,
            calendar_id=str(row.id),
            name=row.name,
            timezone=row.timezone,
            country=row.country,
            **{name: cal.day_text(hours.get(str(i))) for i, name in enumerate(WEEKDAY_FIELDS)},
        )


def _calendar_or_404(calendar_id: int) -> Calendar:
    row = db.session.get(Calendar, calendar_id)
    if row is None:
        abort(404)
    return row


@dataclass(frozen=True)
class SpecialDay:
    day: date
    kind: str
    name: str
    source: str


def _year_days(row: Calendar, year: int) -> list[SpecialDay]:
    """The year's days off on working weekdays and make-up working days, as the calendar sees
    them (overrides, the official schedule or the fallback)."""
    domain = calendar_service.load(db.session, row)
    out = []
    d = date(year, 1, 1)
    while d.year == year:
        info = domain.day(d)
        if info.kind == "makeup" or (info.kind == "holiday"):
            out.append(SpecialDay(d, info.kind, info.name, info.source))
        d += timedelta(days=1)
    return out


def _panel_context(row: Calendar, year: int, override_form=None, notice_form=None, **extra):
    today = utcnow().date()
    missing = calendar_service.missing_schedules(db.session, today)
    return {
        "calendar": row,
        "year": year,
        "overrides": calendar_service.overrides(db.session, row.id, year),
        "special_days": _year_days(row, year),
        "override_form": override_form or OverrideForm(formdata=None),
        "notice_form": notice_form
        or NoticeForm(formdata=None, year=_default_notice_year(row, missing, today)),
        "official": cal.official_years(row.country),
        "fallback_year": not calendar_service.load(db.session, row).has_official_schedule(year),
        "notice_mark": calendar_service.NOTICE_MARK,
        "import_result": None,
        "notice_errors": [],
        **extra,
    }


def _default_notice_year(row: Calendar, missing, today: date) -> int:
    years = [y for r, y in missing if r.id == row.id]
    return years[0] if years else today.year + 1


def _selected(calendar_id: int | None) -> tuple[Calendar | None, int]:
    """The calendar asked for, else the default (None when there is no calendar at all)."""
    rows = calendar_service.all_calendars(db.session)
    row = next((r for r in rows if r.id == calendar_id), rows[0] if rows else None)
    try:
        year = int(request.args.get("year", ""))
    except ValueError:
        year = utcnow().year
    return row, max(2000, min(year, 2100))


@bp.get("/calendars", endpoint="calendars")
def admin_calendars():
    require_admin()
    row, year = _selected(row_id(request.args.get("calendar")))
    return _page(row, year, 200)


def _respond(row: Calendar, year: int, status: int = 200, **context):
    """htmx: the panel alone; plain POST: back to the page (PRG), or the page with errors."""
    if wants_fragment():
        return render_template(
            "staff/_cal_panel.html", **_panel_context(row, year, **context)
        ), status
    if status == 200:
        return redirect(url_for("staff.admin.calendars", calendar=row.id, year=year))
    return _page(row, year, status, **context)


def _page(
    row: Calendar | None, year: int, status: int, settings_form=None, new_form=None, **context
):
    """The whole page; without any calendar (all deleted) only the form for a new one."""
    today = utcnow().date()
    if row is not None:
        context = {
            "settings_form": settings_form or CalendarForm.of(row),
            **_panel_context(row, year, **context),
        }
    else:
        context = {"calendar": None, "year": year}
    return render_template(
        "staff/admin/calendars.html",
        calendars=calendar_service.all_calendars(db.session),
        missing=calendar_service.missing_schedules(db.session, today),
        new_form=new_form or CalendarForm.of(None),
        **context,
    ), status


@bp.post("/calendars/<int:calendar_id>/overrides", endpoint="calendar_override_add")
def admin_calendar_override_add(calendar_id: int):
    require_admin()
    row = _calendar_or_404(calendar_id)
    form = OverrideForm()
    if not form.validate_on_submit():
        year = form.day.data.year if form.day.data else utcnow().year
        return _respond(row, year, 422, override_form=form)
    calendar_service.set_override(
        db.session, actor(), utcnow(), row.id, form.day.data, form.kind.data, form.note.data or ""
    )
    db.session.commit()
    message = _("%(day)s saved.", day=form.day.data.isoformat())
    if not wants_fragment():
        flash(message, "success")
    return _respond(row, form.day.data.year, saved=message)


@bp.post(
    "/calendars/<int:calendar_id>/overrides/<int:override_id>/delete",
    endpoint="calendar_override_remove",
)
def admin_calendar_override_remove(calendar_id: int, override_id: int):
    require_admin()
    row = _calendar_or_404(calendar_id)
    year = request.form.get("year", type=int) or utcnow().year
    year = max(2000, min(year, 2100))
    if not calendar_service.remove_override(db.session, actor(), utcnow(), row.id, override_id):
        abort(404)
    db.session.commit()
    message = _("The override is removed.")
    if not wants_fragment():
        flash(message, "success")
    return _respond(row, year, saved=message)


@bp.post("/calendars/<int:calendar_id>/notice", endpoint="calendar_import")
def admin_calendar_import(calendar_id: int):
    require_admin()
    row = _calendar_or_404(calendar_id)
    form = NoticeForm()
    if not form.validate_on_submit():
        return _respond(row, form.year.data or utcnow().year, 422, notice_form=form)
    try:
        result = calendar_service.import_notice(
            db.session, actor(), utcnow(), row.id, form.text.data, form.year.data
        )
    except calendar_service.NoticeError as exc:
        db.session.rollback()
        errors = [problem_text(p) for p in exc.errors]
        return _respond(row, form.year.data, 422, notice_form=form, notice_errors=errors)
    db.session.commit()
    message = _(
        "Notice for %(year)s imported: %(holidays)d days off, %(workdays)d make-up working days.",
        year=result.year,
        holidays=result.holidays,
        workdays=result.workdays,
    )
    warnings = [problem_text(p) for p in result.warnings]
    if not wants_fragment():
        flash(message, "success")
        for warning in warnings:
            flash(warning, "warning")
    return _respond(row, result.year, saved=message, import_warnings=warnings)


@bp.post("/calendars/save", endpoint="calendar_save")
def admin_calendar_save():
    """Create a calendar or change one's name, time zone, country and working hours (a plain
    form: the whole page changes)."""
    require_admin()
    form = CalendarForm(prefix="new") if "new-name" in request.form else CalendarForm()
    calendar_id = parse_id(form.calendar_id.data)
    row = _calendar_or_404(calendar_id) if calendar_id else None
    year = utcnow().year
    hours: dict[str, list[list[str]]] = {}
    if form.validate_on_submit():
        for i, field in enumerate(form.day_fields()):
            try:
                periods = cal.parse_day_text(field.data or "")
            except cal.CalendarError as exc:
                field.errors = [str(exc)]
                continue
            if periods:
                hours[str(i)] = periods
    if not form.errors and not any(f.errors for f in form.day_fields()):
        try:
            saved = calendar_service.save_calendar(
                db.session,
                actor(),
                utcnow(),
                calendar_id,
                form.name.data,
                form.timezone.data.strip(),
                form.country.data or "",
                hours,
            )
        except calendar_service.CalendarSettingsError as exc:
            db.session.rollback()
            messages = {
                "timezone": _("Not a time zone: use an IANA name such as Asia/Shanghai."),
                "country": _("No public holidays are known for this country code."),
                "name": _("Another calendar has this name."),
                "hours": _("These working hours cannot make a calendar: %(why)s", why=str(exc)),
            }
            target = {"hours": form.mon}.get(exc.field) or getattr(form, exc.field)
            target.errors = [messages[exc.field]]
        else:
            db.session.commit()
            flash(_("Calendar “%(name)s” saved.", name=saved.name), "success")
            return redirect(url_for("staff.admin.calendars", calendar=saved.id, year=year))
    if row is None:
        calendars = calendar_service.all_calendars(db.session)
        return _page(calendars[0] if calendars else None, year, 422, new_form=form)
    return _page(row, year, 422, settings_form=form)
