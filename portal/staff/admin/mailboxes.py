"""The IMAP mailboxes inbound mail is taken from (docs/product.md §9), at
``/staff/admin/mailboxes``: the list (with each one's last fetch), add, a mailbox's page (edit:
an empty password keeps the stored one, which is never shown; deactivate or reactivate; test the
connection). Admins only (portal.services.inbound.mailboxes; the fetch itself:
portal.services.inbound.imap)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.db import db
from portal.models import Mailbox, utcnow
from portal.services.inbound import imap
from portal.services.inbound import mailboxes as service
from portal.staff.admin import bp, require_admin
from portal.web.auth import actor
from portal.web.forms import TOO_LONG, PortalForm

AFTER_TAKING_LABELS = {
    "move": _l("Move it to the taken folder"),
    "delete": _l("Delete it from the mailbox"),
}
ERROR_LABELS = {
    "connect": _l("The mail server could not be reached"),
    "login": _l("The mail server refused the login"),
    "folder": _l("A folder could not be opened or created"),
    "password": _l("The stored password cannot be read: enter it again"),
    "database": _l("The database refused the mail (it stays in the mailbox)"),
    "server": _l("The mail server failed"),
}
PORT_ERROR = _l("A port between 1 and 65535, e.g. 993.")


class MailboxForm(PortalForm):
    host = StringField(
        _l("Mail server (IMAP host)"),
        validators=[
            DataRequired(message=_l("Give the mail server's host name.")),
            Length(max=service.HOST_MAX, message=TOO_LONG),
        ],
    )
    port = IntegerField(
        _l("Port"),
        validators=[InputRequired(message=PORT_ERROR), NumberRange(1, 65535, message=PORT_ERROR)],
        default=993,
        description=_l("993 with TLS; 143 without."),
    )
    use_ssl = BooleanField(_l("TLS (IMAPS)"), default=True)
    username = StringField(
        _l("User name"),
        validators=[
            DataRequired(message=_l("Give the user name to log in with.")),
            Length(max=service.USER_MAX, message=TOO_LONG),
        ],
    )
    password = PasswordField(
        _l("Password"),
        validators=[Optional(), Length(max=service.PASSWORD_MAX, message=TOO_LONG)],
    )
    folder = StringField(
        _l("Folder to take mail from"),
        validators=[Length(max=service.FOLDER_MAX, message=TOO_LONG)],
        default="INBOX",
    )
    after_taking = SelectField(
        _l("Once a mail is taken"),
        choices=[SelectChoice(k, v) for k, v in AFTER_TAKING_LABELS.items()],
        default="move",
    )
    taken_folder = StringField(
        _l("Taken folder"),
        validators=[Length(max=service.FOLDER_MAX, message=TOO_LONG)],
        default="Portal/Taken",
        description=_l("Created when missing. Use the server's folder separator."),
    )

    def fields_in_order(self) -> list:
        return [
            self.host,
            self.port,
            self.use_ssl,
            self.username,
            self.password,
            self.folder,
            self.after_taking,
            self.taken_folder,
        ]

    def settings(self, name: str) -> service.MailboxSettings:
        return service.MailboxSettings(
            name=name,
            host=self.host.data or "",
            port=self.port.data,
            use_ssl=bool(self.use_ssl.data),
            username=self.username.data or "",
            password=self.password.data or None,
            folder=self.folder.data or "",
            after_taking=self.after_taking.data,
            taken_folder=self.taken_folder.data or "",
        )

    @classmethod
    def of(cls, box: Mailbox) -> MailboxForm:
        return cls(
            formdata=None,
            host=box.host,
            port=box.port,
            use_ssl=box.use_ssl,
            username=box.username,
            folder=box.folder,
            after_taking=box.after_taking,
            taken_folder=box.taken_folder,
        )


class NewMailboxForm(MailboxForm):
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Give the mailbox a name.")),
            Length(max=service.NAME_MAX, message=TOO_LONG),
        ],
        description=_l("Fixed once given: every mail taken records it."),
    )

    def fields_in_order(self) -> list:
        return [self.name, *super().fields_in_order()]


class ActiveForm(PortalForm):
    active = HiddenField(validators=[DataRequired()])


def error_words(last_error: str | None) -> str | None:
    """A mailbox's recorded error in the reader's language, with the server's own words."""
    code = imap.error_code(last_error)
    if code is None:
        return None
    detail = imap.error_detail(last_error)
    label = str(ERROR_LABELS[code])
    return f"{label}: {detail}" if detail and code != "password" else label


def _box_or_404(mailbox_id: int) -> Mailbox:
    box = db.session.get(Mailbox, mailbox_id)
    if box is None:
        abort(404)
    return box


def _save(form: MailboxForm, box: Mailbox | None) -> Mailbox | None:
    if not form.validate_on_submit():
        return None
    try:
        if box is None:
            box = service.create(
                db.session, actor(), utcnow(), current_app.config, form.settings(form.name.data)
            )
        else:
            service.update(
                db.session, actor(), utcnow(), current_app.config, box, form.settings(box.name)
            )
    except service.MailboxError as exc:
        db.session.rollback()
        field = getattr(form, exc.field, None)
        (field.errors if field is not None else form.form_errors).append(exc.message)
        return None
    db.session.commit()
    return box


# --- the list ----------------------------------------------------------------------------------


def _list_page(new_form: NewMailboxForm | None = None, status: int = 200):
    return render_template(
        "staff/admin/mailboxes.html",
        rows=service.listing(db.session),
        new_form=new_form or NewMailboxForm(formdata=None),
        error_words=error_words,
    ), status


@bp.get("/mailboxes", endpoint="mailboxes")
def admin_mailboxes():
    require_admin()
    return _list_page()


@bp.post("/mailboxes", endpoint="mailbox_create")
def admin_mailbox_create():
    require_admin()
    form = NewMailboxForm()
    box = _save(form, None)
    if box is None:
        form.password.data = None  # never sent back
        return _list_page(form, 422)
    flash(_("Mailbox “%(name)s” added.", name=box.name), "success")
    return redirect(url_for("staff.admin.mailbox", mailbox_id=box.id))


# --- one mailbox -------------------------------------------------------------------------------


def _detail_page(box: Mailbox, form: MailboxForm | None = None, status: int = 200):
    return render_template(
        "staff/admin/mailbox.html",
        box=box,
        form=form or MailboxForm.of(box),
        error_words=error_words,
    ), status


@bp.get("/mailboxes/<int:mailbox_id>", endpoint="mailbox")
def admin_mailbox(mailbox_id: int):
    require_admin()
    return _detail_page(_box_or_404(mailbox_id))


@bp.post("/mailboxes/<int:mailbox_id>", endpoint="mailbox_update")
def admin_mailbox_update(mailbox_id: int):
    require_admin()
    box = _box_or_404(mailbox_id)
    form = MailboxForm()
    if _save(form, box) is None:
        form.password.data = None
        return _detail_page(_box_or_404(mailbox_id), form, 422)
    flash(_("Mailbox “%(name)s” saved.", name=box.name), "success")
    return redirect(url_for("staff.admin.mailbox", mailbox_id=box.id))


@bp.post("/mailboxes/<int:mailbox_id>/active", endpoint="mailbox_active")
def admin_mailbox_active(mailbox_id: int):
    require_admin()
    box = _box_or_404(mailbox_id)
    form = ActiveForm()
    if not form.validate_on_submit() or form.active.data not in ("0", "1"):
        abort(400)
    active = form.active.data == "1"
    if service.set_active(db.session, actor(), utcnow(), box, active):
        db.session.commit()
        if active:
            flash(_("“%(name)s” is fetched again.", name=box.name), "success")
        else:
            flash(_("“%(name)s” is deactivated: no more mail is taken from it.", name=box.name))
    return redirect(url_for("staff.admin.mailbox", mailbox_id=box.id))


class ConfirmForm(PortalForm):
    """A button: the CSRF token alone."""


@bp.post("/mailboxes/<int:mailbox_id>/test", endpoint="mailbox_test")
def admin_mailbox_test(mailbox_id: int):
    """Log in with the stored settings and open the folder; says OK or what went wrong (writes
    nothing)."""
    require_admin()
    box = _box_or_404(mailbox_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    config = current_app.config
    try:
        account = imap.account_of(box, config)
    except imap.FetchError as exc:
        problem: str | None = str(exc)
    else:
        db.session.rollback()  # no transaction held while the server answers
        problem = imap.check(account, float(config.get("INBOUND_IMAP_TIMEOUT", 30)))
    if problem is None:
        flash(
            _(
                "Connection works: logged in as %(user)s and opened %(folder)s.",
                user=box.username,
                folder=box.folder,
            ),
            "success",
        )
    else:
        flash(_("Connection failed. %(error)s", error=error_words(problem)), "error")
    return redirect(url_for("staff.admin.mailbox", mailbox_id=box.id))
