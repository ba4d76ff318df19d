"""dispatch_views: the staff routes that put a request in someone's hands — classify (with the
priority suggestion), assign, the handler's confirmation, collaborators. Each is a workflow
panel (see workflow_views.py for how a panel's post runs)."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from portal.db import db
from portal.models import Account, utcnow
from portal.presentation.labels import PRIORITY_LABELS, TYPE_LABELS
from portal.services import workflow, workflow_panels
from portal.staff import bp
from portal.staff import forms_workflow as forms
from portal.staff.workflow_views import (
    act,
    authorize_panel,
    desk_timezone,
    locale,
    set_collaborator_choices,
    suggestion_of,
)
from portal.web.auth import actor


@bp.post("/requests/<number>/classify")
def wf_classify(number: str):
    auth = authorize_panel(number, "classify")
    form = forms.ClassifyForm(prefix="classify")

    def run(sr, form):
        data = workflow.ClassificationInput(
            type=form.type.data,
            category=form.category.data,
            impact_scope=form.impact_scope.data,
            urgency=form.urgency.data,
            business_importance=form.business_importance.data,
            confirmed_details=form.confirmed_details.data,
            priority=form.priority.data or None,
            expected_completion_at=forms.to_utc(form.expected_completion.data),
        )
        record = workflow.classify(
            db.session, actor(), current_user.account, sr, data, utcnow(), action=form.action.data
        )
        return _(
            "Classified: %(type)s, %(priority)s.",
            type=TYPE_LABELS.get(record.type, record.type),
            priority=PRIORITY_LABELS.get(record.priority, record.priority),
        )

    return act(auth, "classify", form, run)


@bp.get("/classification/suggestion")
def wf_suggestion():
    """The priority the three answers suggest, for the classify panel to show as they change."""
    form = forms.ClassifyForm(formdata=request.args, prefix="classify", meta={"csrf": False})
    suggested = suggestion_of(form)
    return render_template("staff/_wf_suggestion.html", suggestion=suggested)


@bp.post("/requests/<number>/assign")
def wf_assign(number: str):
    auth = authorize_panel(number, "assign")
    form = forms.AssignForm(prefix="assign")

    def run(sr, form):
        reason = (form.reason.data or "").strip()
        if not reason:
            # the ranking's reason for the chosen person is the record of why
            reason = next(
                (
                    c.reason
                    for c in workflow_panels.candidates(db.session, sr, locale())
                    if c.id == form.handler_id.data
                ),
                "",
            )
        record = workflow.assign(
            db.session,
            actor(),
            current_user.account,
            sr,
            form.handler_id.data,
            utcnow(),
            desk_timezone(),
            reason=reason,
            briefing=form.briefing.data or "",
            action=form.action.data,
        )
        name = db.session.get(Account, record.handler_id).name
        return _("Assigned to %(name)s; they have been notified.", name=name)

    return act(auth, "assign", form, run)


@bp.post("/requests/<number>/confirm")
def wf_confirm(number: str):
    auth = authorize_panel(number, "confirm")
    form = forms.ConfirmForm(prefix="confirm")

    def run(sr, form):
        workflow.confirm_assignment(
            db.session,
            actor(),
            current_user.account,
            sr,
            forms.to_utc(form.can_start_at.data),
            utcnow(),
        )
        return _("Confirmed: you can start at the time given.")

    return act(auth, "confirm", form, run)


@bp.post("/requests/<number>/collaborators")
def wf_collaborator(number: str):
    auth = authorize_panel(number, "collaborator")
    form = forms.CollaboratorForm(prefix="collab")
    set_collaborator_choices(form, *workflow_panels.collaborator_choices(db.session, locale()))

    def run(sr, form):
        row = workflow.add_collaborator(
            db.session,
            actor(),
            current_user.account,
            sr,
            form.person_id.data,
            form.interface_person.data,
            form.scope.data,
            utcnow(),
            department_id=form.department_id.data,
        )
        name = db.session.get(Account, row.account_id).name
        return _("%(name)s now collaborates on this request.", name=name)

    return act(auth, "collaborator", form, run)
