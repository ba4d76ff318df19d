"""workflow_views: the staff request page's workflow panels (see portal/web/panels.py) and how a
panel's post runs. The routes: dispatch_views.py (classify, assign, confirm, collaborators) and
work_views.py (steps, handling record, asking the customer, messages).

Every POST first passes portal/web/request_actions.py (404 unknown request; 403 for a viewer who
may never take the panel's lifecycle actions, before the form is read; a wrong state is the
panel's message, 422). Then each action is a panel (``<section id="panel-…">``) whose form posts
with htmx:
- invalid input or a refused transition: the panel alone comes back (422) with the errors
  inline and what was typed kept;
- success: the request page is rendered again and htmx swaps its article in place (status,
  history, timeline and handling record all change), the panel showing what was done.
Without JavaScript the same forms post normally: success redirects back to the page (PRG),
an error renders the page with the panel's errors (422).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask import (
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.db import db
from portal.domain import classification as rules
from portal.domain import lifecycle
from portal.models import Account, ServiceRequest, utcnow
from portal.services import workflow, workflow_panels
from portal.services.attachments import AttachmentRefused
from portal.services.workflow_panels import StaffPanels
from portal.staff import forms_workflow as forms
from portal.web import panels
from portal.web.domain_errors import transition_message
from portal.web.forms import set_category_choices
from portal.web.rendering import wants_fragment
from portal.web.request_actions import Authorized, authorize, load_request

PANELS = ("classify", "assign", "confirm", "collaborator", "step", "record", "ask", "composer")


def locale() -> str:
    return str(get_locale() or "en")


def desk_timezone() -> str:
    return current_app.config["PORTAL_TIMEZONE"]


def suggestion_of(form: forms.ClassifyForm) -> str | None:
    try:
        return rules.suggest_priority(
            form.impact_scope.data, form.urgency.data, form.business_importance.data
        ).value
    except ValueError:
        return None


def set_collaborator_choices(
    form: forms.CollaboratorForm,
    people: list[tuple[int, str]],
    departments: list[tuple[str, str]],
) -> None:
    form.person_id.choices = people
    form.department_id.choices = [("", _("The collaborator's own department")), *departments]


def build(session, sr: ServiceRequest, viewer: Account, now: datetime) -> StaffPanels:
    """The panels this viewer may use on this request now (portal.services.workflow_panels),
    each with its form: the one just posted (``g.wf_forms``) or a fresh one."""
    bound: dict = g.get("wf_forms", {})
    wf = workflow_panels.staff_panels(session, sr, viewer, locale(), bound=bound.keys())
    wf.errors = g.get("wf_errors", {})
    wf.notices = g.get("wf_notices", {})
    if wf.classify_action:
        wf.forms["classify"] = bound.get("classify") or forms.ClassifyForm(
            formdata=None,
            prefix="classify",
            action=wf.classify_action,
            expected_completion=forms.to_local(sr.expected_completion_at),
            **wf.classify_defaults,
        )
        set_category_choices(
            wf.forms["classify"].category, session, locale(), keep=(sr.type, sr.category)
        )
        wf.suggestion = suggestion_of(wf.forms["classify"])
    if wf.assign_action:
        wf.forms["assign"] = bound.get("assign") or forms.AssignForm(
            formdata=None, prefix="assign", action=wf.assign_action
        )
    if wf.assignment is not None:
        wf.forms["confirm"] = bound.get("confirm") or forms.ConfirmForm(
            formdata=None,
            prefix="confirm",
            can_start_at=forms.to_local(wf.assignment.can_start_at or now),
        )
    if "add_collaborator" in wf.actions:
        form = bound.get("collaborator") or forms.CollaboratorForm(formdata=None, prefix="collab")
        set_collaborator_choices(form, wf.staff_choices, wf.department_choices)
        wf.forms["collaborator"] = form
    if "log_step" in wf.actions:
        wf.forms["step"] = bound.get("step") or forms.StepForm(
            formdata=None, prefix="step", occurred_at=forms.to_local(now), hours=Decimal("0.5")
        )
    if "update_record" in wf.actions:
        rec = wf.record
        wf.forms["record"] = bound.get("record") or forms.RecordForm(
            formdata=None,
            prefix="record",
            problems=rec.problems if rec else "",
            workaround=rec.workaround if rec else "",
            final_result=rec.final_result if rec else "",
        )
    if "ask_customer" in wf.actions:
        wf.forms["ask"] = bound.get("ask") or forms.AskForm(formdata=None, prefix="ask")
    if wf.composer_kind:
        wf.forms["composer"] = bound.get("composer") or forms.MessageForm(
            formdata=None, prefix="msg", kind=wf.composer_kind
        )
    return wf


@panels.provider("staff")
def workflow_panels_provider(session, sr, viewer, now) -> dict:
    return {"wf": build(session, sr, viewer, now)}


# ---------------------------------------------------------------------------------------------
# Running an action


# each panel's lifecycle actions: who may ever take one of them may post the panel
PANEL_ACTIONS: dict[str, tuple[str, ...]] = {
    "classify": ("classify", "reclassify"),
    "assign": ("assign", "reassign"),
    "confirm": ("confirm_assignment",),
    "collaborator": ("add_collaborator",),
    "step": ("log_step",),
    "record": ("update_record",),
    "ask": ("ask_customer",),
    "composer": ("reply_public", "note_internal"),
}


def authorize_panel(number: str, panel: str) -> Authorized:
    """404 for an unknown request, 403 for a viewer who may never use this panel on it."""
    return authorize(number, *PANEL_ACTIONS[panel])


def _page(number: str):
    from portal.staff.views import request_detail

    return request_detail(number)


def act(auth: Authorized, panel: str, form: FlaskForm, run):
    """The viewer may use this panel (``authorize_panel``): check the state, validate, run the
    service, commit; answer as the module docstring says."""
    sr = auth.sr
    number = sr.number
    refusal = auth.state_refusal()
    if refusal is not None:
        # not now (the state): the clear message, whatever was typed
        response = _refused(number, panel, refusal)
        if response is not None:
            return response
    elif form.validate_on_submit():
        try:
            notice = run(sr, form)
        except lifecycle.TransitionError as exc:
            db.session.rollback()
            response = _refused(number, panel, exc)
            if response is not None:
                return response
        except workflow.FieldError as exc:
            db.session.rollback()
            target = getattr(form, exc.field, None)
            if target is not None:
                target.errors = [*target.errors, exc.message]
            else:
                g.wf_errors = {panel: exc.message}
        except AttachmentRefused as exc:
            db.session.rollback()
            form.attachments.errors = [*form.attachments.errors, exc.message]
        else:
            db.session.commit()
            return _done(number, panel, notice)
    g.wf_forms = {panel: form}
    if wants_fragment():
        sr = load_request(number)
        wf = build(db.session, sr, current_user.account, utcnow())
        if not wf.shows(panel):
            # the panel is not this viewer's (any more): say why where it was
            html = render_template("staff/_wf_refused.html", sr=sr, wf=wf, name=panel)
        else:
            html = render_template(f"staff/_wf_{panel}.html", sr=sr, wf=wf)
        return html, 422
    return _page(number), 422


def _refused(number: str, panel: str, exc: lifecycle.TransitionError):
    """A refused transition: back to the page with the message (no JS), or None after putting
    the message on the panel (htmx; the caller answers 422)."""
    if not wants_fragment():
        flash(transition_message(exc), "error")
        return redirect(url_for("staff.request_detail", number=number))
    g.wf_errors = {panel: transition_message(exc)}
    return None


def _done(number: str, panel: str, notice: str):
    if not wants_fragment():
        flash(notice, "success")
        return redirect(url_for("staff.request_detail", number=number))
    g.wf_notices = {panel: notice}
    response = make_response(_page(number))
    # the whole request changed (status, history, timeline): swap the page's article in place
    response.headers["HX-Retarget"] = "article.request-page"
    response.headers["HX-Reselect"] = "article.request-page"
    response.headers["HX-Reswap"] = "outerHTML"
    return response
