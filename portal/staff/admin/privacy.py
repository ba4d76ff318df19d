"""The admin pages of privacy and records: contact reveals, the audit log and retention
(archive and purge)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import (
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_, select
from sqlalchemy.orm import aliased
from wtforms import DateField, IntegerField, StringField
from wtforms.validators import Length, NumberRange, Optional

from portal.db import db
from portal.domain import pii
from portal.domain.masking import mask_email, mask_name, mask_phone
from portal.models import Account, AuditEvent, utcnow
from portal.presentation import presenters
from portal.services import privacy, retention
from portal.staff.admin import bp, require_admin
from portal.web.auth import actor
from portal.web.forms import PortalForm
from portal.web.request_actions import load_request

PAGE = 50


# --- admin: reveals ------------------------------------------------------------------------------


@bp.get("/reveals", endpoint="reveals")
def admin_reveals():
    require_admin()
    before = request.args.get("before", type=int)
    rows = privacy.reveals_page(db.session, utcnow(), before_id=before, page_size=PAGE)
    return render_template(
        "staff/admin/reveals.html",
        rows=[
            {
                "row": r,
                "reason": pii.redact(r.reveal.reason),
            }
            for r in rows
        ],
        next_before=rows[-1].reveal.id if len(rows) == PAGE else None,
    )


# --- admin: audit log ----------------------------------------------------------------------------

CONTACT_KEYS = {
    "contact_name": mask_name,
    "name": mask_name,
    "customer_confirmed_name": mask_name,
    "typed_name": mask_name,
    "contact_phone": mask_phone,
    "phone": mask_phone,
    "contact_email": mask_email,
    "email": mask_email,
}


def masked_data(value, key: str | None = None):
    """Audit before/after as an admin may see them: contact fields masked, PII redacted."""
    if isinstance(value, dict):
        return {k: masked_data(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [masked_data(v, key) for v in value]
    if isinstance(value, str):
        if key in CONTACT_KEYS:
            return CONTACT_KEYS[key](value)
        return pii.redact(value)
    return value


class AuditFilterForm(PortalForm):
    class Meta:
        csrf = False

    action = StringField(_l("Action"), validators=[Optional(), Length(max=60)])
    object_type = StringField(_l("Object type"), validators=[Optional(), Length(max=40)])
    object_id = StringField(_l("Object"), validators=[Optional(), Length(max=40)])
    actor = IntegerField(_l("Actor id"), validators=[Optional(), NumberRange(min=1)])
    since = DateField(_l("From date"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])


def _day_start(day, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


@bp.get("/audit", endpoint="audit")
def admin_audit():
    require_admin()
    form = AuditFilterForm(formdata=request.args)
    form.validate()
    tz = ZoneInfo(current_app.config["PORTAL_TIMEZONE"])
    where = []
    if form.action.data and not form.action.errors:
        where.append(AuditEvent.action.startswith(form.action.data.strip(), autoescape=True))
    if form.object_type.data and not form.object_type.errors:
        where.append(AuditEvent.object_type == form.object_type.data.strip())
    if form.object_id.data and not form.object_id.errors:
        where.append(AuditEvent.object_id == form.object_id.data.strip())
    if form.actor.data and not form.actor.errors:
        where.append(AuditEvent.actor_id == form.actor.data)
    if form.since.data and not form.since.errors:
        where.append(AuditEvent.occurred_at >= _day_start(form.since.data, tz))
    if form.until.data and not form.until.errors:
        where.append(AuditEvent.occurred_at < _day_start(form.until.data, tz) + timedelta(days=1))
    before = request.args.get("before", type=int)
    if before:
        where.append(AuditEvent.id < before)
    who = aliased(Account)
    found = db.session.execute(
        select(AuditEvent, who.name, who.kind)
        .outerjoin(who, who.id == AuditEvent.actor_id)
        .where(and_(True, *where))
        .order_by(AuditEvent.id.desc())
        .limit(PAGE)
    ).all()
    rows = [
        {
            "event": e,
            # a customer's name is contact data; staff names are shown
            "actor": presenters.person_name(name, full=kind == "staff") if name else None,
            "before": masked_data(e.before),
            "after": masked_data(e.after),
        }
        for e, name, kind in found
    ]
    args = {k: v for k, v in request.args.items() if k != "before" and v}
    return render_template(
        "staff/admin/audit.html",
        form=form,
        rows=rows,
        next_before=found[-1][0].id if len(found) == PAGE else None,
        args=args,
    )


# --- admin: retention ----------------------------------------------------------------------------


@bp.get("/retention", endpoint="retention")
def admin_retention():
    require_admin()
    after = request.args.get("after", type=int)
    rows = retention.eligible(db.session, utcnow(), after_id=after, page_size=PAGE)
    return render_template(
        "staff/admin/retention.html",
        rows=[{"row": r, "title": pii.redact(r.title)} for r in rows],
        years=retention.RETENTION_YEARS,
        next_after=rows[-1].id if len(rows) == PAGE else None,
    )


def _refusal_message(exc: retention.RetentionRefused) -> str:
    if exc.code == "too-early":
        day = exc.eligible_at.astimezone(ZoneInfo(current_app.config["PORTAL_TIMEZONE"])).date()
        return _(
            "This record must be kept %(years)d years after closure: it can be deleted from "
            "%(date)s.",
            years=retention.RETENTION_YEARS,
            date=day.isoformat(),
        )
    if exc.code == "not-archived":
        return _("Export the archive of this record before purging it.")
    return _("This request is not closed; it cannot be deleted.")


@bp.post("/retention/<number>/archive", endpoint="retention_archive")
def retention_archive(number: str):
    require_admin()
    sr = load_request(number)
    try:
        made = retention.archive(
            db.session,
            actor(),
            sr,
            current_user.account,
            utcnow(),
            current_app.config["UPLOAD_FOLDER"],
            current_app.config["PORTAL_TIMEZONE"],
        )
    except retention.RetentionRefused as exc:
        db.session.rollback()
        flash(_refusal_message(exc), "error")
        return redirect(url_for("staff.admin.retention")), 303
    db.session.commit()
    response = make_response(made.data)
    response.mimetype = "application/zip"
    response.headers.set("Content-Disposition", "attachment", filename=made.filename)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Archive-SHA256"] = made.sha256
    return response


@bp.post("/retention/<number>/purge", endpoint="retention_purge")
def retention_purge(number: str):
    require_admin()
    sr = load_request(number)
    try:
        files = retention.purge(
            db.session, actor(), sr, utcnow(), current_app.config["UPLOAD_FOLDER"]
        )
    except retention.RetentionRefused as exc:
        db.session.rollback()
        flash(_refusal_message(exc), "error")
        return redirect(url_for("staff.admin.retention")), 303
    db.session.commit()
    for path in files:
        path.unlink(missing_ok=True)
    flash(_("%(number)s was purged; the audit log keeps the record of it.", number=number))
    return redirect(url_for("staff.admin.retention")), 303
