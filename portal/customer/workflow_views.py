"""workflow_views: routes and request-page panels of the customer side (see portal/web/panels.py).

The customer's actions work without JavaScript: plain forms that post and redirect back to the
request page (PRG); an error renders the page again with the form's errors and what was typed
(422). With JavaScript, hx-boost on the page makes the same forms swap the page in place.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.customer import bp
from portal.customer import forms_workflow as forms
from portal.db import db
from portal.domain import lifecycle
from portal.models import ServiceRequest, utcnow
from portal.services import lifecycle as lifecycle_service
from portal.services import listing, workflow, workflow_panels
from portal.services.attachments import MAX_FILES, AttachmentRefused
from portal.web import panels
from portal.web.auth import actor
from portal.web.domain_errors import transition_message
from portal.web.uploads import PostedFiles


@panels.provider("customer")
def workflow_actions(session, sr, viewer, now) -> dict:
    """What the customer may do on this request now and what the desk asked and did
    (portal.services.workflow_panels), with the forms of the actions offered."""
    wfc = workflow_panels.customer_work(session, sr, viewer)
    bound: dict = g.get("wf_forms", {})
    if "reply_public" in wfc.actions:
        wfc.forms["reply"] = bound.get("reply") or forms.ReplyForm(formdata=None, prefix="reply")
    if "answer_customer" in wfc.actions:
        wfc.forms["answer"] = bound.get("answer") or forms.AnswerForm(
            formdata=None, prefix="answer"
        )
    return {"wfc": wfc}


# ---------------------------------------------------------------------------------------------


def _load(number: str) -> ServiceRequest:
    found = listing.customer_request(db.session, current_user.account, number)
    if found is None:
        abort(404)
    return found[0]


def _back(number: str, anchor: str = ""):
    return redirect(url_for("customer.request_detail", number=number) + anchor)


def _page_again(number: str, name: str, form: FlaskForm):
    from portal.customer.views import request_detail

    g.wf_forms = {name: form}
    return request_detail(number), 422


def _act(number: str, name: str, form: FlaskForm, run, anchor: str):
    sr = _load(number)
    if form.validate_on_submit():
        try:
            notice = run(sr, form)
        except lifecycle.TransitionError as exc:
            db.session.rollback()
            if exc.code == "not-allowed":
                abort(403)  # a colleague the organisation does not let reply
            flash(transition_message(exc), "error")
            return _back(number)
        except workflow.FieldError as exc:
            db.session.rollback()
            target = getattr(form, exc.field, None)
            if target is None:
                flash(exc.message, "error")
                return _back(number)
            target.errors = [*target.errors, exc.message]
        except AttachmentRefused as exc:
            db.session.rollback()
            form.attachments.errors = [*form.attachments.errors, exc.message]
        else:
            db.session.commit()
            flash(notice, "success")
            return _back(number, anchor)
    return _page_again(number, name, form)


@bp.post("/requests/<number>/reply")
def wf_reply(number: str):
    form = forms.ReplyForm(prefix="reply")

    def run(sr, form):
        files.check(_("At most %(n)d files per message.", n=MAX_FILES))
        now = utcnow()
        who = actor()
        message = workflow.post_message(
            db.session, who, current_user.account, sr, form.body.data, now
        )
        files.save(db.session, who, now, request_id=sr.id, message_id=message.id)
        return _("Your message has been sent to the service desk.")

    with PostedFiles(form.files()) as files:
        return _act(number, "reply", form, run, "#timeline-h")


@bp.post("/requests/<number>/answer")
def wf_answer(number: str):
    form = forms.AnswerForm(prefix="answer")

    def run(sr, form):
        workflow.answer_customer(
            db.session, actor(), current_user.account, sr, form.answer.data, utcnow()
        )
        return _("Thank you: your answer has been sent and the work continues.")

    return _act(number, "answer", form, run, "")


@bp.route("/requests/<number>/cancel", methods=["GET", "POST"])
def wf_cancel(number: str):
    """A confirmation step before a request is cancelled (it cannot be undone)."""
    sr = _load(number)
    viewer = current_user.account
    if not lifecycle_service.customer_principal(sr, viewer):
        # a colleague of the contact may not cancel it
        flash(_("You may not do that on this request."), "error")
        return _back(number)
    caps = lifecycle_service.capacities(db.session, sr, viewer)
    if "cancel" not in lifecycle.allowed_actions(sr.status, caps):
        flash(
            _("This request can no longer be cancelled: work on it has started.")
            if sr.status not in ("cancelled",)
            else _("This request is already cancelled."),
            "error",
        )
        return _back(number)
    form = forms.CancelForm(prefix="cancel")
    if form.validate_on_submit():
        try:
            workflow.cancel(
                db.session, actor(), current_user.account, sr, form.reason.data or "", utcnow()
            )
        except lifecycle.TransitionError as exc:
            db.session.rollback()
            flash(transition_message(exc), "error")
            return _back(number)
        db.session.commit()
        flash(_("Request %(number)s has been cancelled.", number=number), "success")
        return _back(number)
    status = 422 if form.errors else 200
    return render_template("customer/wf_cancel.html", sr=sr, form=form), status
