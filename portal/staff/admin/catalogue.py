"""The desk's managed lists: departments (``/staff/admin/departments``), request categories
per type (``/staff/admin/categories``) and skills (``/staff/admin/skills``). Admins add, rename,
reorder and deactivate; supervisors read. Each page lists its entries with a form per entry
and one for a new entry; a refused form comes back on the page (422) with what was typed and
the error at its field (portal.services.catalogue says what is refused)."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

from portal.db import db
from portal.domain.vocabulary import RequestType
from portal.models import Category, Department, Skill, utcnow
from portal.presentation.labels import TYPE_LABELS
from portal.services import catalogue
from portal.services.workflow import FieldError
from portal.staff.admin import bp, may_change, require_admin
from portal.web.auth import actor
from portal.web.forms import TOO_LONG, PortalForm, category_select, set_category_choices

CODE_HINT = _l("Lower-case letters, digits, hyphens; it cannot be changed later.")


def _name(label):
    return StringField(
        label,
        validators=[DataRequired(message=_l("Give a name.")), Length(max=100, message=TOO_LONG)],
    )


def _code(max_length: int):
    return StringField(
        _l("Code"),
        validators=[
            DataRequired(message=_l("Give a code.")),
            Length(max=max_length, message=TOO_LONG),
        ],
        description=CODE_HINT,
    )


class NamesForm(PortalForm):
    name_zh = _name(_l("Name (Chinese)"))
    name_en = _name(_l("Name (English)"))


class DepartmentForm(NamesForm):
    code = _code(catalogue.CODE_MAX["department"])


def _type_choices(any_label=None) -> list[SelectChoice]:
    offered = [SelectChoice(t.value, TYPE_LABELS[t]) for t in RequestType]
    return [SelectChoice("", any_label), *offered] if any_label else offered


class CategoryEditForm(NamesForm):
    position = IntegerField(
        _l("Position"),
        validators=[
            InputRequired(message=_l("Give a position.")),
            NumberRange(-100000, 100000, message=_l("Give a position between -100000 and 100000.")),
        ],
        description=_l("Smaller first in the type's list."),
    )


class CategoryForm(NamesForm):
    request_type = SelectField(
        _l("Request type"),
        choices=_type_choices(),
        validators=[AnyOf([t.value for t in RequestType], message=_l("Choose a request type."))],
    )
    code = _code(catalogue.CODE_MAX["category"])
    position = IntegerField(
        _l("Position"),
        validators=[
            Optional(),
            NumberRange(-100000, 100000, message=_l("Give a position between -100000 and 100000.")),
        ],
        description=_l("Empty: last of its type."),
    )


class SkillEditForm(NamesForm):
    request_type = SelectField(
        _l("Request type"),
        choices=_type_choices(_l("Any type")),
        validators=[
            AnyOf(["", *(t.value for t in RequestType)], message=_l("Choose a request type."))
        ],
    )
    category = category_select(_l("Category"))


class SkillForm(SkillEditForm):
    code = _code(catalogue.CODE_MAX["skill"])


class ActiveForm(PortalForm):
    active = HiddenField(validators=[AnyOf(["0", "1"])])


def _locale() -> str:
    return str(get_locale() or "zh_CN")


def _field_error(form, exc: FieldError) -> None:
    target = getattr(form, exc.field, None)
    if target is not None:
        target.errors = [*target.errors, exc.message]
    else:
        form.form_errors.append(exc.message)


def _save(form, run: Callable[[], object], done: str, page: Callable[..., object], **bound):
    """Validate, run the service, commit and go back to the list; a refusal re-renders it
    with this form bound (422), nothing saved."""
    require_admin()
    if form.validate_on_submit():
        try:
            changed = run()
        except FieldError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(done if changed is not False else _("Nothing changed."), "success")
            return redirect(url_for(f"staff.admin.{page.__name__.removeprefix('admin_')}"))
    return page(status=422, **bound)


def _toggle(row, setter, label: str, endpoint: str):
    require_admin()
    form = ActiveForm()
    if not form.validate_on_submit():
        abort(400)
    active = form.active.data == "1"
    if setter(db.session, actor(), utcnow(), row, active):
        db.session.commit()
        flash(
            _("%(name)s is active again.", name=label)
            if active
            else _(
                "%(name)s is deactivated: no longer offered, kept where it is used.", name=label
            ),
            "success",
        )
    return redirect(url_for(endpoint))


def _or_404(model, row_id: int):
    row = db.session.get(model, row_id)
    if row is None:
        abort(404)
    return row


def _label(row) -> str:
    return row.name_zh if _locale().startswith("zh") else row.name_en


# --- departments -------------------------------------------------------------------------------


@bp.get("/departments", endpoint="departments")
def admin_departments(status: int = 200, new_form=None, edit_forms=None):
    rows = catalogue.departments(db.session)
    editable = may_change()
    forms = {}
    if editable:
        bound = edit_forms or {}
        for r in rows:
            forms[r.id] = bound.get(r.id) or NamesForm(
                formdata=None, prefix=f"d{r.id}", name_zh=r.name_zh, name_en=r.name_en
            )
    return render_template(
        "staff/admin/departments.html",
        rows=rows,
        forms=forms,
        new_form=(new_form or DepartmentForm(formdata=None, prefix="new")) if editable else None,
        toggle=ActiveForm(formdata=None),
        editable=editable,
    ), status


@bp.post("/departments/new", endpoint="department_create")
def admin_department_create():
    form = DepartmentForm(prefix="new")
    names = lambda: catalogue.Names(form.code.data, form.name_zh.data, form.name_en.data)  # noqa: E731
    return _save(
        form,
        lambda: catalogue.create_department(db.session, actor(), utcnow(), names()),
        _("The department has been added."),
        admin_departments,
        new_form=form,
    )


@bp.post("/departments/<int:department_id>", endpoint="department_update")
def admin_department_update(department_id: int):
    require_admin()
    row = _or_404(Department, department_id)
    form = NamesForm(prefix=f"d{row.id}")
    return _save(
        form,
        lambda: catalogue.update_department(
            db.session,
            actor(),
            utcnow(),
            row,
            catalogue.Names(row.code, form.name_zh.data, form.name_en.data),
        ),
        _("The department has been renamed."),
        admin_departments,
        edit_forms={row.id: form},
    )


@bp.post("/departments/<int:department_id>/active", endpoint="department_active")
def admin_department_active(department_id: int):
    require_admin()
    row = _or_404(Department, department_id)
    return _toggle(row, catalogue.set_department_active, _label(row), "staff.admin.departments")


# --- categories --------------------------------------------------------------------------------


@bp.get("/categories", endpoint="categories")
def admin_categories(status: int = 200, new_form=None, edit_forms=None):
    rows = catalogue.categories(db.session)
    editable = may_change()
    forms = {}
    if editable:
        bound = edit_forms or {}
        for r in rows:
            forms[r.id] = bound.get(r.id) or CategoryEditForm(
                formdata=None,
                prefix=f"c{r.id}",
                name_zh=r.name_zh,
                name_en=r.name_en,
                position=r.position,
            )
    groups: dict[str, list[Category]] = {}
    for r in rows:
        try:
            label = str(TYPE_LABELS[RequestType(r.request_type)])
        except ValueError:
            label = r.request_type
        groups.setdefault(label, []).append(r)
    return render_template(
        "staff/admin/categories.html",
        groups=groups,
        forms=forms,
        new_form=(new_form or CategoryForm(formdata=None, prefix="new")) if editable else None,
        toggle=ActiveForm(formdata=None),
        editable=editable,
    ), status


@bp.post("/categories/new", endpoint="category_create")
def admin_category_create():
    form = CategoryForm(prefix="new")
    return _save(
        form,
        lambda: catalogue.create_category(
            db.session,
            actor(),
            utcnow(),
            form.request_type.data,
            catalogue.Names(form.code.data, form.name_zh.data, form.name_en.data),
            position=form.position.data,
        ),
        _("The category has been added."),
        admin_categories,
        new_form=form,
    )


@bp.post("/categories/<int:category_id>", endpoint="category_update")
def admin_category_update(category_id: int):
    require_admin()
    row = _or_404(Category, category_id)
    form = CategoryEditForm(prefix=f"c{row.id}")
    return _save(
        form,
        lambda: catalogue.update_category(
            db.session,
            actor(),
            utcnow(),
            row,
            catalogue.Names(row.code, form.name_zh.data, form.name_en.data),
            form.position.data,
        ),
        _("The category has been saved."),
        admin_categories,
        edit_forms={row.id: form},
    )


@bp.post("/categories/<int:category_id>/active", endpoint="category_active")
def admin_category_active(category_id: int):
    require_admin()
    row = _or_404(Category, category_id)
    return _toggle(row, catalogue.set_category_active, _label(row), "staff.admin.categories")


# --- skills ------------------------------------------------------------------------------------


def _skill_choices(form: SkillEditForm, keep=None) -> SkillEditForm:
    set_category_choices(form.category, db.session, _locale(), keep=keep, blank=_l("Any category"))
    return form


@bp.get("/skills", endpoint="skills")
def admin_skills(status: int = 200, new_form=None, edit_forms=None):
    rows = catalogue.skills(db.session)
    editable = may_change()
    forms = {}
    if editable:
        bound = edit_forms or {}
        for r in rows:
            form = bound.get(r.id) or SkillEditForm(
                formdata=None,
                prefix=f"s{r.id}",
                name_zh=r.name_zh,
                name_en=r.name_en,
                request_type=r.request_type or "",
                category=catalogue.option_value(r.request_type, r.category),
            )
            forms[r.id] = _skill_choices(form, keep=(r.request_type, r.category))
        new_form = _skill_choices(new_form or SkillForm(formdata=None, prefix="new"))
    return render_template(
        "staff/admin/skills.html",
        rows=rows,
        forms=forms,
        new_form=new_form if editable else None,
        toggle=ActiveForm(formdata=None),
        editable=editable,
        type_label=lambda t: TYPE_LABELS.get(t, t) if t else _("Any type"),
    ), status


def _skill_input(form: SkillEditForm, code: str) -> catalogue.SkillInput:
    return catalogue.SkillInput(
        catalogue.Names(code, form.name_zh.data, form.name_en.data),
        form.request_type.data or None,
        form.category.data or None,
    )


@bp.post("/skills/new", endpoint="skill_create")
def admin_skill_create():
    form = SkillForm(prefix="new")
    return _save(
        form,
        lambda: catalogue.create_skill(
            db.session, actor(), utcnow(), _skill_input(form, form.code.data)
        ),
        _("The skill has been added."),
        admin_skills,
        new_form=form,
    )


@bp.post("/skills/<int:skill_id>", endpoint="skill_update")
def admin_skill_update(skill_id: int):
    require_admin()
    row = _or_404(Skill, skill_id)
    form = SkillEditForm(prefix=f"s{row.id}")
    return _save(
        form,
        lambda: catalogue.update_skill(
            db.session, actor(), utcnow(), row, _skill_input(form, row.code)
        ),
        _("The skill has been saved."),
        admin_skills,
        edit_forms={row.id: form},
    )


@bp.post("/skills/<int:skill_id>/active", endpoint="skill_active")
def admin_skill_active(skill_id: int):
    require_admin()
    row = _or_404(Skill, skill_id)
    return _toggle(row, catalogue.set_skill_active, _label(row), "staff.admin.skills")
