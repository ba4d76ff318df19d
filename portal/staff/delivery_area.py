"""The delivery area of the staff request page (staff/_delivery_panels.html): its panels' data
from portal.services.delivery_page with this side's forms attached, and the one way its
actions answer.

Each action is a panel (staff/_dl_*.html) that posts with htmx: a validation error re-renders
that panel in place (422) with what was typed; success re-renders the whole delivery area. A
plain POST (no JavaScript) redirects back to the request page, or re-renders it with the errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from flask import current_app, flash, g, make_response, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.db import db
from portal.domain import lifecycle
from portal.models import ServiceRequest
from portal.services import delivery as delivery_service
from portal.services import delivery_page
from portal.staff.forms_delivery import (
    DeliverForm,
    MeasureForm,
    RecordFeedbackForm,
    SignForm,
    owner_choices,
)
from portal.web import panels
from portal.web.delivery_forms import apply_problems
from portal.web.domain_errors import transition_message
from portal.web.rendering import wants_fragment
from portal.web.request_actions import Authorized


def desk_today(now) -> date:
    return now.astimezone(ZoneInfo(current_app.config["PORTAL_TIMEZONE"])).date()


def panels_for(session, sr: ServiceRequest, viewer) -> delivery_page.DeliveryPanels:
    """The area's data with a form for each action on offer; a refused submission (in
    ``g.delivery_forms``) is shown again as it was typed, even when its action is no longer on
    offer (its message says why)."""
    submitted = g.get("delivery_forms", {})
    dl = delivery_page.staff_panels(
        session, sr, viewer, with_owners=any(hasattr(f, "owner") for f in submitted.values())
    )
    forms = dl.forms
    if "deliver" in dl.actions:
        forms["deliver"] = _deliver_form(dl)
    if dl.can_countersign:
        forms["countersign"] = SignForm(prefix="countersign", formdata=None)
    if "record_feedback" in dl.actions:
        forms["record_feedback"] = RecordFeedbackForm(prefix="feedback", formdata=None)
    if dl.can_add_measure:
        forms["measure"] = MeasureForm(prefix="measure", formdata=None)
    forms.update(submitted)
    choices = owner_choices(dl.owners)
    for form in forms.values():
        if hasattr(form, "owner"):
            form.owner.choices = choices
    dl.notice = g.get("delivery_notice")
    return dl


def _deliver_form(dl: delivery_page.DeliveryPanels) -> DeliverForm:
    form = DeliverForm(prefix="deliver", formdata=None)
    # a redelivery starts from the previous delivery's content
    previous = dl.latest
    if previous is not None:
        form.service_item.data = previous.delivery.service_item
        form.items.data = "\n".join(i.text for i in previous.items)
        form.criteria.data = "\n".join(c.text for c in previous.criteria)
    elif dl.plan_criteria:  # a service plan's request: its service item and checklist
        form.service_item.data = dl.plan_service_item or dl.sr.title
        form.criteria.data = "\n".join(dl.plan_criteria)
    else:
        form.service_item.data = dl.sr.title
    return form


@panels.provider("staff")
def _provide(session, sr, viewer, now) -> dict:
    return {"dl": panels_for(session, sr, viewer)}


@dataclass
class Panel:
    """One action's panel: the request, the form (its key in the area's ``forms``) and the
    panel's template."""

    sr: ServiceRequest
    key: str
    form: FlaskForm
    template: str

    def not_ready(self, auth: Authorized | None = None):
        """The answer when the action cannot go ahead: the viewer may take it, but not in the
        request's state (said in the panel before the form is validated), or the form does not
        validate; None when it may go ahead."""
        refusal = auth.state_refusal() if auth is not None else None
        if refusal is not None:
            return self.refused(transition_message(refusal))
        if not self.form.validate_on_submit():
            return self.invalid()
        return None

    def invalid(self):
        """The panel again with the errors (htmx), or the whole page (no JS); 422."""
        g.delivery_forms = {self.key: self.form}
        if wants_fragment():
            dl = panels_for(db.session, self.sr, current_user.account)
            return make_response(render_template(self.template, sr=self.sr, dl=dl), 422)
        from portal.staff.views import request_detail

        return make_response(request_detail(self.sr.number), 422)

    def refused(self, message: str):
        self.form.form_errors.append(message)
        return self.invalid()

    def failed(self, exc: Exception, message: str | None = None):
        """The service refused: rolled back. Its problems go on the fields; a refused transition
        says why; anything else says ``message``."""
        db.session.rollback()
        if isinstance(exc, delivery_service.InvalidInput):
            apply_problems(self.form, exc)
            return self.invalid()
        if isinstance(exc, lifecycle.TransitionError):
            message = transition_message(exc)
        return self.refused(message or str(exc))

    def done(self, message: str):
        """Success: the delivery area again (htmx), or back to the request page (no JS)."""
        if wants_fragment():
            g.delivery_notice = message
            dl = panels_for(db.session, self.sr, current_user.account)
            response = make_response(
                render_template("staff/_delivery_panels.html", sr=self.sr, dl=dl)
            )
            response.headers["HX-Retarget"] = "#delivery-panels"
            response.headers["HX-Reswap"] = "outerHTML"
            response.headers["HX-Trigger"] = "portal:request-changed"
            return response
        flash(message, "success")
        return redirect(url_for("staff.request_detail", number=self.sr.number))
