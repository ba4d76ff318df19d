"""feedback_views: an agent records the feedback the customer gave by phone (or another channel),
improvement measures are added to a feedback, and the measures list (/staff/measures) where
their owners move them on. The request-page panels and how an action answers:
portal/staff/delivery_area.py.
"""

from __future__ import annotations

from flask import (
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from portal.db import db
from portal.domain import lifecycle
from portal.models import utcnow
from portal.services import delivery as delivery_service
from portal.services import delivery_page
from portal.services import feedback as feedback_service
from portal.staff import bp
from portal.staff.delivery_area import Panel, desk_today
from portal.staff.forms_delivery import MeasureForm, MeasureStatusForm, RecordFeedbackForm
from portal.web.auth import actor
from portal.web.common import safe_next
from portal.web.delivery_forms import optional_int, submit_feedback
from portal.web.rendering import wants_fragment
from portal.web.request_actions import authorize, load_request, require_roles

FEEDBACK_TEMPLATE = "staff/_dl_feedback.html"


@bp.post("/requests/<number>/feedback")
def record_feedback(number: str):
    auth = authorize(number, "record_feedback")
    sr = auth.sr
    form = RecordFeedbackForm(prefix="feedback")
    panel = Panel(sr, "record_feedback", form, FEEDBACK_TEMPLATE)
    if (answer := panel.not_ready(auth)) is not None:
        return answer
    now = utcnow()
    try:
        fb = submit_feedback(
            sr,
            form,
            now,
            channel=form.channel.data,
            measure=form.measure_draft(),
            today=desk_today(now),
        )
        db.session.commit()
    except (lifecycle.TransitionError, delivery_service.InvalidInput) as exc:
        return panel.failed(exc)
    return panel.done(
        _(
            "Feedback %(number)s recorded (mean %(mean)s); the request is closed.",
            number=fb.number,
            mean=f"{fb.mean_score:.1f}",
        )
    )


@bp.post("/requests/<number>/measures")
def add_measure(number: str):
    sr = load_request(number)
    # not a lifecycle action: who may add a measure is a matter of role
    require_roles(feedback_service.MEASURE_ROLES, sr)
    fb = feedback_service.feedback_of(db.session, sr.id)
    if fb is None:
        abort(404)
    form = MeasureForm(prefix="measure")
    panel = Panel(sr, "measure", form, FEEDBACK_TEMPLATE)
    if (answer := panel.not_ready()) is not None:
        return answer
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
            today=desk_today(now),
        )
        db.session.commit()
    except delivery_service.InvalidInput as exc:
        return panel.failed(exc)
    except feedback_service.NotAllowed as exc:
        return panel.failed(exc, _("You may not do that on this request."))
    return panel.done(_("Improvement measure added."))


# ---------------------------------------------------------------------------------------------
# The measures list


def _measures_context(page: delivery_page.MeasuresPage, back: str) -> dict:
    return {
        "rows": page.rows,
        "owner_id": page.owner_id,
        "state": page.state,
        "owners": page.owners,
        "may_update": page.may_update,
        "back": back,  # the list to come back to, with its filters
    }


@bp.get("/measures")
def measures():
    fragment = wants_fragment()
    page = delivery_page.measures_page(
        db.session,
        current_user.account,
        desk_today(utcnow()),
        owner_id=optional_int(request.args.get("owner")),
        state=request.args.get("state"),
        with_owners=not fragment,
    )
    template = "staff/_dl_measures_table.html" if fragment else "staff/measures.html"
    response = make_response(
        render_template(template, **_measures_context(page, request.full_path.rstrip("?")))
    )
    response.vary.add("HX-Request")
    return response


@bp.post("/measures/status")
def measure_status():
    form = MeasureStatusForm()
    if not form.validate_on_submit():
        abort(400)
    measure = feedback_service.find_measure(db.session, optional_int(form.measure_id.data))
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
    page = delivery_page.measures_page(
        db.session,
        current_user.account,
        desk_today(now),
        state="all",
        measure_id=measure.id,
        with_owners=False,
    )
    html = render_template(
        "staff/_dl_measure_row.html", r=page.rows[0], error=error, **_measures_context(page, back)
    )
    return make_response(html, 403 if error else 200)
