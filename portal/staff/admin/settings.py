"""The desk's settings of the administration area at ``/staff/admin/settings``: which roles
take requests (the candidates of the assignment, portal.services.desk_settings) and which program
types may be attached (none by default). Admins change; supervisors read."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms.fields import SelectChoice

from portal.db import db
from portal.models import utcnow
from portal.presentation.labels import ROLE_LABELS
from portal.services import desk_settings
from portal.services.attachments import PROGRAM_TYPES
from portal.staff.admin import bp, may_change, require_admin
from portal.staff.admin.staff_members import CheckboxesField, roles_field
from portal.web.auth import actor
from portal.web.forms import PortalForm


class SettingsForm(PortalForm):
    assignable_roles = roles_field(_l("Roles that take requests"))


# the program and script types an admin may allow as attachments (none by default)
PROGRAM_TYPE_LABELS = {
    "exe": _l("Windows programs and libraries (.exe, .dll, .scr, .com; by content too)"),
    "msi": _l("Windows installers (.msi, .msp)"),
    "bat": _l("Batch files (.bat, .cmd)"),
    "ps1": _l("PowerShell scripts (.ps1, .psm1)"),
    "vbs": _l("VBScript and Windows Script files (.vbs, .vbe, .wsf)"),
    "hta": _l("HTML applications (.hta)"),
    "js": _l("JavaScript files (.js, .jse, .mjs)"),
    "jar": _l("Java archives (.jar; by content too)"),
    "sh": _l("Shell scripts (.sh, and files starting with #!)"),
    "elf": _l("Linux programs (ELF)"),
    "macho": _l("macOS programs (Mach-O)"),
}


class UploadSettingsForm(PortalForm):
    program_types = CheckboxesField(
        _l("Program types accepted as attachments"),
        choices=[SelectChoice(code, PROGRAM_TYPE_LABELS[code]) for code in PROGRAM_TYPES],
    )


def _page(
    form: SettingsForm | None = None,
    status: int = 200,
    uploads: UploadSettingsForm | None = None,
):
    if form is None:
        form = SettingsForm(
            formdata=None, assignable_roles=list(desk_settings.assignable_roles(db.session))
        )
    allowed = desk_settings.allowed_program_types(db.session)
    if uploads is None:
        uploads = UploadSettingsForm(
            prefix="uploads",
            formdata=None,
            program_types=[t for t in PROGRAM_TYPES if t in allowed],
        )
    return render_template(
        "staff/admin/settings.html",
        form=form,
        uploads_form=uploads,
        allowed_programs=[PROGRAM_TYPE_LABELS[t] for t in PROGRAM_TYPES if t in allowed],
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


@bp.post("/settings/uploads", endpoint="settings_uploads_update")
def admin_settings_uploads_update():
    require_admin()
    form = UploadSettingsForm(prefix="uploads")
    if not form.validate_on_submit():
        return _page(status=422, uploads=form)
    changed = desk_settings.set_allowed_program_types(
        db.session, actor(), utcnow(), form.program_types.data or [], PROGRAM_TYPES
    )
    db.session.commit()
    if changed:
        flash(_("Settings saved."), "success")
    return redirect(url_for("staff.admin.settings"))
