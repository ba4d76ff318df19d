"""The reports (/staff/reports): the figures of a period with their charts and tables, the
requests behind each number, and the XLSX export (docs/product.md §9). Supervisors and admins
see everything; an engineer sees their own figures. The filter form is a GET: nothing written.
"""

from __future__ import annotations

from flask import abort, current_app, make_response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from portal.db import db
from portal.models import utcnow
from portal.presentation import report_view
from portal.services import queue as queue_service
from portal.services.reports import drill as report_drill
from portal.services.reports import export as report_export
from portal.services.reports import filters as report_filters
from portal.services.reports import trend as report_trend_service
from portal.services.reports.page import filter_choices, report_page
from portal.staff import bp
from portal.staff.delivery_area import desk_today
from portal.staff.views import NATURAL_DESC, _sort_args, _vary, queue_rows
from portal.web.auth import actor
from portal.web.rendering import page_or_fragment

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILTER_ARGS = ("from", "to", "org", "org_id", "type", "category", "priority", "engineer",
               "department")  # fmt: skip
PROBLEMS = {
    "date": lambda: _("Enter a date as YYYY-MM-DD."),
    "order": lambda: _("The end of the period comes before its start."),
    "long": lambda: _("Choose a period of at most two years."),
    "choice": lambda: _("Choose one of the listed values."),
    "number": lambda: _("Choose one of the listed values."),
}


def _viewer():
    account = current_user.account
    if not report_filters.may_view(account):
        abort(403)
    return account


def _filters(viewer, args):
    """The viewer's filters, or (None, errors) for a bad query string."""
    now = utcnow()
    try:
        parsed = report_filters.parse(args, desk_today(now))
    except report_filters.FilterError as exc:
        return None, {field: PROBLEMS[code]() for field, code in exc.problems.items()}
    return report_filters.scoped(parsed, viewer), {}


def _typed(args) -> dict[str, str]:
    return {k: args.get(k, "") for k in FILTER_ARGS}


@bp.get("/reports")
def reports():
    viewer = _viewer()
    filters, errors = _filters(viewer, request.args)
    context = dict(
        choices=filter_choices(db.session),
        typed=_typed(request.args),
        errors=errors,
        own_figures=not report_filters.sees_all(viewer),
    )
    if filters is None:
        return render_template("staff/reports.html", page=None, **context), 422
    now = utcnow()
    page = report_page(db.session, viewer, filters, current_app.config["PORTAL_TIMEZONE"], now)
    context["typed"] = {**context["typed"], **filters.as_args()}
    return render_template(
        "staff/reports.html",
        page=page,
        args=filters.as_args(),
        charts=report_view.page_charts(page),
        **context,
    )


@bp.get("/reports/trend")
def report_trend():
    """The figures by month over the 12 months ending with the period's last month."""
    viewer = _viewer()
    filters, errors = _filters(viewer, request.args)
    if filters is None:
        abort(422)
    own = not report_filters.sees_all(viewer)
    months = report_trend_service.trend(
        db.session,
        filters,
        current_app.config["PORTAL_TIMEZONE"],
        utcnow(),
        author_id=viewer.id if own else None,
    )
    return render_template(
        "staff/report_trend.html",
        months=months,
        args=filters.as_args(),
        charts=report_view.trend_charts(months),
        own_figures=own,
    )


@bp.get("/reports/requests")
def report_requests():
    """The requests behind one number of a report, listed like the queue (masking, pages)."""
    viewer = _viewer()
    filters, errors = _filters(viewer, request.args)
    if filters is None:
        abort(422)
    try:
        wanted = report_drill.parse(request.args)
        now = utcnow()
        where = report_drill.clauses_for(
            db.session,
            wanted,
            filters,
            current_app.config["PORTAL_TIMEZONE"],
            now,
            author_id=None if report_filters.sees_all(viewer) else viewer.id,
        )
    except report_drill.DrillError:
        abort(422)
    sort, direction, reverse = _sort_args()
    page = queue_service.fetch_page(
        db.session,
        current_user.id,
        queue_service.QueueFilters(view="all", where=tuple(where)),
        sort=sort,
        reverse=reverse,
        after=request.args.get("after"),
        before=request.args.get("before"),
        page_size=current_app.config["PAGE_SIZE"],
    )
    drill_args = {"figure": wanted.figure, "by": wanted.by or "", "value": wanted.value or ""}
    base_args = {
        **filters.as_args(),
        **{k: v for k, v in drill_args.items() if v},
        "view": "all",
        "sort": sort,
        "dir": direction,
    }
    context = dict(
        result=page,
        rows=queue_rows(page, now),
        sort=sort,
        direction=direction,
        base_args=base_args,
        natural_desc=NATURAL_DESC,
        list_endpoint="staff.report_requests",
        drill=wanted,
        filters=filters,
        report_args=filters.as_args(),
    )
    return _vary(
        page_or_fragment("staff/report_requests.html", "staff/_queue_table.html", **context)
    )


@bp.post("/reports/export.xlsx")
def report_xlsx():
    """The report as an XLSX workbook, audited (a POST: the export is recorded)."""
    viewer = _viewer()
    filters, errors = _filters(viewer, request.form)
    if filters is None:
        abort(422)
    now = utcnow()
    data = report_export.export(
        db.session, actor(), viewer, filters, current_app.config["PORTAL_TIMEZONE"], now
    )
    db.session.commit()
    response = make_response(data)
    response.headers["Content-Type"] = XLSX
    name = f"report-{filters.start.isoformat()}-{filters.end.isoformat()}.xlsx"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
