"""The organisation admin's monthly service report (/service-report): their organisation's SLA
met, times, satisfaction and the measures on their feedback (docs/product.md §12). Only an
organisation admin; the organisation is their own, whatever the URL says."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import abort, current_app, render_template, request
from flask_login import current_user

from portal.customer import bp
from portal.db import db
from portal.domain.report_stats import Month
from portal.models import utcnow
from portal.services.reports.organisation import organisation_report


@bp.get("/service-report")
def service_report():
    account = current_user.account
    if not account.is_org_admin or account.organisation_id is None:
        abort(403)
    now = utcnow()
    tz = current_app.config["PORTAL_TIMEZONE"]
    last = Month.of(now.astimezone(ZoneInfo(tz)).date()).shift(-1)
    raw = request.args.get("month")
    month = Month.parse(raw) if raw else last
    status = 200
    if month is None:
        month, status = last, 422
    report = organisation_report(db.session, account, month, tz, now)
    return render_template(
        "customer/service_report.html",
        report=report,
        month_error=status == 422,
        typed=raw or month.key(),
    ), status
