"""The staff of the administration area: the list at ``/staff/admin/staff`` (search by name or
e-mail, role, department, active / inactive, pages, the invitation form) and a staff member's
page (roles, department, level, language; on duty or on leave until a date; deactivate or
reactivate). Admins change; supervisors read (``may_change``). When someone who handles open
requests goes on leave or is deactivated, their page lists those requests, each with a link to
its assignment panel, so none is left without a handler unnoticed.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, EmailField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.db import db
from portal.domain.vocabulary import Role
from portal.models import Account, utcnow
from portal.presentation.labels import ROLE_LABELS
from portal.services import staff_admin
from portal.services.availability import desk_today
from portal.staff.admin import bp, may_change, require_admin
from portal.web.account import LANGUAGE_NAMES
from portal.web.auth import actor
from portal.web.forms import TOO_LONG, PortalForm
from portal.web.params import page_number, row_id

PAGE_SIZE = 50
ACTIVE_FILTERS = {"active": True, "inactive": False, "all": None}
LEVEL_LABELS = {
    1: _l("1 · first line"),
    2: _l("2 · second line"),
    3: _l("3 · expert"),
}


def _optional_int(value) -> int | None:
    if value in (None, "", "None"):
        return None
    number = int(value)
    if number <= 0:
        raise ValueError("not a number")
    return number


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def roles_field(label) -> CheckboxesField:
    return CheckboxesField(
        label,
        choices=[SelectChoice(r.value, ROLE_LABELS[r]) for r in Role],
        # "at least one" is the service's check (a required flag would mark every checkbox)
    )


class StaffFields(PortalForm):
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Give the staff member's name.")),
            Length(max=staff_admin.NAME_MAX, message=TOO_LONG),
        ],
    )
    roles = roles_field(_l("Roles"))
    department_id = SelectField(_l("Department"), coerce=_optional_int)
    level = SelectField(
        _l("Support level"),
        coerce=_optional_int,
        choices=[SelectChoice("", _l("— not set —"))]
        + [SelectChoice(str(n), label) for n, label in LEVEL_LABELS.items()],
    )
    locale = SelectField(
        _l("Language"),
        choices=[SelectChoice("", _l("— the browser's —"))]
        + [SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
    )

    def set_departments(self, current: int | None = None) -> None:
        rows = staff_admin.departments(db.session, str(get_locale() or "en"))
        self.department_id.choices = [SelectChoice("", _("— none —"))] + [
            SelectChoice(str(i), name if active else _("%(name)s (inactive)", name=name))
            for i, name, active in rows
            if active or i == current
        ]


class InviteForm(StaffFields):
    email = EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(message=_l("Enter an e-mail address.")),
            Email(message=_l("Enter a valid e-mail address.")),
            Length(max=staff_admin.EMAIL_MAX, message=TOO_LONG),
        ],
    )

    def fields_in_order(self) -> list:
        return [self.name, self.email, self.roles, self.department_id, self.level, self.locale]

    def data_in(self) -> staff_admin.StaffInput:
        return staff_admin.StaffInput(
            name=self.name.data or "",
            email=self.email.data or "",
            roles=list(self.roles.data or ()),
            department_id=self.department_id.data,
            level=self.level.data,
            locale=self.locale.data or None,
        )


class EditForm(StaffFields):
    def fields_in_order(self) -> list:
        return [self.name, self.roles, self.department_id, self.level, self.locale]

    def changes(self) -> staff_admin.StaffChanges:
        return staff_admin.StaffChanges(
            name=self.name.data or "",
            roles=list(self.roles.data or ()),
            department_id=self.department_id.data,
            level=self.level.data,
            locale=self.locale.data or None,
        )

    @classmethod
    def of(cls, account: Account) -> EditForm:
        form = cls(
            formdata=None,
            name=account.name,
            roles=[r.value for r in Role if account.has_role(r.value)],
            department_id=account.department_id,
            level=account.staff_level,
            locale=account.locale or "",
        )
        form.set_departments(account.department_id)
        return form


ON_DUTY, ON_LEAVE = "on_duty", "on_leave"


class AvailabilityForm(PortalForm):
    state = RadioField(
        _l("Availability"),
        choices=[SelectChoice(ON_DUTY, _l("On duty")), SelectChoice(ON_LEAVE, _l("On leave"))],
        default=ON_DUTY,
    )
    until = DateField(
        _l("On leave until (last day)"),
        validators=[Optional()],
        description=_l("From the day after, they count as on duty again by themselves."),
    )

    def validate_until(self, field) -> None:
        if self.state.data == ON_LEAVE and field.data is None:
            raise ValidationError(_l("Give the leave's last day."))


class ConfirmForm(PortalForm):
    """A button: the CSRF token alone."""


def _today():
    return desk_today(utcnow(), current_app.config["PORTAL_TIMEZONE"])


def _member_or_404(account_id: int) -> Account:
    account = db.session.get(Account, account_id)
    if account is None or account.kind != "staff":
        abort(404)
    return account


def _refused(form, exc: staff_admin.StaffError) -> None:
    field = getattr(form, exc.field, None) if exc.field else None
    (field.errors if field is not None else form.form_errors).append(str(exc.message))


# --- the list ----------------------------------------------------------------------------------


def _list_args() -> dict:
    q = (request.args.get("q") or "").strip()[:200]
    shown = request.args.get("active", "active")
    if shown not in ACTIVE_FILTERS:
        shown = "active"
    role = request.args.get("role") or None
    if role not in {r.value for r in Role}:
        role = None
    department = row_id(request.args.get("department"))
    page = page_number(request.args.get("page"))
    return {
        "q": q,
        "active": shown,
        "role": role,
        "department": department if department and department > 0 else None,
        "page": max(1, min(page, 100_000)),
    }


def _list_page(invite_form: InviteForm | None = None, status: int = 200):
    args = _list_args()
    locale = str(get_locale() or "en")
    result = staff_admin.search(
        db.session,
        _today(),
        q=args["q"],
        role=args["role"],
        department_id=args["department"],
        active=ACTIVE_FILTERS[args["active"]],
        page=args["page"],
        page_size=PAGE_SIZE,
        locale=locale,
    )
    if may_change() and invite_form is None:
        invite_form = InviteForm(formdata=None)
        invite_form.set_departments()
    return render_template(
        "staff/admin/staff.html",
        result=result,
        args=args,
        departments=staff_admin.departments(db.session, locale),
        role_labels=ROLE_LABELS,
        level_labels=LEVEL_LABELS,
        invite_form=invite_form if may_change() else None,
    ), status


@bp.get("/staff", endpoint="staff")
def admin_staff():
    return _list_page()


@bp.post("/staff", endpoint="staff_invite")
def admin_staff_invite():
    require_admin()
    form = InviteForm()
    form.set_departments()
    if not form.validate_on_submit():
        return _list_page(form, 422)
    try:
        account = staff_admin.invite(db.session, actor(), utcnow(), form.data_in())
    except staff_admin.StaffError as exc:
        db.session.rollback()
        _refused(form, exc)
        return _list_page(form, 422)
    db.session.commit()
    flash(
        _(
            "%(name)s is invited: the invitation went to %(email)s.",
            name=account.name,
            email=account.email,
        ),
        "success",
    )
    return redirect(url_for("staff.admin.staff_member", account_id=account.id))


# --- one staff member ---------------------------------------------------------------------------


def _member_page(
    account: Account,
    form: EditForm | None = None,
    availability_form: AvailabilityForm | None = None,
    status: int = 200,
    error: str | None = None,
):
    today = _today()
    data = staff_admin.member_page(db.session, account, today, str(get_locale() or "en"))
    if availability_form is None:
        availability_form = AvailabilityForm(
            formdata=None,
            state=ON_LEAVE if data.on_leave else ON_DUTY,
            until=account.on_leave_until if data.on_leave else None,
        )
    return render_template(
        "staff/admin/staff_member.html",
        member=data.row,
        data=data,
        form=form or EditForm.of(account),
        availability_form=availability_form,
        editable=may_change(),
        role_labels=ROLE_LABELS,
        level_labels=LEVEL_LABELS,
        language_names=LANGUAGE_NAMES,
        today=today,
        shown=staff_admin.ORPHANS_SHOWN,
        error=error,
    ), status


@bp.get("/staff/<int:account_id>", endpoint="staff_member")
def admin_staff_member(account_id: int):
    return _member_page(_member_or_404(account_id))


@bp.post("/staff/<int:account_id>", endpoint="staff_update")
def admin_staff_update(account_id: int):
    require_admin()
    account = _member_or_404(account_id)
    form = EditForm()
    form.set_departments(account.department_id)
    if not form.validate_on_submit():
        return _member_page(account, form, status=422)
    try:
        changed = staff_admin.update(db.session, actor(), utcnow(), account, form.changes())
    except staff_admin.StaffError as exc:
        db.session.rollback()
        _refused(form, exc)
        return _member_page(_member_or_404(account_id), form, status=422)
    db.session.commit()
    if changed:
        flash(_("%(name)s saved.", name=account.name), "success")
    return redirect(url_for("staff.admin.staff_member", account_id=account.id))


@bp.post("/staff/<int:account_id>/availability", endpoint="staff_availability")
def admin_staff_availability(account_id: int):
    require_admin()
    account = _member_or_404(account_id)
    form = AvailabilityForm()
    if not form.validate_on_submit():
        return _member_page(account, availability_form=form, status=422)
    try:
        if form.state.data == ON_LEAVE:
            left = staff_admin.set_on_leave(
                db.session, actor(), utcnow(), account, form.until.data, _today()
            )
            message = _(
                "%(name)s is on leave until %(day)s.", name=account.name, day=form.until.data
            )
        else:
            staff_admin.set_on_duty(db.session, actor(), utcnow(), account, _today())
            left, message = [], _("%(name)s is on duty.", name=account.name)
    except staff_admin.StaffError as exc:
        db.session.rollback()
        _refused(form, exc)
        return _member_page(_member_or_404(account_id), availability_form=form, status=422)
    db.session.commit()
    flash(message, "success")
    if left:
        flash(_("Their open requests need another handler: they are listed below."), "warning")
    return redirect(url_for("staff.admin.staff_member", account_id=account.id))


@bp.post("/staff/<int:account_id>/deactivate", endpoint="staff_deactivate")
def admin_staff_deactivate(account_id: int):
    require_admin()
    account = _member_or_404(account_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        left = staff_admin.deactivate(db.session, actor(), utcnow(), account)
    except staff_admin.StaffError as exc:
        db.session.rollback()
        return _member_page(_member_or_404(account_id), status=422, error=str(exc.message))
    db.session.commit()
    flash(
        _(
            "%(name)s is deactivated: their sessions have ended and they cannot log in.",
            name=account.name,
        ),
        "success",
    )
    if left:
        flash(_("Their open requests need another handler: they are listed below."), "warning")
    return redirect(url_for("staff.admin.staff_member", account_id=account.id))


@bp.post("/staff/<int:account_id>/reactivate", endpoint="staff_reactivate")
def admin_staff_reactivate(account_id: int):
    require_admin()
    account = _member_or_404(account_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if staff_admin.reactivate(db.session, actor(), utcnow(), account):
        db.session.commit()
        flash(_("%(name)s is active again.", name=account.name), "success")
    return redirect(url_for("staff.admin.staff_member", account_id=account.id))
