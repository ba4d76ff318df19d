"""workflow_views: routes and request-page panels of the staff side (see portal/web/panels.py).

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

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from flask import (
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.db import db
from portal.domain import classification as rules
from portal.domain import lifecycle
from portal.domain.assignment import Ranked
from portal.models import (
    Account,
    Assignment,
    CooperationRequest,
    Department,
    HandlingRecord,
    ServiceRequest,
    utcnow,
)
from portal.presentation.labels import PRIORITY_LABELS, TYPE_LABELS
from portal.services import attachments as attachment_service
from portal.services import lifecycle as lifecycle_service
from portal.services import workflow
from portal.services.attachments import (
    MAX_FILES,
    AttachmentRefused,
    AttachmentTooLarge,
    Upload,
    stream_size,
)
from portal.staff import bp
from portal.staff import forms_workflow as forms
from portal.web import panels
from portal.web.auth import actor
from portal.web.domain_errors import transition_message
from portal.web.rendering import wants_fragment
from portal.web.request_actions import Authorized, authorize, load_request

PANELS = ("classify", "assign", "confirm", "collaborator", "step", "record", "ask", "composer")


@dataclass(frozen=True)
class CandidateRow:
    id: int
    name: str
    available: bool
    reason: str


@dataclass
class WorkflowPanels:
    """What the workflow panels of one request need, for one viewer."""

    actions: set[str]
    forms: dict[str, FlaskForm] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    notices: dict[str, str] = field(default_factory=dict)
    candidates: list[CandidateRow] = field(default_factory=list)
    suggestion: str | None = None
    assignment: Assignment | None = None
    record: HandlingRecord | None = None
    hours_total: Decimal = Decimal("0")
    open_question: CooperationRequest | None = None

    def shows(self, panel: str) -> bool:
        return panel in self.forms


def _locale() -> str:
    return str(get_locale() or "en")


def candidate_reason(r: Ranked) -> str:
    """ "Skill 数据库 level 4 · 3 open · available", in the reader's language."""
    parts = []
    if r.best_skill is not None:
        parts.append(
            _("Skill %(skill)s level %(level)s", skill=r.best_skill.skill_name, level=r.level)
        )
    else:
        parts.append(_("no matching skill"))
    parts.append(ngettext("%(num)s open", "%(num)s open", r.candidate.open_load))
    parts.append(_("available") if r.candidate.available else _("unavailable"))
    return " · ".join(parts)


def _candidates(session: Session, sr: ServiceRequest) -> list[CandidateRow]:
    return [
        CandidateRow(
            r.candidate.account_id, r.candidate.name, r.candidate.available, candidate_reason(r)
        )
        for r in workflow.candidates(session, sr, _locale())
    ]


def _staff_choices(session: Session) -> list[tuple[int, str]]:
    dept = Department.name_zh if _locale().startswith("zh") else Department.name_en
    rows = session.execute(
        select(Account.id, Account.name, dept)
        .outerjoin(Department, Department.id == Account.department_id)
        .where(Account.kind == "staff", Account.active.is_(True))
        .order_by(Account.name, Account.id)
    ).all()
    return [(r.id, f"{r.name} · {r[2]}" if r[2] else r.name) for r in rows]


def _department_choices(session: Session) -> list[tuple[str, str]]:
    dept = Department.name_zh if _locale().startswith("zh") else Department.name_en
    rows = session.execute(select(Department.id, dept).order_by(Department.code)).all()
    return [("", _("The collaborator's own department"))] + [(str(r[0]), r[1]) for r in rows]


def _set_collaborator_choices(session: Session, form: forms.CollaboratorForm) -> None:
    form.person_id.choices = _staff_choices(session)
    form.department_id.choices = _department_choices(session)


def _fresh_classify(session: Session, sr: ServiceRequest, action: str) -> forms.ClassifyForm:
    last = workflow.latest_classification(session, sr)
    if last is not None:
        values = dict(
            type=last.type,
            category=last.category or "",
            impact_scope=last.impact_scope,
            urgency=last.urgency,
            business_importance=last.business_importance,
            # what is confirmed now is written anew (and may hold contact data this viewer
            # would see redacted): not copied from the last record
        )
    else:
        values = dict(
            type=sr.type,
            category=sr.category or "",
            impact_scope=rules.impact_from_proposal(sr.proposed_urgency).value,
            urgency=rules.urgency_from_proposal(sr.proposed_urgency).value,
            business_importance=rules.Level.MEDIUM.value,
        )
    return forms.ClassifyForm(
        formdata=None,
        prefix="classify",
        action=action,
        expected_completion=forms.to_local(sr.expected_completion_at),
        **values,
    )


def suggestion_of(form: forms.ClassifyForm) -> str | None:
    try:
        return rules.suggest_priority(
            form.impact_scope.data, form.urgency.data, form.business_importance.data
        ).value
    except ValueError:
        return None


def build(session: Session, sr: ServiceRequest, viewer: Account, now: datetime) -> WorkflowPanels:
    """The panels this viewer may use on this request now, in a fixed number of queries."""
    caps = lifecycle_service.capacities(session, sr, viewer)
    actions = lifecycle.allowed_actions(sr.status, caps)
    wf = WorkflowPanels(actions=actions)
    bound: dict = g.get("wf_forms", {})
    wf.errors = g.get("wf_errors", {})
    wf.notices = g.get("wf_notices", {})

    for action in ("classify", "reclassify"):
        if action in actions:
            wf.forms["classify"] = bound.get("classify") or _fresh_classify(session, sr, action)
            wf.suggestion = suggestion_of(wf.forms["classify"])
    for action in ("assign", "reassign"):
        if action in actions:
            wf.forms["assign"] = bound.get("assign") or forms.AssignForm(
                formdata=None, prefix="assign", action=action
            )
            wf.candidates = _candidates(session, sr)
    if "confirm_assignment" in actions:
        wf.assignment = workflow.current_assignment(session, sr)
        if wf.assignment is not None and wf.assignment.handler_id == viewer.id:
            wf.forms["confirm"] = bound.get("confirm") or forms.ConfirmForm(
                formdata=None,
                prefix="confirm",
                can_start_at=forms.to_local(wf.assignment.can_start_at or now),
            )
    if "add_collaborator" in actions:
        form = bound.get("collaborator") or forms.CollaboratorForm(formdata=None, prefix="collab")
        _set_collaborator_choices(session, form)
        wf.forms["collaborator"] = form
    if actions & {"log_step", "update_record"}:
        wf.record = session.scalar(select(HandlingRecord).where(HandlingRecord.request_id == sr.id))
        wf.hours_total = workflow.hours_total(session, sr)
    if "log_step" in actions:
        wf.forms["step"] = bound.get("step") or forms.StepForm(
            formdata=None, prefix="step", occurred_at=forms.to_local(now), hours=Decimal("0.5")
        )
    if "update_record" in actions:
        rec = wf.record
        wf.forms["record"] = bound.get("record") or forms.RecordForm(
            formdata=None,
            prefix="record",
            problems=rec.problems if rec else "",
            workaround=rec.workaround if rec else "",
            final_result=rec.final_result if rec else "",
        )
    if "ask_customer" in actions:
        wf.forms["ask"] = bound.get("ask") or forms.AskForm(formdata=None, prefix="ask")
    if sr.status == "awaiting_customer":
        wf.open_question = workflow.open_cooperation(session, sr)
    if actions & {"reply_public", "note_internal"}:
        form = bound.get("composer") or forms.MessageForm(
            formdata=None,
            prefix="msg",
            kind="reply" if "reply_public" in actions else "note",
        )
        wf.forms["composer"] = form
    return wf


@panels.provider("staff")
def workflow_panels(session, sr, viewer, now) -> dict:
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


def _authorize(number: str, panel: str) -> Authorized:
    """404 for an unknown request, 403 for a viewer who may never use this panel on it."""
    return authorize(number, *PANEL_ACTIONS[panel])


def _page(number: str):
    from portal.staff.views import request_detail

    return request_detail(number)


def _act(auth: Authorized, panel: str, form: FlaskForm, run):
    """The viewer may use this panel (``_authorize``): check the state, validate, run the
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


def _tz() -> str:
    return current_app.config["PORTAL_TIMEZONE"]


# ---------------------------------------------------------------------------------------------
# Routes


@bp.post("/requests/<number>/classify")
def wf_classify(number: str):
    auth = _authorize(number, "classify")
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

    return _act(auth, "classify", form, run)


@bp.get("/classification/suggestion")
def wf_suggestion():
    """The priority the three answers suggest, for the classify panel to show as they change."""
    form = forms.ClassifyForm(formdata=request.args, prefix="classify", meta={"csrf": False})
    suggested = suggestion_of(form)
    return render_template("staff/_wf_suggestion.html", suggestion=suggested)


@bp.post("/requests/<number>/assign")
def wf_assign(number: str):
    auth = _authorize(number, "assign")
    form = forms.AssignForm(prefix="assign")

    def run(sr, form):
        reason = (form.reason.data or "").strip()
        if not reason:
            # the ranking's reason for the chosen person is the record of why
            reason = next(
                (c.reason for c in _candidates(db.session, sr) if c.id == form.handler_id.data), ""
            )
        record = workflow.assign(
            db.session,
            actor(),
            current_user.account,
            sr,
            form.handler_id.data,
            utcnow(),
            _tz(),
            reason=reason,
            briefing=form.briefing.data or "",
            action=form.action.data,
        )
        name = db.session.scalar(select(Account.name).where(Account.id == record.handler_id))
        return _("Assigned to %(name)s; they have been notified.", name=name)

    return _act(auth, "assign", form, run)


@bp.post("/requests/<number>/confirm")
def wf_confirm(number: str):
    auth = _authorize(number, "confirm")
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

    return _act(auth, "confirm", form, run)


@bp.post("/requests/<number>/collaborators")
def wf_collaborator(number: str):
    auth = _authorize(number, "collaborator")
    form = forms.CollaboratorForm(prefix="collab")
    _set_collaborator_choices(db.session, form)

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
        name = db.session.scalar(select(Account.name).where(Account.id == row.account_id))
        return _("%(name)s now collaborates on this request.", name=name)

    return _act(auth, "collaborator", form, run)


def _check_files(files: list, limit: int, message: str) -> None:
    """The count and sizes, before anything is written."""
    if len(files) > MAX_FILES:
        raise workflow.FieldError("attachments", message)
    for f in files:
        if stream_size(f.stream) > limit:
            raise AttachmentTooLarge(f.filename, limit)


@bp.post("/requests/<number>/steps")
def wf_step(number: str):
    auth = _authorize(number, "step")
    form = forms.StepForm(prefix="step")
    folder = current_app.config["UPLOAD_FOLDER"]
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    saved: list = []

    def run(sr, form):
        files = form.files()
        _check_files(files, limit, _("At most %(n)d files per step.", n=MAX_FILES))
        step = workflow.StepInput(
            occurred_at=forms.to_utc(form.occurred_at.data),
            operation=form.operation.data,
            hours=form.hours.data,
            visible_to_customer=bool(form.visible_to_customer.data),
        )
        now = utcnow()
        who = actor()
        row = workflow.log_step(
            db.session, who, current_user.account, sr, step, now, _tz(), _locale()
        )
        for f in files:
            saved.append(
                attachment_service.save(
                    db.session,
                    who,
                    now,
                    Upload(f.filename, f.stream),
                    request_id=sr.id,
                    folder=folder,
                    max_bytes=limit,
                    step_id=row.id,
                )
            )
        return _("Step added to the handling record.")

    try:
        return _act(auth, "step", form, run)
    finally:
        # files written for a step that was not committed
        if g.get("wf_forms", {}).get("step") is form:
            attachment_service.discard(saved, folder)


@bp.post("/requests/<number>/record")
def wf_record(number: str):
    auth = _authorize(number, "record")
    form = forms.RecordForm(prefix="record")

    def run(sr, form):
        workflow.update_record(
            db.session,
            actor(),
            current_user.account,
            sr,
            utcnow(),
            _tz(),
            problems=form.problems.data or "",
            workaround=form.workaround.data or "",
            final_result=form.final_result.data or "",
            locale=_locale(),
        )
        return _("Handling record saved.")

    return _act(auth, "record", form, run)


@bp.post("/requests/<number>/ask")
def wf_ask(number: str):
    auth = _authorize(number, "ask")
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

    return _act(auth, "ask", form, run)


@bp.post("/requests/<number>/messages")
def wf_message(number: str):
    auth = _authorize(number, "composer")
    form = forms.MessageForm(prefix="msg")
    folder = current_app.config["UPLOAD_FOLDER"]
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    saved: list = []

    def run(sr, form):
        files = form.files()
        _check_files(files, limit, _("At most %(n)d files per message.", n=MAX_FILES))
        internal = form.kind.data == "note"
        now = utcnow()
        who = actor()
        message = workflow.post_message(
            db.session, who, current_user.account, sr, form.body.data, now, internal=internal
        )
        for f in files:
            saved.append(
                attachment_service.save(
                    db.session,
                    who,
                    now,
                    Upload(f.filename, f.stream),
                    request_id=sr.id,
                    folder=folder,
                    max_bytes=limit,
                    message_id=message.id,
                    internal=internal,
                )
            )
        return _("Internal note added.") if internal else _("Reply sent to the customer.")

    try:
        return _act(auth, "composer", form, run)
    finally:
        # files written for a message that was not committed
        if g.get("wf_forms", {}).get("composer") is form:
            attachment_service.discard(saved, folder)
