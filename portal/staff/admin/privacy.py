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
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional

from portal.db import db
from portal.domain import pii
from portal.models import utcnow
from portal.presentation import audit_sentences
from portal.services import audit, privacy, retention
from portal.staff.admin import bp, require_admin
from portal.web.auth import actor
from portal.web.forms import PortalForm
from portal.web.params import row_id
from portal.web.request_actions import load_request

PAGE = 50


# --- admin: reveals ------------------------------------------------------------------------------


@bp.get("/reveals", endpoint="reveals")
def admin_reveals():
    require_admin()
    before = row_id(request.args.get("before"))
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


class AuditFilterForm(PortalForm):
    class Meta:
        csrf = False

    # not limited to the listed choices: an action or a type recorded since still filters
    action = SelectField(
        _l("Action"), validators=[Optional(), Length(max=60)], validate_choice=False
    )
    object_type = SelectField(
        _l("Object type"), validators=[Optional(), Length(max=40)], validate_choice=False
    )
    object_id = StringField(_l("Object"), validators=[Optional(), Length(max=40)])
    actor = StringField(_l("Actor"), validators=[Optional(), Length(max=100)])
    since = DateField(_l("From date"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])


def _day_start(day, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def _value(field) -> str | None:
    if field.errors:
        return None
    return (field.data or "").strip() or None


def _filters(form: AuditFilterForm, tz: ZoneInfo) -> audit.AuditFilters:
    since = form.since.data if not form.since.errors else None
    until = form.until.data if not form.until.errors else None
    return audit.AuditFilters(
        action=_value(form.action),
        object_type=_value(form.object_type),
        object_id=_value(form.object_id),
        actor=_value(form.actor),
        since=_day_start(since, tz) if since else None,
        until=_day_start(until, tz) + timedelta(days=1) if until else None,
    )


def _shown(row: audit.AuditRow, english: bool) -> audit_sentences.Rendered:
    label = row.object_label_en if english and row.object_label_en else row.object_label
    return audit_sentences.render(
        audit_sentences.Event(
            action=row.event.action,
            object_type=row.event.object_type,
            object_id=row.event.object_id,
            object_label=label,
            actor_name=row.actor_name,
            before=row.event.before,
            after=row.event.after,
            request_number=row.request_number,
            actor_is_contact=row.actor_is_contact,
            object_is_contact=row.object_is_contact,
        )
    )


@bp.get("/audit", endpoint="audit")
def admin_audit():
    require_admin()
    form = AuditFilterForm(formdata=request.args)
    form.action.choices = {None: [("", _("All actions"))], **audit_sentences.action_choices()}
    form.object_type.choices = [("", _("All objects"))] + [
        (key, str(label)) for key, label in audit_sentences.OBJECT_TYPES.items()
    ]
    form.validate()
    tz = ZoneInfo(current_app.config["PORTAL_TIMEZONE"])
    before = row_id(request.args.get("before"))
    found = audit.audit_page(db.session, _filters(form, tz), before_id=before, page_size=PAGE)
    locale = get_locale()
    english = locale is not None and locale.language == "en"
    rows = [{"event": r.event, "shown": _shown(r, english)} for r in found]
    args = {k: v for k, v in request.args.items() if k != "before" and v}
    return render_template(
        "staff/admin/audit.html",
        form=form,
        rows=rows,
        next_before=found[-1].event.id if len(found) == PAGE else None,
        args=args,
    )


# --- admin: retention ----------------------------------------------------------------------------


@bp.get("/retention", endpoint="retention")
def admin_retention():
    require_admin()
    after = row_id(request.args.get("after"))
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
