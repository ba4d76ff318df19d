"""The mail triage pages (docs/product.md §9): the list at /staff/mail (waiting, could not
read, handled), one mail at /staff/mail/<id> with its decisions, and the nav's badge. For the
roles that register requests (portal/staff/register_views.py). The pages' data is built by
portal/services/inbound/mail_lists.py; the decisions go through portal/services/inbound/triage.py
(audited there)."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from portal.db import db
from portal.models import utcnow
from portal.presentation import presenters
from portal.services import contacts
from portal.services import requests as sr_service
from portal.services.inbound import mail_lists, triage
from portal.staff import bp
from portal.staff.forms_mail import DiscardMailForm, MailNewContactForm, MailToContactForm
from portal.staff.register_views import may_register
from portal.web.auth import actor
from portal.web.rendering import page_or_fragment


def _guard() -> None:
    if not may_register(current_user.account):
        abort(403)


@bp.route("/mail")
def mail_list():
    _guard()
    page = mail_lists.mail_page(
        db.session,
        mail_lists.parse_tab(request.args.get("tab")),
        mail_lists.parse_cursor(request.args.get("before")),
    )
    html = page_or_fragment("staff/mail/list.html", "staff/mail/_list_body.html", mails=page)
    response = make_response(html)
    response.vary.add("HX-Request")
    return response


@bp.route("/mail/badge")
def mail_badge():
    _guard()
    return render_template("staff/mail/_badge.html", waiting=mail_lists.waiting_count(db.session))


def _contact_results(q: str, chosen_id: int | None = None) -> list[dict]:
    """The contacts the search found, grouped by organisation; names, phones and e-mails masked
    (the agent is on none of their requests)."""
    if chosen_id is not None:
        match = sr_service.registrable_contact(db.session, chosen_id)
        matches = [match] if match else []
    else:
        matches = sr_service.find_contacts(db.session, q)
    groups: dict[str, list[dict]] = {}
    for m in matches:
        view = presenters.contact_view(m.name, m.phone, m.email, full=False)
        groups.setdefault(m.organisation, []).append({"id": m.id, "contact": view})
    return [{"organisation": org, "contacts": people} for org, people in groups.items()]


def _detail(
    mail_id: int, *, to_contact=None, new_contact=None, chosen_id=None, problem=None, status=200
):
    detail = mail_lists.mail_detail(db.session, mail_id)
    if detail is None:
        abort(404)
    q = " ".join(request.args.get("q", "").split())[:100]
    new_contact = new_contact or MailNewContactForm(formdata=None)
    new_contact.set_organisations(mail_lists.organisation_choices(db.session))
    groups = _contact_results(q, chosen_id) if detail.may_become_request else []
    found = sum(len(g["contacts"]) for g in groups)
    context = dict(
        mail=detail,
        q=q,
        searched=bool(q) or chosen_id is not None,
        groups=groups,
        limit_reached=found >= sr_service.CONTACT_SEARCH_LIMIT,
        found=found,
        chosen_id=chosen_id,
        to_contact=to_contact or MailToContactForm(formdata=None),
        new_contact=new_contact,
        problem=problem,
    )
    html = page_or_fragment("staff/mail/detail.html", "staff/mail/_contacts.html", **context)
    response = make_response(html, status)
    response.vary.add("HX-Request")
    return response


@bp.route("/mail/<int:mail_id>")
def mail_detail(mail_id: int):
    _guard()
    return _detail(mail_id)


def _made(sr_number: str) -> None:
    # Markup.format and Markup's % escape their arguments (the link is Markup already)
    link = Markup('<a href="{}">{}</a>').format(
        url_for("staff.request_detail", number=sr_number), sr_number
    )
    flash(escape(_("The mail is now request %(number)s.")) % {"number": link}, "success")


def _refused(exc):
    """The lazy message of a refused decision; nothing of it is kept."""
    db.session.rollback()
    return exc.message


@bp.route("/mail/<int:mail_id>/request", methods=["POST"])
def mail_request(mail_id: int):
    _guard()
    form = MailToContactForm()
    row = mail_lists.get_mail(db.session, mail_id, lock=True)
    if row is None:
        abort(404)
    chosen = form.contact.data if isinstance(form.contact.data, int) else None
    problem = None
    if form.validate_on_submit():
        try:
            triage.triage_to_request(db.session, row, chosen, actor(), utcnow())
        except triage.TriageError as exc:
            problem = _refused(exc)
            form.contact.errors = [*form.contact.errors, problem]
        else:
            number = mail_lists.request_number(db.session, row.request_id)
            db.session.commit()
            _made(number)
            return redirect(url_for("staff.mail_list", tab="handled"))
    db.session.rollback()
    return _detail(mail_id, to_contact=form, chosen_id=chosen, problem=problem, status=422)


@bp.route("/mail/<int:mail_id>/new-contact", methods=["POST"])
def mail_new_contact(mail_id: int):
    _guard()
    form = MailNewContactForm()
    form.set_organisations(mail_lists.organisation_choices(db.session))
    problem = None
    row = mail_lists.get_mail(db.session, mail_id, lock=True)
    if row is None:
        abort(404)
    if form.validate_on_submit():
        try:
            triage.triage_to_request(
                db.session, row, None, actor(), utcnow(), new_contact=form.details()
            )
        except contacts.ContactError as exc:
            target = getattr(form, exc.field, None)
            message = _refused(exc)
            (target.errors if target is not None else form.form_errors).append(message)
        except triage.TriageError as exc:
            problem = _refused(exc)
            form.form_errors.append(problem)
        else:
            number = mail_lists.request_number(db.session, row.request_id)
            db.session.commit()
            _made(number)
            return redirect(url_for("staff.mail_list", tab="handled"))
    db.session.rollback()
    return _detail(mail_id, new_contact=form, problem=problem, status=422)


@bp.route("/mail/<int:mail_id>/discard", methods=["POST"])
def mail_discard(mail_id: int):
    _guard()
    form = DiscardMailForm()
    row = mail_lists.get_mail(db.session, mail_id, lock=True)
    if row is None:
        abort(404)
    if form.validate_on_submit():
        try:
            triage.discard(db.session, row, actor(), utcnow())
        except triage.TriageError as exc:
            return _detail(mail_id, problem=_refused(exc), status=422)
        db.session.commit()
        flash(_("The mail was discarded."), "success")
        return redirect(url_for("staff.mail_list"))
    db.session.rollback()
    return _detail(mail_id, status=422)
