"""The desk's settings of the administration area at ``/staff/admin/settings``: which roles
take requests (the candidates of the assignment, portal.services.desk_settings). Admins change;
supervisors read."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.db import db
from portal.models import utcnow
from portal.presentation.labels import ROLE_LABELS
from portal.services import desk_settings
from portal.staff.admin import bp, may_change, require_admin
from portal.staff.admin.staff_members import roles_field
from portal.web.auth import actor
from portal.web.forms import PortalForm


class SettingsForm(PortalForm):
    assignable_roles = roles_field(_l("Roles that take requests"))


def _page(form: SettingsForm | None = None, status: int = 200):
    if form is None:
        form = SettingsForm(
            formdata=None, assignable_roles=list(desk_settings.assignable_roles(db.session))
        )
    return render_template(
        "staff/admin/settings.html",
        form=form,
        current=desk_settings.assignable_roles(db.session),
        role_labels=ROLE_LABELS,
        editable=may_change(),
    ), status


@bp.get("/settings", endpoint="settings")
def admin_settings():
    return _page()


@bp.post("/settings", endpoint="settings_update")
def admin_settings_update():
    require_admin()
    form = SettingsForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    try:
        changed = desk_settings.set_assignable_roles(
            db.session, actor(), utcnow(), form.assignable_roles.data or []
        )
    except desk_settings.SettingError as exc:
        db.session.rollback()
        form.assignable_roles.errors.append(str(exc.message))
        return _page(form, 422)
    db.session.commit()
    if changed:
        flash(_("Settings saved."), "success")
    return redirect(url_for("staff.admin.settings"))
