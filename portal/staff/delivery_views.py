"""delivery_views: delivery, countersignature, phone feedback, improvement measures and the
printable forms of the staff side, and their request-page panels (see portal/web/panels.py).

Every POST first passes portal/web/request_actions.py (404 unknown request; 403 for a viewer who
may never take the action, before the form is read; a wrong state is the panel's message, 422).
Each action is a panel (staff/_dl_*.html) that posts with htmx: a validation error re-renders
that panel in place (422) with what was typed; success re-renders the whole delivery area. A
plain POST (no JavaScript) redirects back to the request page, or re-renders it with the errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from flask import (
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    DateField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.db import db
from portal.domain import delivery as delivery_rules
from portal.domain import feedback as feedback_rules
from portal.domain import lifecycle
from portal.models import Account, Feedback, ImprovementMeasure, ServiceRequest, utcnow
from portal.presentation import presenters
from portal.services import attachments as attachment_service
from portal.services import delivery as delivery_service
from portal.services import feedback as feedback_service
from portal.services import lifecycle as lifecycle_service
from portal.staff import bp
from portal.web import panels, printable
from portal.web.auth import actor
from portal.web.common import safe_next
from portal.web.domain_errors import transition_message
from portal.web.forms import PortalForm
from portal.web.rendering import wants_fragment
from portal.web.request_actions import Authorized, authorize, load_request, require_roles

# ---------------------------------------------------------------------------------------------
# Forms

SCORE_CHOICES = [SelectChoice(str(n), str(n)) for n in feedback_rules.SCORES]
CHANNEL_LABELS = {"phone": _l("Phone"), "email": _l("E-mail"), "on_site": _l("On site")}
MEASURE_STATUS_LABELS = {
    feedback_rules.MEASURE_OPEN: _l("Open"),
    feedback_rules.MEASURE_IN_PROGRESS: _l("In progress"),
    feedback_rules.MEASURE_DONE: _l("Done"),
}


def _optional_int(value) -> int | None:
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _score(value) -> int | None:
    return _optional_int(value)


class DeliverForm(PortalForm):
    service_item = StringField(
        _l("Service item"),
        validators=[
            DataRequired(message=_l("Name the service item.")),
            Length(max=200, message=_l("At most %(max)d characters.")),
        ],
    )
    items = TextAreaField(
        _l("Deliverables"),
        description=_l("One per line, e.g. “Fault cause analysis report”."),
        validators=[DataRequired(message=_l("List at least one deliverable, one per line."))],
    )
    criteria = TextAreaField(
        _l("Acceptance criteria"),
        description=_l("One per line; the customer checks each one."),
        validators=[
            DataRequired(message=_l("List at least one acceptance criterion, one per line."))
        ],
    )
    demo_note = TextAreaField(
        _l("Demo note (optional)"),
        validators=[Optional(), Length(max=5000, message=_l("At most %(max)d characters."))],
    )
    files = MultipleFileField(_l("Files"))

    def uploads(self) -> list:
        return [f for f in (self.files.data or []) if getattr(f, "filename", "")]


class SignForm(PortalForm):
    typed_name = StringField(
        _l("Your name, typed"),
        validators=[
            DataRequired(message=_l("Type your name to sign.")),
            Length(max=100, message=_l("At most %(max)d characters.")),
        ],
    )
    signature = HiddenField()


class RecordFeedbackForm(PortalForm):
    channel = SelectField(
        _l("How the rating was given"),
        choices=[SelectChoice(k, v) for k, v in CHANNEL_LABELS.items()],
        default="phone",
    )
    score_response = RadioField(
        _l("Response timeliness"),
        choices=SCORE_CHOICES,
        coerce=_score,
        validators=[InputRequired(message=_l("Choose a score from 1 to 5."))],
    )
    score_effect = RadioField(
        _l("Handling effect"),
        choices=SCORE_CHOICES,
        coerce=_score,
        validators=[InputRequired(message=_l("Choose a score from 1 to 5."))],
    )
    score_attitude = RadioField(
        _l("Service attitude"),
        choices=SCORE_CHOICES,
        coerce=_score,
        validators=[InputRequired(message=_l("Choose a score from 1 to 5."))],
    )
    suggestions = TextAreaField(
        _l("Suggestions"),
        validators=[Optional(), Length(max=5000, message=_l("At most %(max)d characters."))],
    )
    measure = TextAreaField(_l("Improvement measure (optional)"), validators=[Optional()])
    owner = SelectField(_l("Owner"), coerce=_optional_int, validate_choice=False)
    deadline = DateField(_l("Deadline"), validators=[Optional()])


class MeasureForm(PortalForm):
    measure = TextAreaField(
        _l("Improvement measure"),
        validators=[DataRequired(message=_l("Describe the measure."))],
    )
    owner = SelectField(_l("Owner"), coerce=_optional_int, validate_choice=False)
    deadline = DateField(_l("Deadline"), validators=[InputRequired(message=_l("Give a deadline."))])


class MeasureStatusForm(PortalForm):
    measure_id = HiddenField(validators=[DataRequired()])
    next = HiddenField()  # the list to come back to (a plain POST), a same-site path
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice(k, v) for k, v in MEASURE_STATUS_LABELS.items()],
    )


# messages for the codes the services raise (portal.services.delivery.InvalidInput)
PROBLEMS = {
    ("service_item", "missing"): _l("Name the service item."),
    ("items", "missing"): _l("List at least one deliverable, one per line."),
    ("items", "too-many"): _l("At most 50 lines."),
    ("criteria", "missing"): _l("List at least one acceptance criterion, one per line."),
    ("criteria", "too-many"): _l("At most 50 lines."),
    ("typed_name", "missing"): _l("Type your name to sign."),
    ("signature", "format"): _l(
        "The drawn signature could not be read: clear it and draw again, or sign with your "
        "typed name alone."
    ),
    ("signature", "size"): _l("The drawn signature is too large: clear it and draw again."),
    ("form", "already-signed"): _l("This delivery has been countersigned already."),
    ("response", "missing"): _l("Choose a score from 1 to 5."),
    ("response", "range"): _l("Choose a score from 1 to 5."),
    ("effect", "missing"): _l("Choose a score from 1 to 5."),
    ("effect", "range"): _l("Choose a score from 1 to 5."),
    ("attitude", "missing"): _l("Choose a score from 1 to 5."),
    ("attitude", "range"): _l("Choose a score from 1 to 5."),
    ("channel", "missing"): _l("Choose how the rating was given."),
    ("measure", "missing"): _l("Describe the measure."),
    ("measure_owner", "missing"): _l("Choose the owner of the measure."),
    ("measure_owner", "unknown"): _l("Choose the owner of the measure."),
    ("measure_deadline", "missing"): _l("Give the measure a deadline."),
    ("measure_deadline", "past"): _l("The deadline cannot be in the past."),
}
FIELD_OF = {
    "response": "score_response",
    "effect": "score_effect",
    "attitude": "score_attitude",
    "measure_owner": "owner",
    "measure_deadline": "deadline",
}


def apply_problems(form: FlaskForm, exc: delivery_service.InvalidInput) -> None:
    """Show a service's refusal on the form's fields (or on the form as a whole)."""
    for key, code in exc.problems.items():
        message = str(PROBLEMS.get((key, code), _("Please check this field.")))
        _add_error(form, FIELD_OF.get(key, key), message)
    for key, messages in exc.details.items():
        for message in messages:
            _add_error(form, FIELD_OF.get(key, key), message)


def _add_error(form: FlaskForm, name: str, message: str) -> None:
    fld = form._fields.get(name)
    if fld is None:
        form.form_errors.append(message)
    else:
        fld.errors = [*fld.errors, message] if isinstance(fld.errors, list) else [message]


# ---------------------------------------------------------------------------------------------
# The panels


@dataclass
class DeliveryPanels:
    sr: ServiceRequest
    actions: set[str]
    on_request: bool
    deliveries: list
    feedback: object | None
    staff_choices: list = field(default_factory=list)
    forms: dict = field(default_factory=dict)
    can_add_measure: bool = False
    viewer_id: int = 0
    viewer_roles: frozenset = frozenset()
    notice: str | None = None

    @property
    def latest(self):
        return self.deliveries[-1] if self.deliveries else None

    @property
    def previous_failure(self):
        for view in reversed(self.deliveries):
            if view.delivery.result == delivery_rules.FAIL:
                return view
        return None

    @property
    def can_countersign(self) -> bool:
        latest = self.latest
        return (
            "countersign" in self.actions
            and latest is not None
            and latest.delivery.result == delivery_rules.PASS
            and delivery_rules.HANDLER not in latest.signatures
        )

    status_labels = MEASURE_STATUS_LABELS

    def signer_name(self, signature) -> str:
        """A customer's signed name is contact data: in full only to staff on the request."""
        if signature.party == delivery_rules.CUSTOMER:
            return presenters.person_name(signature.typed_name, full=self.on_request)
        return signature.typed_name

    def may_update(self, measure: ImprovementMeasure) -> bool:
        return measure.owner_id == self.viewer_id or bool(
            self.viewer_roles & feedback_service.MEASURE_MANAGERS
        )


def _staff_list() -> list[tuple[int, str]]:
    """Active staff who may own a measure: one query."""
    return [
        (i, name)
        for i, name in db.session.execute(
            select(Account.id, Account.name)
            .where(Account.kind == "staff", Account.active.is_(True))
            .order_by(Account.name, Account.id)
        )
    ]


def _staff_choices() -> list:
    return [SelectChoice(str(i), name) for i, name in _staff_list()]


def _owner_choices(choices: list) -> list:
    return [SelectChoice("", _l("Choose…")), *choices]


def _panels(session, sr: ServiceRequest, viewer: Account, now) -> DeliveryPanels:
    caps = lifecycle_service.capacities(session, sr, viewer)
    actions = lifecycle.allowed_actions(sr.status, caps)
    deliveries = delivery_service.load(session, sr.id)
    fb = feedback_service.load(session, sr.id) if sr.status in ("completed", "closed") else None
    roles = frozenset(viewer.role_names)
    state = DeliveryPanels(
        sr=sr,
        actions=actions,
        on_request=bool(caps & {lifecycle.HANDLER, lifecycle.COLLABORATOR}),
        deliveries=deliveries,
        feedback=fb,
        viewer_id=viewer.id,
        viewer_roles=roles,
        can_add_measure=fb is not None and bool(roles & feedback_service.MEASURE_ROLES),
    )
    overrides = g.get("delivery_forms", {})
    forms = state.forms
    if "deliver" in actions:
        forms["deliver"] = overrides.get("deliver") or _deliver_form(state)
    if state.can_countersign:
        forms["countersign"] = overrides.get("countersign") or SignForm(
            prefix="countersign", formdata=None
        )
    need_owners = "record_feedback" in actions or state.can_add_measure
    if need_owners:
        state.staff_choices = _owner_choices(_staff_choices())
    if "record_feedback" in actions:
        form = overrides.get("record_feedback") or RecordFeedbackForm(
            prefix="feedback", formdata=None
        )
        form.owner.choices = state.staff_choices
        forms["record_feedback"] = form
    if state.can_add_measure:
        form = overrides.get("measure") or MeasureForm(prefix="measure", formdata=None)
        form.owner.choices = state.staff_choices
        forms["measure"] = form
    # a refused submission is shown again as it was typed, even when the action is no longer
    # on offer (the message says why)
    for key, form in overrides.items():
        if hasattr(form, "owner"):
            form.owner.choices = state.staff_choices or _owner_choices(_staff_choices())
        forms[key] = form
    state.notice = g.get("delivery_notice")
    return state


def _deliver_form(state: DeliveryPanels) -> DeliverForm:
    form = DeliverForm(prefix="deliver", formdata=None)
    # a redelivery starts from the previous delivery's content
    previous = state.latest
    if previous is not None:
        form.service_item.data = previous.delivery.service_item
        form.items.data = "\n".join(i.text for i in previous.items)
        form.criteria.data = "\n".join(c.text for c in previous.criteria)
    else:
        form.service_item.data = state.sr.title
    return form


@panels.provider("staff")
def _provide(session, sr, viewer, now) -> dict:
    return {"dl": _panels(session, sr, viewer, now)}


# ---------------------------------------------------------------------------------------------
# Actions


def _locale() -> str:
    return str(get_locale() or "en")


def _desk_today(now) -> date:
    return now.astimezone(ZoneInfo(current_app.config["PORTAL_TIMEZONE"])).date()


def _invalid(sr: ServiceRequest, key: str, form, template: str):
    """A refused action: the panel again with the errors (htmx), or the whole page (no JS)."""
    if wants_fragment():
        g.delivery_forms = {key: form}
        dl = _panels(db.session, sr, current_user.account, utcnow())
        return make_response(render_template(template, sr=sr, dl=dl), 422)
    g.delivery_forms = {key: form}
    from portal.staff.views import request_detail

    return make_response(request_detail(sr.number), 422)


def _done(sr: ServiceRequest, message: str):
    """Success: the delivery area again (htmx), or back to the request page (no JS)."""
    if wants_fragment():
        g.delivery_notice = message
        dl = _panels(db.session, sr, current_user.account, utcnow())
        response = make_response(render_template("staff/_delivery_panels.html", sr=sr, dl=dl))
        response.headers["HX-Retarget"] = "#delivery-panels"
        response.headers["HX-Reswap"] = "outerHTML"
        response.headers["HX-Trigger"] = "portal:request-changed"
        return response
    flash(message, "success")
    return redirect(url_for("staff.request_detail", number=sr.number))


def _refused(sr: ServiceRequest, key: str, form, template: str, message: str):
    form.form_errors.append(message)
    return _invalid(sr, key, form, template)


def _not_now(auth: Authorized, key: str, form, template: str):
    """The viewer may take this action, but not in the request's state: the panel says so
    (422) before the form is validated; None when the state allows it."""
    refusal = auth.state_refusal()
    if refusal is None:
        return None
    return _refused(auth.sr, key, form, template, transition_message(refusal))


@bp.post("/requests/<number>/deliver")
def deliver(number: str):
    auth = authorize(number, "deliver")
    sr = auth.sr
    form = DeliverForm(prefix="deliver")
    template = "staff/_dl_deliver.html"
    if (refused := _not_now(auth, "deliver", form, template)) is not None:
        return refused
    if not form.validate_on_submit():
        return _invalid(sr, "deliver", form, template)
    folder = current_app.config["UPLOAD_FOLDER"]
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    saved: list = []
    now = utcnow()
    try:
        dlv = delivery_service.deliver(
            db.session,
            actor(),
            current_user.account,
            sr,
            now,
            current_app.config["PORTAL_TIMEZONE"],
            service_item=form.service_item.data,
            items=delivery_rules.split_lines(form.items.data),
            criteria=delivery_rules.split_lines(form.criteria.data),
            demo_note=form.demo_note.data or "",
            uploads=[attachment_service.Upload(f.filename, f.stream) for f in form.uploads()],
            folder=folder,
            max_bytes=limit,
            saved=saved,
            locale=_locale(),
        )
        db.session.commit()
    except lifecycle.TransitionError as exc:
        db.session.rollback()
        return _refused(sr, "deliver", form, template, transition_message(exc))
    except delivery_service.InvalidInput as exc:
        db.session.rollback()
        attachment_service.discard(saved, folder)
        apply_problems(form, exc)
        return _invalid(sr, "deliver", form, template)
    except attachment_service.AttachmentRefused as exc:
        db.session.rollback()
        attachment_service.discard(saved, folder)
        form.files.errors = [exc.message]
        return _invalid(sr, "deliver", form, template)
    except BaseException:
        db.session.rollback()
        attachment_service.discard(saved, folder)
        raise
    return _done(
        sr, _("Delivered as %(number)s; waiting for the customer's acceptance.", number=dlv.number)
    )


@bp.post("/requests/<number>/countersign")
def countersign(number: str):
    auth = authorize(number, "countersign")
    sr = auth.sr
    form = SignForm(prefix="countersign")
    template = "staff/_dl_countersign.html"
    if (refused := _not_now(auth, "countersign", form, template)) is not None:
        return refused
    if not form.validate_on_submit():
        return _invalid(sr, "countersign", form, template)
    try:
        dlv = delivery_service.countersign(
            db.session,
            actor(),
            current_user.account,
            sr,
            utcnow(),
            typed_name=form.typed_name.data,
            image=form.signature.data,
            ip=request.remote_addr,
            user_agent=request.headers.get("User-Agent"),
        )
        db.session.commit()
    except lifecycle.TransitionError as exc:
        db.session.rollback()
        return _refused(sr, "countersign", form, template, transition_message(exc))
    except delivery_service.ContentChanged:
        db.session.rollback()
        return _refused(
            sr,
            "countersign",
            form,
            template,
            _("The delivery's content changed after signing: it cannot be countersigned."),
        )
    except delivery_service.InvalidInput as exc:
        db.session.rollback()
        apply_problems(form, exc)
        return _invalid(sr, "countersign", form, template)
    return _done(sr, _("Countersigned %(number)s.", number=dlv.number))


@bp.post("/requests/<number>/feedback")
def record_feedback(number: str):
    auth = authorize(number, "record_feedback")
    sr = auth.sr
    form = RecordFeedbackForm(prefix="feedback")
    form.owner.choices = _owner_choices(_staff_choices())
    template = "staff/_dl_feedback.html"
    if (refused := _not_now(auth, "record_feedback", form, template)) is not None:
        return refused
    if not form.validate_on_submit():
        return _invalid(sr, "record_feedback", form, template)
    now = utcnow()
    measure = None
    if (form.measure.data or "").strip() or form.owner.data or form.deadline.data:
        measure = {
            "measure": form.measure.data,
            "owner_id": form.owner.data,
            "deadline": form.deadline.data,
        }
    try:
        fb = feedback_service.give(
            db.session,
            actor(),
            current_user.account,
            sr,
            now,
            current_app.config["PORTAL_TIMEZONE"],
            scores={
                "response": form.score_response.data,
                "effect": form.score_effect.data,
                "attitude": form.score_attitude.data,
            },
            suggestions=form.suggestions.data or "",
            channel=form.channel.data,
            measure=measure,
            today=_desk_today(now),
        )
        db.session.commit()
    except lifecycle.TransitionError as exc:
        db.session.rollback()
        return _refused(sr, "record_feedback", form, template, transition_message(exc))
    except delivery_service.InvalidInput as exc:
        db.session.rollback()
        apply_problems(form, exc)
        return _invalid(sr, "record_feedback", form, template)
    return _done(
        sr,
        _(
            "Feedback %(number)s recorded (mean %(mean)s); the request is closed.",
            number=fb.number,
            mean=f"{fb.mean_score:.1f}",
        ),
    )


@bp.post("/requests/<number>/measures")
def add_measure(number: str):
    sr = load_request(number)
    # not a lifecycle action: who may add a measure is a matter of role
    require_roles(feedback_service.MEASURE_ROLES, sr)
    form = MeasureForm(prefix="measure")
    form.owner.choices = _owner_choices(_staff_choices())
    template = "staff/_dl_feedback.html"
    fb = db.session.scalar(select(Feedback).where(Feedback.request_id == sr.id))
    if fb is None:
        abort(404)
    if not form.validate_on_submit():
        return _invalid(sr, "measure", form, template)
    now = utcnow()
    try:
        feedback_service.add_measure(
            db.session,
            actor(),
            current_user.account,
            fb,
            now,
            measure=form.measure.data,
            owner_id=form.owner.data,
            deadline=form.deadline.data,
            today=_desk_today(now),
        )
        db.session.commit()
    except feedback_service.NotAllowed:
        db.session.rollback()
        return _refused(sr, "measure", form, template, _("You may not do that on this request."))
    except delivery_service.InvalidInput as exc:
        db.session.rollback()
        apply_problems(form, exc)
        return _invalid(sr, "measure", form, template)
    return _done(sr, _("Improvement measure added."))


# ---------------------------------------------------------------------------------------------
# Measures


MEASURE_STATES = {"open": _l("Not done"), "done": _l("Done"), "all": _l("All")}


@bp.get("/measures")
def measures():
    now = utcnow()
    owner_id = _optional_int(request.args.get("owner"))
    state = request.args.get("state", "open")
    if state not in MEASURE_STATES:
        state = "open"
    rows = feedback_service.list_measures(
        db.session, _desk_today(now), owner_id=owner_id, state=state
    )
    context = dict(
        rows=rows,
        owner_id=owner_id,
        state=state,
        states=MEASURE_STATES,
        status_labels=MEASURE_STATUS_LABELS,
        account=current_user.account,
        may_update=lambda m: feedback_service.may_update(current_user.account, m),
        back=request.full_path.rstrip("?"),  # this list, with its filters
    )
    if wants_fragment():
        html = render_template("staff/_dl_measures_table.html", **context)
    else:
        context["owners"] = _staff_list()
        html = render_template("staff/measures.html", **context)
    response = make_response(html)
    response.vary.add("HX-Request")
    return response


@bp.post("/measures/status")
def measure_status():
    form = MeasureStatusForm()
    if not form.validate_on_submit():
        abort(400)
    measure_id = _optional_int(form.measure_id.data)
    measure = db.session.get(ImprovementMeasure, measure_id) if measure_id else None
    if measure is None:
        abort(404)
    now = utcnow()
    error = None
    try:
        feedback_service.set_measure_status(
            db.session, actor(), current_user.account, measure, form.status.data, now
        )
        db.session.commit()
    except feedback_service.NotAllowed:
        db.session.rollback()
        error = _("Only the owner, a supervisor or an administrator may change this measure.")
    except delivery_service.InvalidInput:
        db.session.rollback()
        error = _("Choose a status.")
    # back to the list the form was on: a same-site path only, never the Referer
    back = safe_next(form.next.data, url_for("staff.measures"))
    if not wants_fragment():
        flash(error or _("Measure updated."), "error" if error else "success")
        return redirect(back)
    rows = feedback_service.list_measures(
        db.session, _desk_today(now), state="all", measure_id=measure.id
    )
    row = rows[0]
    html = render_template(
        "staff/_dl_measure_row.html",
        r=row,
        status_labels=MEASURE_STATUS_LABELS,
        may_update=lambda m: feedback_service.may_update(current_user.account, m),
        error=error,
        back=back,
    )
    return make_response(html, 403 if error else 200)


# ---------------------------------------------------------------------------------------------
# Printable forms and XLSX


def _printable(number: str, form: str):
    sr = load_request(number)
    return sr, printable.build(sr, form, current_user.account)


@bp.get("/requests/<number>/print/<any(sr,ir,sd,fb):form>")
def print_form(number: str, form: str):
    sr, doc = _printable(number, form)
    return printable.print_page("staff", sr, doc)


@bp.get("/requests/<number>/export/<any(sr,ir,sd,fb):form>.xlsx")
def export_form(number: str, form: str):
    sr, doc = _printable(number, form)
    return printable.xlsx_response(sr, form, doc)
