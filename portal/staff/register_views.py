"""Register (docs/product.md §2 step 1): the agent's intake for calls, e-mails and visits — the
template's step 1 on a customer's behalf, with an optional initial classification by a
supervisor (step 2)."""

from __future__ import annotations

from flask import abort, current_app, flash, make_response, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from portal.db import db
from portal.domain.vocabulary import Channel, Role
from portal.limits import limiter, person_or_address, rate
from portal.models import Account
from portal.presentation import presenters
from portal.presentation.formatting import format_size
from portal.services import requests as sr_service
from portal.services import workflow
from portal.services.attachments import MAX_FILES
from portal.staff import bp
from portal.staff.forms import RegisterClassifyForm, RegisterForm
from portal.web import intake
from portal.web.auth import actor
from portal.web.forms import set_category_choices
from portal.web.rendering import page_or_fragment

# docs/product.md §1: the agent (客服专员) registers requests; supervisors and admins stand in
REGISTER_ROLES = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)


def may_register(account) -> bool:
    return account.has_role(*REGISTER_ROLES)


def _results(matches: list[sr_service.ContactMatch]) -> list[dict]:
    # the agent is on none of these people's requests: name, phone and e-mail masked
    return [{"id": m.id, "organisation": m.organisation, "contact": _masked(m)} for m in matches]


def _masked(match: sr_service.ContactMatch) -> presenters.ContactView:
    return presenters.contact_view(match.name, match.phone, match.email, full=False)


def _classify_form() -> RegisterClassifyForm | None:
    """The initial classification, offered to supervisors only (the lifecycle lets no one
    else classify). The main form has checked the CSRF token."""
    if not current_user.account.has_role(Role.SUPERVISOR):
        return None
    return RegisterClassifyForm(prefix="classify", meta={"csrf": False})


@bp.route("/requests/new", methods=["GET", "POST"])
@limiter.limit(rate("submission"), key_func=person_or_address, methods=["POST"])
def register():
    if not may_register(current_user.account):
        abort(403)
    form = RegisterForm()
    set_category_choices(form.category, db.session, str(get_locale() or "zh_CN"))
    classify = _classify_form()
    q = " ".join(request.args.get("q", "").split())[:100]
    chosen = None
    if request.method == "POST":
        chosen = sr_service.registrable_contact(db.session, form.contact.data)
        valid = form.validate_on_submit()
        if form.contact.data is not None and chosen is None:
            valid = False
            form.contact.errors = [
                *form.contact.errors,
                _("That contact cannot be chosen: search again."),
            ]
        wants_classify = classify is not None and form.classify_now.data
        if wants_classify and not classify.validate():
            valid = False
        if valid:
            sr = intake.register(
                form,
                db.session.get(Account, chosen.id),
                Channel(form.channel.data),
                then=_classification(form, classify) if wants_classify else None,
            )
            if sr is not None:
                flash(_("Request %(number)s has been registered.", number=sr.number), "success")
                return redirect(url_for("staff.request_detail", number=sr.number))
        matches = [chosen] if chosen is not None else []
    else:
        matches = sr_service.find_contacts(db.session, q)
    context = dict(
        form=form,
        classify=classify,
        q=q,
        searched=bool(q),
        results=_results(matches),
        chosen_id=chosen.id if chosen is not None else None,
        limit_reached=len(matches) >= sr_service.CONTACT_SEARCH_LIMIT,
        limit=format_size(current_app.config["UPLOAD_MAX_BYTES"]),
        max_files=MAX_FILES,
        files_dropped=request.method == "POST" and bool(form.files()),
    )
    html = page_or_fragment("staff/register.html", "staff/_register_contacts.html", **context)
    response = make_response(html, 422 if request.method == "POST" else 200)
    response.vary.add("HX-Request")
    return response


def _classification(form: RegisterForm, classify: RegisterClassifyForm):
    def run(sr, now) -> None:
        data = workflow.ClassificationInput(
            type=form.type.data,
            category=form.category.data,
            impact_scope=classify.impact_scope.data,
            urgency=classify.urgency.data,
            business_importance=classify.business_importance.data,
            confirmed_details=classify.confirmed_details.data,
            priority=classify.priority.data or None,
        )
        workflow.classify(
            db.session, actor(), current_user.account, sr, data, now, action="classify"
        )

    return run
