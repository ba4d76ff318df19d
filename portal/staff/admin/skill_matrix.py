"""The skill matrix (技能矩阵) at ``/staff/admin/skills/matrix``: one grid of the staff who take
requests × the active skills, a level 0–5 in each cell, saved as a whole by one form
(portal.services.skill_matrix writes only the cells changed). Supervisors read it."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from wtforms import HiddenField

from portal.db import db
from portal.models import utcnow
from portal.services import skill_matrix
from portal.staff.admin import bp, may_change, require_admin
from portal.web.auth import actor
from portal.web.forms import CONTROL_CHARACTERS_REMOVED, PortalForm
from portal.web.input_guard import removed_fields


class MatrixForm(PortalForm):
    # the levels the page showed ("account.skill.level;…"): what the admin changed is what
    # differs from them, so a cell changed meanwhile by someone else is left alone
    shown = HiddenField()


def _render(m: skill_matrix.Matrix, form: MatrixForm, grid=None, status: int = 200):
    return render_template(
        "staff/admin/skill_matrix.html",
        matrix=m,
        form=form,
        grid=grid or skill_matrix.Grid(),
        editable=may_change(),
    ), status


@bp.route("/skills/matrix", methods=["GET", "POST"], endpoint="skill_matrix")
def admin_skill_matrix():
    m = skill_matrix.matrix(db.session, str(get_locale() or "zh_CN"))
    if request.method == "GET":
        return _render(m, MatrixForm(formdata=None, shown=m.shown()))
    require_admin()
    form = MatrixForm()
    if not form.validate_on_submit():
        return _render(m, form, status=422)
    removed = removed_fields()
    grid = skill_matrix.read_grid(m, request.form, form.shown.data, removed)
    for key in grid.errors:
        if f"level-{key[0]}-{key[1]}" in removed:
            grid.errors[key] = str(CONTROL_CHARACTERS_REMOVED)
    if grid.errors:
        return _render(m, form, grid, status=422)
    changed = skill_matrix.apply(db.session, actor(), utcnow(), grid)
    db.session.commit()
    if changed:
        flash(_("The skill matrix has been saved: %(n)d people changed.", n=changed), "success")
    else:
        flash(_("Nothing changed."), "success")
    return redirect(url_for("staff.admin.skill_matrix"))
