"""Periodic service plans at ``/staff/admin/plans`` (docs/product.md §10): the list, a new
plan, the plan's page (the next 12 occurrences with the calendar's moves, the occurrences
opened and their status), editing, pausing and resuming. Admins and supervisors (who run the
deliveries) change plans. "Preview" on the form shows the dates without saving anything."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.db import db
from portal.models import ServicePlan, utcnow
from portal.presentation import plans as words
from portal.services import plan_pages
from portal.services import plans as plan_service
from portal.staff.admin import bp
from portal.staff.forms_plans import PlanForm
from portal.web.auth import actor


def _plan(plan_id: int) -> ServicePlan:
    plan = db.session.get(ServicePlan, plan_id)
    if plan is None:
        abort(404)
    return plan


def _form(form: PlanForm | None = None) -> PlanForm:
    form = form or PlanForm(formdata=None, starts_on=utcnow().date())
    form.set_choices(plan_service.choices(db.session))
    return form


def _edit_page(form: PlanForm, plan: ServicePlan | None, status: int = 200, preview=None):
    return render_template(
        "staff/admin/plan_form.html",
        form=_form(form),
        plan=plan,
        preview=preview,
        words=words,
    ), status


@bp.get("/plans", endpoint="plans")
def admin_plans():
    rows = plan_pages.plan_list(db.session, utcnow())
    return render_template("staff/admin/plans.html", rows=rows, words=words)


@bp.get("/plans/new", endpoint="plan_new")
def admin_plan_new():
    return _edit_page(_form(), None)


def _save(plan: ServicePlan | None):
    form = _form(PlanForm())
    if not form.validate_on_submit():
        return _edit_page(form, plan, 422)
    data = form.data_in()
    now = utcnow()
    try:
        if request.form.get("preview"):
            preview = plan_service.preview_input(db.session, data, now)
            db.session.rollback()
            return _edit_page(form, plan, 200, preview)
        if plan is None:
            plan = plan_service.create(db.session, actor(), current_user.account, data, now)
            changed = True
        else:
            changed = plan_service.update(db.session, actor(), plan, data, now)
    except plan_service.PlanInputError as exc:
        db.session.rollback()
        form.refused(exc)
        return _edit_page(form, plan and db.session.get(ServicePlan, plan.id), 422)
    db.session.commit()
    flash(
        _("Saved. Requests already opened stay as they are.") if changed else _("Nothing changed."),
        "success",
    )
    return redirect(url_for("staff.admin.plan", plan_id=plan.id))


@bp.post("/plans", endpoint="plan_create")
def admin_plan_create():
    return _save(None)


@bp.get("/plans/<int:plan_id>", endpoint="plan")
def admin_plan(plan_id: int):
    page = plan_pages.plan_page(db.session, _plan(plan_id), utcnow())
    return render_template("staff/admin/plan.html", page=page, words=words)


@bp.get("/plans/<int:plan_id>/edit", endpoint="plan_edit")
def admin_plan_edit(plan_id: int):
    plan = _plan(plan_id)
    return _edit_page(PlanForm.of(plan), plan)


@bp.post("/plans/<int:plan_id>", endpoint="plan_update")
def admin_plan_update(plan_id: int):
    return _save(_plan(plan_id))


@bp.post("/plans/<int:plan_id>/pause", endpoint="plan_pause")
def admin_plan_pause(plan_id: int):
    plan = _plan(plan_id)
    if plan_service.pause(db.session, actor(), plan, utcnow()):
        db.session.commit()
        flash(_("Plan paused: it opens no request until it is resumed."), "success")
    return redirect(url_for("staff.admin.plan", plan_id=plan.id))


@bp.post("/plans/<int:plan_id>/resume", endpoint="plan_resume")
def admin_plan_resume(plan_id: int):
    plan = _plan(plan_id)
    if plan_service.resume(db.session, actor(), plan, utcnow()):
        db.session.commit()
        flash(
            _("Plan resumed: occurrences from today on open again; those of the pause do not."),
            "success",
        )
    return redirect(url_for("staff.admin.plan", plan_id=plan.id))
