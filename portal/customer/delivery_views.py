"""delivery_views: the customer reviews a delivery (criteria checklist, typed name and drawn
signature, pass or fail), rates the service, and prints or exports the forms; the request-page
panels of that (see portal/web/panels.py).

Everything here works as plain HTML forms (no JavaScript): success redirects back to the request
page; a refusal re-renders the page with the errors and what was typed (422). The drawn
signature is progressive enhancement; the typed name alone signs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from flask import (
    abort,
    current_app,
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
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from portal.customer import bp
from portal.db import db
from portal.domain import delivery as delivery_rules
from portal.domain import feedback as feedback_rules
from portal.domain import lifecycle
from portal.models import utcnow
from portal.presentation import presenters
from portal.services import delivery as delivery_service
from portal.services import feedback as feedback_service
from portal.services import lifecycle as lifecycle_service
from portal.services import listing
from portal.web import panels, printable
from portal.web.auth import actor
from portal.web.domain_errors import transition_message
from portal.web.forms import PortalForm


def _int_or_none(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


SCORE_CHOICES = [SelectChoice(str(n), str(n)) for n in feedback_rules.SCORES]


class AcceptanceForm(PortalForm):
    """服务交付验收单 as the customer signs it."""

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
        validators=[Optional(), Length(max=5000, message=_l("At most %(max)d characters."))],
    )
    rectification = TextAreaField(
        _l("Rectification asked for"),
        validators=[Optional(), Length(max=5000, message=_l("At most %(max)d characters."))],
    )
    typed_name = StringField(
        _l("Your name, typed (your signature)"),
        validators=[
            InputRequired(message=_l("Type your name to sign.")),
            Length(max=100, message=_l("At most %(max)d characters.")),
        ],
    )
    signature = HiddenField()
    content_hash = HiddenField()


class RateForm(PortalForm):
    """客户反馈表 as the customer fills it in."""

    score_response = RadioField(
        _l("Response timeliness"),
        choices=SCORE_CHOICES,
        coerce=_int_or_none,
        validators=[InputRequired(message=_l("Choose a score from 1 to 5."))],
    )
    score_effect = RadioField(
        _l("Handling effect"),
        choices=SCORE_CHOICES,
        coerce=_int_or_none,
        validators=[InputRequired(message=_l("Choose a score from 1 to 5."))],
    )
    score_attitude = RadioField(
        _l("Service attitude"),
        choices=SCORE_CHOICES,
        coerce=_int_or_none,
        validators=[InputRequired(message=_l("Choose a score from 1 to 5."))],
    )
    suggestions = TextAreaField(
        _l("Suggestions"),
        validators=[Optional(), Length(max=5000, message=_l("At most %(max)d characters."))],
    )


PROBLEMS = {
    ("result", "missing"): _l("Choose whether the delivery passes or fails."),
    ("criteria", "unmet-on-pass"): _l(
        "To pass, every criterion must be met: check them all, or choose fail and say what is "
        "missing."
    ),
    ("unmet_items", "missing"): _l(
        "Say what is not met: leave its criterion unchecked or describe it here."
    ),
    ("rectification", "missing"): _l("Say what you ask to be rectified."),
    ("typed_name", "missing"): _l("Type your name to sign."),
    ("signature", "format"): _l(
        "The drawn signature could not be read: clear it and draw again, or sign with your "
        "typed name alone."
    ),
    ("signature", "size"): _l("The drawn signature is too large: clear it and draw again."),
    ("response", "missing"): _l("Choose a score from 1 to 5."),
    ("response", "range"): _l("Choose a score from 1 to 5."),
    ("effect", "missing"): _l("Choose a score from 1 to 5."),
    ("effect", "range"): _l("Choose a score from 1 to 5."),
    ("attitude", "missing"): _l("Choose a score from 1 to 5."),
    ("attitude", "range"): _l("Choose a score from 1 to 5."),
}
FIELD_OF = {
    "criteria": "met",
    "unmet_items": "other_unmet",
    "response": "score_response",
    "effect": "score_effect",
    "attitude": "score_attitude",
}


def _apply_problems(form: FlaskForm, exc: delivery_service.InvalidInput) -> None:
    for key, code in exc.problems.items():
        message = str(PROBLEMS.get((key, code), _("Please check this field.")))
        fld = form._fields.get(FIELD_OF.get(key, key))
        if fld is None:
            form.form_errors.append(message)
        else:
            fld.errors = [*fld.errors, message] if isinstance(fld.errors, list) else [message]


# ---------------------------------------------------------------------------------------------
# The panels


@dataclass
class AcceptancePanels:
    sr: object
    actions: set[str]
    deliveries: list
    feedback: object | None
    full: bool  # the viewer may see the contact's name in full
    forms: dict = field(default_factory=dict)

    @property
    def pending(self):
        latest = self.deliveries[-1] if self.deliveries else None
        return latest if latest is not None and latest.pending else None

    @property
    def decided(self) -> list:
        return [v for v in reversed(self.deliveries) if not v.pending]

    def checked(self, criterion_id: int) -> bool:
        form = self.forms.get("accept")
        return bool(form and form.met.data and criterion_id in form.met.data)

    def signer_name(self, signature) -> str:
        if signature.party == delivery_rules.CUSTOMER:
            return presenters.person_name(signature.typed_name, full=self.full)
        # staff names are masked for customers, as everywhere on the customer side
        return presenters.person_name(signature.typed_name, full=False)


DELIVERY_TEXT = ("service_item", "demo_note", "unmet_items", "rectification")


def _for_colleague(view: delivery_service.DeliveryView) -> delivery_service.DeliveryView:
    """A delivery as a colleague of the contact reads it: its free text with personal data
    redacted (the integrity was computed on the original)."""
    return replace(
        view,
        delivery=presenters.redacted(view.delivery, DELIVERY_TEXT, False),
        items=[presenters.redacted(i, ("text",), False) for i in view.items],
        criteria=[presenters.redacted(c, ("text",), False) for c in view.criteria],
    )


def _feedback_for_colleague(fb: feedback_service.FeedbackView) -> feedback_service.FeedbackView:
    return replace(
        fb,
        feedback=presenters.redacted(fb.feedback, ("suggestions",), False),
        measures=[(presenters.redacted(m, ("measure",), False), o) for m, o in fb.measures],
    )


def _panels(session, sr, viewer, now) -> AcceptancePanels:
    actions = lifecycle_service.customer_actions(session, sr, viewer)
    deliveries = delivery_service.load(session, sr.id, customer=True)
    fb = feedback_service.load(session, sr.id) if sr.status in ("completed", "closed") else None
    if not lifecycle_service.customer_principal(sr, viewer):
        # colleagues of the contact ("colleagues may view") read the delivery history and the
        # feedback with their personal data redacted, as the rest of the page
        deliveries = [_for_colleague(v) for v in deliveries]
        fb = _feedback_for_colleague(fb) if fb is not None else None
    state = AcceptancePanels(
        sr=sr,
        actions=actions,
        deliveries=deliveries,
        feedback=fb,
        full=presenters.customer_access(sr, viewer).full_contact,
    )
    overrides = g.get("delivery_forms", {})
    if "accept_pass" in actions and state.pending is not None:
        form = overrides.get("accept") or AcceptanceForm(prefix="accept", formdata=None)
        form.content_hash.data = state.pending.integrity.current_hash
        state.forms["accept"] = form
    if "give_feedback" in actions:
        state.forms["rate"] = overrides.get("rate") or RateForm(prefix="rate", formdata=None)
    return state


@panels.provider("customer")
def _provide(session, sr, viewer, now) -> dict:
    return {"acc": _panels(session, sr, viewer, now)}


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
    except lifecycle.TransitionError as exc:
        # the panel is not on offer in this state: say why on the request page
        db.session.rollback()
        flash(transition_message(exc), "error")
        return redirect(url_for("customer.request_detail", number=sr.number))
    except delivery_service.ContentChanged:
        db.session.rollback()
        form.form_errors.append(
            _(
                "The delivery is no longer what you were shown (its content changed). Review it "
                "again before you sign."
            )
        )
        return _refused(sr, "accept", form)
    except delivery_service.InvalidInput as exc:
        db.session.rollback()
        _apply_problems(form, exc)
        return _refused(sr, "accept", form)
    if dlv.result == delivery_rules.PASS:
        flash(
            _("You accepted %(number)s. Please rate the service below.", number=dlv.number),
            "success",
        )
    else:
        flash(
            _(
                "You did not accept %(number)s; the handler will rework it as you asked.",
                number=dlv.number,
            ),
            "success",
        )
    return redirect(url_for("customer.request_detail", number=sr.number))


@bp.post("/requests/<number>/feedback")
def give_feedback(number: str):
    sr = _request_or_404(number)
    form = RateForm(prefix="rate")
    if not form.validate_on_submit():
        return _refused(sr, "rate", form)
    try:
        fb = feedback_service.give(
            db.session,
            actor(),
            current_user.account,
            sr,
            utcnow(),
            current_app.config["PORTAL_TIMEZONE"],
            scores={
                "response": form.score_response.data,
                "effect": form.score_effect.data,
                "attitude": form.score_attitude.data,
            },
            suggestions=form.suggestions.data or "",
        )
        db.session.commit()
    except lifecycle.TransitionError as exc:
        # the panel is not on offer in this state: say why on the request page
        db.session.rollback()
        flash(transition_message(exc), "error")
        return redirect(url_for("customer.request_detail", number=sr.number))
    except delivery_service.InvalidInput as exc:
        db.session.rollback()
        _apply_problems(form, exc)
        return _refused(sr, "rate", form)
    flash(_("Thank you for your feedback (%(number)s).", number=fb.number), "success")
    return redirect(url_for("customer.request_detail", number=sr.number))


# ---------------------------------------------------------------------------------------------
# Printable forms and XLSX


def _printable(number: str, form: str):
    sr = _request_or_404(number)
    return sr, printable.build(sr, form, current_user.account)


@bp.get("/requests/<number>/print/<any(sr,ir,sd,fb):form>")
def print_form(number: str, form: str):
    sr, doc = _printable(number, form)
    return printable.print_page("customer", sr, doc)


@bp.get("/requests/<number>/export/<any(sr,ir,sd,fb):form>.xlsx")
def export_form(number: str, form: str):
    sr, doc = _printable(number, form)
    return printable.xlsx_response(sr, form, doc)
