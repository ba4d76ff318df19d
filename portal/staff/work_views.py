"""work_views: the staff routes of the work on a request — handling steps (with their files),
the handling record, asking the customer, replies and internal notes (with their files). Each
is a workflow panel (see workflow_views.py for how a panel's post runs)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_login import current_user

from portal.db import db
from portal.models import utcnow
from portal.services import workflow
from portal.services.attachments import MAX_FILES
from portal.staff import bp
from portal.staff import forms_workflow as forms
from portal.staff.workflow_views import act, authorize_panel, desk_timezone, locale
from portal.web.auth import actor
from portal.web.uploads import PostedFiles


@bp.post("/requests/<number>/steps")
def wf_step(number: str):
    auth = authorize_panel(number, "step")
    form = forms.StepForm(prefix="step")

    def run(sr, form):
        files.check(_("At most %(n)d files per step.", n=MAX_FILES))
        step = workflow.StepInput(
            occurred_at=forms.to_utc(form.occurred_at.data),
            operation=form.operation.data,
            hours=form.hours.data,
            visible_to_customer=bool(form.visible_to_customer.data),
        )
        now = utcnow()
        who = actor()
        row = workflow.log_step(
            db.session, who, current_user.account, sr, step, now, desk_timezone(), locale()
        )
        files.save(db.session, who, now, request_id=sr.id, step_id=row.id)
        return _("Step added to the handling record.")

    with PostedFiles(form.files()) as files:
        return act(auth, "step", form, run)


@bp.post("/requests/<number>/record")
def wf_record(number: str):
    auth = authorize_panel(number, "record")
    form = forms.RecordForm(prefix="record")

    def run(sr, form):
        workflow.update_record(
            db.session,
            actor(),
            current_user.account,
            sr,
            utcnow(),
            desk_timezone(),
            problems=form.problems.data or "",
            workaround=form.workaround.data or "",
            final_result=form.final_result.data or "",
            locale=locale(),
        )
        return _("Handling record saved.")

    return act(auth, "record", form, run)


@bp.post("/requests/<number>/ask")
def wf_ask(number: str):
    auth = authorize_panel(number, "ask")
    form = forms.AskForm(prefix="ask")

    def run(sr, form):
        workflow.ask_customer(
            db.session,
            actor(),
            current_user.account,
            sr,
            form.what.data,
            forms.to_utc(form.needed_by.data),
            utcnow(),
        )
        return _("The customer has been asked; the resolution clock is paused until they answer.")

    return act(auth, "ask", form, run)


@bp.post("/requests/<number>/messages")
def wf_message(number: str):
    auth = authorize_panel(number, "composer")
    form = forms.MessageForm(prefix="msg")

    def run(sr, form):
        files.check(_("At most %(n)d files per message.", n=MAX_FILES))
        internal = form.kind.data == "note"
        now = utcnow()
        who = actor()
        message = workflow.post_message(
            db.session, who, current_user.account, sr, form.body.data, now, internal=internal
        )
        files.save(db.session, who, now, request_id=sr.id, message_id=message.id, internal=internal)
        return _("Internal note added.") if internal else _("Reply sent to the customer.")

    with PostedFiles(form.files()) as files:
        return act(auth, "composer", form, run)
