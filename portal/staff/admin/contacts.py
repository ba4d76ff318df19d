"""Customer contacts (联系人) in the administration area: the list at ``/staff/admin/contacts``
(of one organisation or all; search by name, e-mail or phone; active / inactive / all; pages),
a contact's page (edit, make or unmake organisation admin, deactivate, reactivate), the form for
a new contact, and the bulk import with its preview and its template file.

Admins administer contacts and see them in full. Supervisors see the list read-only and masked
(docs/product.md §5), and cannot search it by contact data: a match would reveal a masked value.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, FileField, HiddenField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length

from portal.db import db
from portal.domain.masking import mask_email, mask_name, mask_phone
from portal.models import Account, Organisation, utcnow
from portal.services import contact_import
from portal.services import contacts as contact_service
from portal.staff.admin import bp, may_change, require_admin
from portal.web.auth import actor
from portal.web.forms import (
    TOO_LONG,
    PortalForm,
    contact_email_field,
    contact_name_field,
    contact_phone_field,
)
from portal.web.params import page_number, row_id

PAGE_SIZE = 50
LANGUAGE_CHOICES = [SelectChoice("zh_CN", "中文"), SelectChoice("en", "English")]


class ContactForm(PortalForm):
    name = contact_name_field()
    email = contact_email_field()
    phone = contact_phone_field()
    organisation = StringField(
        _l("Organisation code"),
        validators=[
            DataRequired(message=_l("Give the organisation's code.")),
            Length(max=40, message=TOO_LONG),
        ],
    )
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, default="zh_CN")
    is_org_admin = BooleanField(_l("Organisation admin"))

    def fields_in_order(self) -> list:
        return [
            self.organisation,
            self.name,
            self.email,
            self.phone,
            self.locale,
            self.is_org_admin,
        ]

    def details(self) -> contact_service.ContactDetails | None:
        """The form's values for the service; None (with the error at the field) when the
        organisation code is unknown."""
        org = contact_service.organisation_by_code(db.session, self.organisation.data or "")
        if org is None:
            self.organisation.errors = [
                *self.organisation.errors,
                _("No organisation has this code."),
            ]
            return None
        return contact_service.ContactDetails(
            name=self.name.data or "",
            email=self.email.data or "",
            phone=self.phone.data or None,
            organisation_id=org.id,
            is_org_admin=bool(self.is_org_admin.data),
            locale=self.locale.data or contact_service.DEFAULT_LOCALE,
        )

    @classmethod
    def of(cls, contact: Account, organisation_code: str) -> ContactForm:
        return cls(
            formdata=None,
            name=contact.name,
            email=contact.email,
            phone=contact.phone or "",
            organisation=organisation_code,
            locale=contact.locale or contact_service.DEFAULT_LOCALE,
            is_org_admin=contact.is_org_admin,
        )


class NewContactForm(ContactForm):
    invite = BooleanField(_l("Send an invitation"), default=True)

    def fields_in_order(self) -> list:
        return [*super().fields_in_order(), self.invite]


class ConfirmForm(PortalForm):
    """A button: the CSRF token alone."""


def _field_error(form: ContactForm, exc: contact_service.ContactError) -> None:
    name = {"locale": "locale"}.get(exc.field, exc.field)
    target = getattr(form, name, None)
    (target.errors if target is not None else form.form_errors).append(exc.message)


def _contact_or_404(contact_id: int) -> Account:
    contact = contact_service.get_contact(db.session, contact_id)
    if contact is None:
        abort(404)
    return contact


# --- the list -------------------------------------------------------------------------------


def _shown(row: contact_service.ContactRow, full: bool) -> dict:
    c = row.contact
    return {
        "id": c.id,
        "name": c.name if full else mask_name(c.name),
        "email": c.email if full else mask_email(c.email),
        "phone": (c.phone or "") if full else mask_phone(c.phone),
        "organisation_id": c.organisation_id,
        "organisation_code": row.organisation_code,
        "organisation_name": row.organisation_name,
        "is_org_admin": c.is_org_admin,
        "active": c.active,
        "invited": c.invited_at is not None,
    }


@bp.get("/contacts", endpoint="contacts")
def admin_contacts():
    full = may_change()
    q = (request.args.get("q") or "").strip()[:200] if full else ""
    status = request.args.get("status", "active")
    if status not in contact_service.STATUSES:
        status = "active"
    page = page_number(request.args.get("page"))
    organisation_id = row_id(request.args.get("organisation"))
    organisation = None
    if organisation_id:
        organisation = db.session.get(Organisation, organisation_id)
        if organisation is None:
            abort(404)
    result = contact_service.search(
        db.session,
        organisation_id=organisation.id if organisation else None,
        q=q,
        status=status,
        page=page,
        page_size=PAGE_SIZE,
    )
    return render_template(
        "staff/admin/contacts.html",
        rows=[_shown(r, full) for r in result.rows],
        result=result,
        q=q,
        status=status,
        organisation=organisation,
        full=full,
    )


# --- a new contact --------------------------------------------------------------------------


def _new_page(form: NewContactForm, status: int = 200):
    return render_template("staff/admin/contact_new.html", form=form), status


@bp.get("/contacts/new", endpoint="contact_new")
def admin_contact_new():
    require_admin()
    code = ""
    organisation_id = row_id(request.args.get("organisation"))
    if organisation_id:
        org = db.session.get(Organisation, organisation_id)
        code = org.code if org else ""
    return _new_page(NewContactForm(formdata=None, organisation=code))


@bp.post("/contacts/new", endpoint="contact_create")
def admin_contact_create():
    require_admin()
    form = NewContactForm()
    if not form.validate_on_submit():
        return _new_page(form, 422)
    details = form.details()
    if details is None:
        return _new_page(form, 422)
    try:
        contact = contact_service.create(
            db.session, actor(), utcnow(), details, invite=bool(form.invite.data)
        )
    except contact_service.ContactError as exc:
        db.session.rollback()
        _field_error(form, exc)
        return _new_page(form, 422)
    db.session.commit()
    if form.invite.data:
        flash(_("%(name)s is added and invited by e-mail.", name=contact.name), "success")
    else:
        flash(_("%(name)s is added (not invited yet).", name=contact.name), "success")
    return redirect(url_for("staff.admin.contact", contact_id=contact.id))


# --- one contact ----------------------------------------------------------------------------


def _detail_page(contact: Account, form: ContactForm | None = None, status: int = 200):
    org = db.session.get(Organisation, contact.organisation_id)
    if form is None:
        form = ContactForm.of(contact, org.code if org else "")
    return render_template(
        "staff/admin/contact.html", contact=contact, organisation=org, form=form
    ), status


@bp.get("/contacts/<int:contact_id>", endpoint="contact")
def admin_contact(contact_id: int):
    require_admin()
    return _detail_page(_contact_or_404(contact_id))


@bp.post("/contacts/<int:contact_id>", endpoint="contact_update")
def admin_contact_update(contact_id: int):
    require_admin()
    contact = _contact_or_404(contact_id)
    form = ContactForm()
    if not form.validate_on_submit():
        return _detail_page(contact, form, 422)
    details = form.details()
    if details is None:
        return _detail_page(contact, form, 422)
    try:
        changed = contact_service.update(db.session, actor(), utcnow(), contact, details)
    except contact_service.ContactError as exc:
        db.session.rollback()
        _field_error(form, exc)
        return _detail_page(_contact_or_404(contact_id), form, 422)
    db.session.commit()
    if changed:
        flash(_("%(name)s is saved.", name=contact.name), "success")
    return redirect(url_for("staff.admin.contact", contact_id=contact.id))


def _button(contact_id: int, change) -> Response:
    require_admin()
    contact = _contact_or_404(contact_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    message = change(contact)
    if message:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("staff.admin.contact", contact_id=contact.id))


@bp.post("/contacts/<int:contact_id>/deactivate", endpoint="contact_deactivate")
def admin_contact_deactivate(contact_id: int):
    def change(contact):
        if contact_service.deactivate(db.session, actor(), utcnow(), contact):
            return _(
                "%(name)s is deactivated and logged out everywhere. Their requests stay.",
                name=contact.name,
            )
        return None

    return _button(contact_id, change)


@bp.post("/contacts/<int:contact_id>/reactivate", endpoint="contact_reactivate")
def admin_contact_reactivate(contact_id: int):
    def change(contact):
        if contact_service.reactivate(db.session, actor(), utcnow(), contact):
            return _("%(name)s is active again.", name=contact.name)
        return None

    return _button(contact_id, change)


@bp.post("/contacts/<int:contact_id>/org-admin", endpoint="contact_org_admin")
def admin_contact_org_admin(contact_id: int):
    make = request.form.get("org_admin") == "1"

    def change(contact):
        if contact_service.set_org_admin(db.session, actor(), utcnow(), contact, make):
            if make:
                return _("%(name)s is now an organisation admin.", name=contact.name)
            return _("%(name)s is no longer an organisation admin.", name=contact.name)
        return None

    return _button(contact_id, change)


# --- the bulk import ------------------------------------------------------------------------


class ImportForm(PortalForm):
    file = FileField(_l("File (XLSX or CSV)"))


class ConfirmImportForm(PortalForm):
    import_id = HiddenField()
    invite = BooleanField(_l("Invite each new contact by e-mail"), default=True)


def refusal_text(exc: contact_import.ImportRefused) -> str:
    texts = {
        "not-a-spreadsheet": lambda: _(
            "This file is not a spreadsheet. Upload an XLSX workbook or a CSV file."
        ),
        "too-large": lambda: _(
            "The file is larger than the limit of %(mb)d MB.", mb=exc.values["limit"] // 2**20
        ),
        "too-many-rows": lambda: _(
            "The file has more than %(limit)d rows. Split it into several files.",
            limit=exc.values["limit"],
        ),
        "no-headings": lambda: _(
            "The first row must hold the headings: organisation code, name and e-mail at "
            "least (the template file has them)."
        ),
        "empty": lambda: _("The file holds no contacts."),
        "no-file": lambda: _("Choose a file to upload."),
        "expired": lambda: _("This preview has expired. Upload the file again."),
        "used": lambda: _("This file was imported already."),
        "unknown": lambda: _("This preview does not exist. Upload the file again."),
    }
    return texts.get(exc.code, texts["unknown"])()


COLUMN_LABELS = {
    "organisation": _l("Organisation code"),
    "name": _l("Name"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "language": _l("Language"),
    "org_admin": _l("Organisation admin"),
}


def problem_text(problem: dict) -> str:
    column = COLUMN_LABELS.get(problem.get("column") or "", "")
    texts = {
        "control-characters": lambda: _(
            "%(column)s holds invisible control characters.", column=column
        ),
        "name-missing": lambda: _("The name is missing."),
        "too-long": lambda: _(
            "%(column)s is longer than %(max)d characters.", column=column, max=problem["max"]
        ),
        "email-missing": lambda: _("The e-mail address is missing."),
        "email-invalid": lambda: _("The e-mail address is not valid."),
        "email-duplicate": lambda: _(
            "The same e-mail address is on row %(line)d already.", line=problem["line"]
        ),
        "email-staff": lambda: _("This e-mail address belongs to a staff account."),
        "email-other-organisation": lambda: _(
            "This e-mail address belongs to a contact of another organisation."
        ),
        "phone-invalid": lambda: _("The phone number is not valid."),
        "language-unknown": lambda: _("The language is not zh_CN or en."),
        "org-admin-unknown": lambda: _("Organisation admin must be yes or no."),
        "organisation-missing": lambda: _("The organisation code is missing."),
        "organisation-unknown": lambda: _("No organisation has this code."),
        "organisation-inactive": lambda: _("This organisation is deactivated."),
    }
    text = texts.get(problem.get("code"))
    return text() if text else str(problem.get("code"))


def _import_page(form: ImportForm | None = None, refusal: str | None = None, status: int = 200):
    return render_template(
        "staff/admin/contact_import.html",
        form=form or ImportForm(formdata=None),
        refusal=refusal,
        max_rows=contact_import.MAX_ROWS,
        max_mb=contact_import.MAX_BYTES // 2**20,
    ), status


@bp.get("/contacts/import", endpoint="contact_import")
def admin_contact_import():
    require_admin()
    return _import_page()


@bp.get("/contacts/import/template.csv", endpoint="contact_import_template")
def admin_contact_import_template():
    require_admin()
    locale = "zh_CN" if str(get_locale()).startswith("zh") else "en"
    return Response(
        contact_import.template_csv(locale),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=contacts-template.csv"},
    )


@bp.post("/contacts/import", endpoint="contact_import_upload")
def admin_contact_import_upload():
    require_admin()
    form = ImportForm()
    if not form.validate_on_submit():
        return _import_page(form, None, 422)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _import_page(form, refusal_text(contact_import.ImportRefused("no-file")), 422)
    data = upload.stream.read(contact_import.MAX_BYTES + 1)
    try:
        staged = contact_import.stage(db.session, actor(), utcnow(), upload.filename, data)
    except contact_import.ImportRefused as exc:
        db.session.rollback()
        return _import_page(form, refusal_text(exc), 422)
    db.session.commit()
    return redirect(url_for("staff.admin.contact_import_preview", id=staged.id))


def _preview_page(staged, form: ConfirmImportForm | None = None, status: int = 200):
    form = form or ConfirmImportForm(formdata=None, import_id=staged.id)
    rows = [dict(r, messages=[problem_text(p) for p in r["problems"]]) for r in staged.rows]
    return render_template(
        "staff/admin/contact_import_preview.html",
        staged=staged,
        rows=rows,
        summary=contact_import.summary(staged.rows),
        form=form,
    ), status


@bp.get("/contacts/import/preview", endpoint="contact_import_preview")
def admin_contact_import_preview():
    require_admin()
    try:
        staged = contact_import.load(db.session, actor(), utcnow(), request.args.get("id", ""))
    except contact_import.ImportRefused as exc:
        return _import_page(None, refusal_text(exc), 404 if exc.code == "unknown" else 410)
    return _preview_page(staged)


@bp.post("/contacts/import/confirm", endpoint="contact_import_confirm")
def admin_contact_import_confirm():
    require_admin()
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        result = contact_import.run(
            db.session, actor(), utcnow(), form.import_id.data or "", invite=bool(form.invite.data)
        )
    except contact_import.ImportRefused as exc:
        db.session.rollback()
        return _import_page(None, refusal_text(exc), 409 if exc.code == "used" else 422)
    except contact_service.ContactError as exc:
        db.session.rollback()
        return _import_page(None, str(exc.message), 422)
    db.session.commit()
    flash(
        _(
            "Import done: %(created)d created, %(updated)d updated, %(unchanged)d left as they "
            "were, %(left_out)d rows with errors left out.",
            created=result.create,
            updated=result.update,
            unchanged=result.unchanged,
            left_out=result.error,
        ),
        "success",
    )
    return redirect(url_for("staff.admin.contacts"))
