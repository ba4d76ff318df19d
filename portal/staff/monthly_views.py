"""The monthly feedback analysis reports (/staff/reports/monthly): the list, one printable page
per report, a preview of any month that stores nothing, the XLSX (audited), and the review
meeting recorded against a report. Supervisors and admins (docs/product.md §9)."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from portal.db import db
from portal.domain.report_stats import Month
from portal.models import utcnow
from portal.services import feedback as feedback_service
from portal.services.reports import filters as report_filters
from portal.services.reports import monthly, monthly_export
from portal.staff import bp
from portal.staff.delivery_area import desk_today
from portal.staff.forms_reports import ReviewMeetingForm
from portal.web.auth import actor

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _supervisor():
    account = current_user.account
    if not report_filters.sees_all(account):
        abort(403)
    return account


def _report(number: str):
    report = monthly.by_number(db.session, number)
    if report is None:
        abort(404)
    return report


@bp.get("/reports/monthly")
def monthly_reports():
    _supervisor()
    today = desk_today(utcnow())
    return render_template(
        "staff/monthly_reports.html",
        reports=monthly.list_reports(db.session),
        default_month=Month.of(today).shift(-1).key(),
    )


def _render(report, figures, *, preview: bool, form=None, status: int = 200):
    meetings = monthly.meeting_rows(db.session, report) if report else []
    form = form or ReviewMeetingForm()
    if report is not None:
        owners = feedback_service.measure_owners(db.session)
        form.measure_owner.choices = [("", _("Choose an owner"))] + [
            (str(i), name) for i, name in owners
        ]
    page = render_template(
        "staff/monthly_report.html",
        report=report,
        fig=figures,
        preview=preview,
        sealed=monthly.sealed(report) if report else None,
        meetings=meetings,
        form=form,
    )
    return page, status


@bp.get("/reports/monthly/preview")
def monthly_preview():
    """Any month's report computed now and not stored."""
    _supervisor()
    month = Month.parse(request.args.get("month"))
    if month is None:
        flash(_("Choose a month as YYYY-MM."), "error")
        return redirect(url_for("staff.monthly_reports"))
    start, end = monthly.month_period(month)
    figures = monthly.compute(
        db.session, start, end, current_app.config["PORTAL_TIMEZONE"], utcnow()
    )
    db.session.rollback()
    page, status = _render(None, {**figures, "month": month.key()}, preview=True)
    return page, status


@bp.get("/reports/monthly/<number>")
def monthly_report(number: str):
    _supervisor()
    report = _report(number)
    return _render(report, report.figures, preview=False)


@bp.post("/reports/monthly/<number>/meetings")
def monthly_meeting(number: str):
    account = _supervisor()
    report = _report(number)
    form = ReviewMeetingForm()
    if not form.validate():
        return _render(report, report.figures, preview=False, form=form, status=422)
    data = monthly.MeetingInput(
        held_on=form.held_on.data,
        attendees=form.attendees.data,
        decisions=form.decisions.data,
        measure=form.measure.data or "",
        owner_id=form.measure_owner.data,
        deadline=form.measure_deadline.data,
    )
    try:
        monthly.record_meeting(db.session, actor(), report, data, utcnow())
    except monthly.MeetingError as exc:
        messages = {
            "missing": _("This is required."),
            "long": _("This is too long."),
            "before": _("The meeting comes after the month it reviews begins."),
            "past": _("The deadline cannot be in the past."),
        }
        for field, code in exc.problems.items():
            getattr(form, field).errors = [messages[code]]
        return _render(report, report.figures, preview=False, form=form, status=422)
    db.session.commit()
    del account
    flash(_("The review meeting was recorded."), "success")
    return redirect(url_for("staff.monthly_report", number=number) + "#meetings")


@bp.post("/reports/monthly/<number>/export.xlsx")
def monthly_xlsx(number: str):
    _supervisor()
    report = _report(number)
    data = monthly_export.export(db.session, actor(), report, utcnow())
    db.session.commit()
    response = make_response(data)
    response.headers["Content-Type"] = XLSX
    response.headers["Content-Disposition"] = f'attachment; filename="{report.number}.xlsx"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
