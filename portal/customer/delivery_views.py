"""delivery_views: the customer reviews a delivery (criteria checklist, typed name and drawn
signature, pass or fail), rates the service, and prints or exports the forms; the request-page
panels of that (see portal/web/panels.py), built by portal.services.delivery_page.

Everything here works as plain HTML forms (no JavaScript): success redirects back to the request
page; a refusal re-renders the page with the errors and what was typed (422). The drawn
signature is progressive enhancement; the typed name alone signs.
"""

from __future__ import annotations

from flask import (
    abort,
    flash,
    g,
    make_response,
    redirect,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import HiddenField, RadioField, SelectMultipleField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from portal.customer import bp
from portal.db import db
from portal.domain import delivery as delivery_rules
from portal.domain import lifecycle
from portal.models import utcnow
from portal.services import delivery as delivery_service
from portal.services import delivery_page, listing
from portal.web import panels, printable
from portal.web.auth import actor
from portal.web.delivery_forms import (
    FeedbackForm,
    apply_problems,
    submit_feedback,
    typed_name_field,
)
from portal.web.domain_errors import transition_message
from portal.web.forms import TOO_LONG, PortalForm


class AcceptanceForm(PortalForm):
    """服务交付验收单 as the customer signs it."""

    problem_fields = {"criteria": "met", "unmet_items": "other_unmet"}

    met = SelectMultipleField(_l("Acceptance criteria"), coerce=int, validate_choice=False)
    result = RadioField(
        _l("Your decision"),
        choices=[
            SelectChoice(delivery_rules.PASS, _l("Pass: the delivery meets the criteria")),
            SelectChoice(delivery_rules.FAIL, _l("Fail: something is not met")),
        ],
        validators=[InputRequired(message=_l("Choose whether the delivery passes or fails."))],
    )
    other_unmet = TextAreaField(
        _l("Unmet items"),
        description=_l("Unchecked criteria are listed for you; add anything else that is missing."),
        validators=[Optional(), Length(max=5000, message=TOO_LONG)],
    )
    rectification = TextAreaField(
        _l("Rectification asked for"),
        validators=[Optional(), Length(max=5000, message=TOO_LONG)],
    )
    typed_name = typed_name_field(_l("Your name, typed (your signature)"))
    signature = HiddenField()
    content_hash = HiddenField()


class RateForm(FeedbackForm):
    """客户反馈表 as the customer fills it in: the scores and suggestions."""


# ---------------------------------------------------------------------------------------------
# The panels


@panels.provider("customer")
def _provide(session, sr, viewer, now) -> dict:
    acc = delivery_page.customer_panels(session, sr, viewer)
    # a refused submission comes back as it was typed
    submitted = g.get("delivery_forms", {})
    if "accept_pass" in acc.actions and acc.pending is not None:
        form = submitted.get("accept") or AcceptanceForm(prefix="accept", formdata=None)
        form.content_hash.data = acc.pending.integrity.current_hash
        acc.forms["accept"] = form
    if "give_feedback" in acc.actions:
        acc.forms["rate"] = submitted.get("rate") or RateForm(prefix="rate", formdata=None)
    return {"acc": acc}


# ---------------------------------------------------------------------------------------------
# Actions


def _request_or_404(number: str):
    found = listing.customer_request(db.session, current_user.account, number)
    if found is None:
        abort(404)
    return found[0]


def _refused(sr, key: str, form):
    """The request page again, with this form's errors and what was typed (422)."""
    g.delivery_forms = {key: form}
    from portal.customer.views import request_detail

    return make_response(request_detail(sr.number), 422)


def _failed(sr, key: str, form, exc: Exception, message: str | None = None):
    """The service refused: nothing is saved. A panel not on offer in this state says why on
    the request page; otherwise the page again with the problems on the fields (or
    ``message`` on the form)."""
    db.session.rollback()
    if isinstance(exc, lifecycle.TransitionError):
        flash(transition_message(exc), "error")
        return redirect(url_for("customer.request_detail", number=sr.number))
    if isinstance(exc, delivery_service.InvalidInput):
        apply_problems(form, exc)
    else:
        form.form_errors.append(message)
    return _refused(sr, key, form)


@bp.post("/requests/<number>/acceptance")
def accept_delivery(number: str):
    sr = _request_or_404(number)
    form = AcceptanceForm(prefix="accept")
    if not form.validate_on_submit():
        return _refused(sr, "accept", form)
    try:
        dlv = delivery_service.accept(
            db.session,
            actor(),
            current_user.account,
            sr,
            utcnow(),
            result=form.result.data,
            met_ids=set(form.met.data or []),
            other_unmet=form.other_unmet.data or "",
            rectification=form.rectification.data or "",
            typed_name=form.typed_name.data,
            image=form.signature.data,
            shown_hash=form.content_hash.data or None,
            ip=request.remote_addr,
            user_agent=request.headers.get("User-Agent"),
        )
        db.session.commit()
    except (lifecycle.TransitionError, delivery_service.InvalidInput) as exc:
        return _failed(sr, "accept", form, exc)
    except delivery_service.ContentChanged as exc:
        return _failed(
            sr,
            "accept",
            form,
            exc,
            _(
                "The delivery is no longer what you were shown (its content changed). Review it "
                "again before you sign."
            ),
        )
    if dlv.result == delivery_rules.PASS:
        message = _("You accepted %(number)s. Please rate the service below.", number=dlv.number)
    else:
        message = _(
            "You did not accept %(number)s; the handler will rework it as you asked.",
            number=dlv.number,
        )
    flash(message, "success")
    return redirect(url_for("customer.request_detail", number=sr.number))


@bp.post("/requests/<number>/feedback")
def give_feedback(number: str):
    sr = _request_or_404(number)
    form = RateForm(prefix="rate")
    if not form.validate_on_submit():
        return _refused(sr, "rate", form)
    try:
        fb = submit_feedback(sr, form, utcnow())
        db.session.commit()
    except (lifecycle.TransitionError, delivery_service.InvalidInput) as exc:
        return _failed(sr, "rate", form, exc)
    flash(_("Thank you for your feedback (%(number)s).", number=fb.number), "success")
    return redirect(url_for("customer.request_detail", number=sr.number))


# ---------------------------------------------------------------------------------------------
# Printable forms and XLSX

printable.register(bp, "customer", _request_or_404)
