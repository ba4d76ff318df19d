"""The organisation admin's colleagues page ``/colleagues``: the contacts of their own
organisation, the invitation of a new colleague (name and e-mail), and deactivating or
reactivating a colleague. Only an organisation admin (客户方对接人) reaches it; they act on
their own organisation's contacts only, never on themselves: any other id answers 404.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.customer import bp
from portal.db import db
from portal.models import Account, utcnow
from portal.services import contacts as contact_service
from portal.web.auth import actor
from portal.web.forms import PortalForm, contact_email_field, contact_name_field
from portal.web.params import row_id


class ColleagueForm(PortalForm):
    name = contact_name_field()
    email = contact_email_field()


class ConfirmForm(PortalForm):
    """A button: the CSRF token alone."""


def _org_admin() -> Account:
    account = current_user.account
    if not account.is_org_admin or account.organisation_id is None:
        abort(403)
    return account


def _page(form: ColleagueForm | None = None, status: int = 200):
    me = _org_admin()
    return render_template(
        "customer/colleagues.html",
        colleagues=contact_service.colleagues(db.session, me),
        me=me,
        form=form or ColleagueForm(formdata=None),
    ), status


@bp.get("/colleagues", endpoint="colleagues")
def colleagues_page():
    return _page()


@bp.post("/colleagues", endpoint="colleague_invite")
def colleague_invite():
    me = _org_admin()
    form = ColleagueForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    details = contact_service.ContactDetails(
        name=form.name.data or "",
        email=form.email.data or "",
        organisation_id=me.organisation_id,
        locale=me.locale or contact_service.DEFAULT_LOCALE,
    )
    try:
        contact = contact_service.create(db.session, actor(), utcnow(), details, invite=True)
    except contact_service.ContactError as exc:
        db.session.rollback()
        field = getattr(form, exc.field, None)
        (field.errors if field is not None else form.form_errors).append(exc.message)
        return _page(form, 422)
    db.session.commit()
    flash(_("%(name)s is invited by e-mail.", name=contact.name), "success")
    return redirect(url_for("customer.colleagues"))


def _colleague_or_404() -> Account:
    me = _org_admin()
    contact_id = row_id(request.form.get("contact_id"))
    contact = contact_service.colleague_of(db.session, me, contact_id) if contact_id else None
    if contact is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return contact


@bp.post("/colleagues/deactivate", endpoint="colleague_deactivate")
def colleague_deactivate():
    contact = _colleague_or_404()
    if contact_service.deactivate(db.session, actor(), utcnow(), contact):
        db.session.commit()
        flash(_("%(name)s is deactivated and logged out.", name=contact.name), "success")
    return redirect(url_for("customer.colleagues"))


@bp.post("/colleagues/reactivate", endpoint="colleague_reactivate")
def colleague_reactivate():
    contact = _colleague_or_404()
    if contact_service.reactivate(db.session, actor(), utcnow(), contact):
        db.session.commit()
        flash(_("%(name)s is active again.", name=contact.name), "success")
    return redirect(url_for("customer.colleagues"))
