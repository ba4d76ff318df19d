"""The dispatcher's board, the notifications (page, badge and mark read, shared with the customer's:
portal/web/notification_pages.py) and the supervisor's explanation to the customer on an
escalated request (docs/product.md §4 and §2 step 4)."""

from __future__ import annotations

from dataclasses import asdict

from flask import (
    abort,
    current_app,
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
from portal.models import utcnow
from portal.services import board as board_service
from portal.services import escalation
from portal.staff import bp
from portal.web import notification_pages, panels
from portal.web.auth import actor
from portal.web.forms import CONTROL_CHARACTERS_REMOVED
from portal.web.input_guard import removed_fields
from portal.web.rendering import page_or_fragment, wants_fragment
from portal.web.request_actions import load_request

BOARD_ROLES = ("dispatcher", "supervisor", "admin")


@bp.get("/board")
def board():
    if not current_user.has_role(*BOARD_ROLES):
        abort(403)
    data = board_service.board(db.session, utcnow(), current_app.config["PORTAL_TIMEZONE"])
    response = make_response(
        page_or_fragment("staff/board.html", "staff/_board_body.html", board=data)
    )
    response.vary.add("HX-Request")
    return response


# --- notifications -----------------------------------------------------------------------------


@bp.get("/notifications")
def notifications():
    response = make_response(notification_pages.page("staff"))
    response.vary.add("HX-Request")
    return response


@bp.get("/notifications/badge")
def notifications_badge():
    return notification_pages.badge("staff")


@bp.post("/notifications/read")
def notifications_read():
    return notification_pages.mark_read("staff")


# --- the supervisor's explanation (向客户说明原因) -------------------------------------------


@panels.provider("staff")
def _escalation_panel(session, sr, viewer, now) -> dict:
    panel = board_service.escalation_panel(session, sr, viewer)
    # the partial reads it as a mapping (``escalation.level``, ``escalation.events``)
    return {} if panel is None else {"escalation": asdict(panel)}


@bp.post("/requests/<number>/sla-explanation")
def sla_explain(number: str):
    if not current_user.has_role("supervisor"):
        abort(403)
    session = db.session
    sr = load_request(number)
    text = request.form.get("explanation", "")
    now = utcnow()
    try:
        if "explanation" in removed_fields():
            # what was typed, less its control characters, comes back to be checked and sent
            raise escalation.ExplanationError(str(CONTROL_CHARACTERS_REMOVED))
        escalation.explain_to_customer(session, actor(), sr, text, now)
    except escalation.ExplanationError as exc:
        session.rollback()
        if wants_fragment():
            context = _escalation_panel(session, sr, current_user, now)
            return (
                render_template(
                    "staff/_escalation_panel.html",
                    sr=sr,
                    error=str(exc),
                    typed=text,
                    **context,
                ),
                422,
            )
        flash(str(exc), "error")
        return redirect(url_for("staff.request_detail", number=number))
    session.commit()
    if wants_fragment():
        context = _escalation_panel(session, sr, current_user, now)
        return render_template(
            "staff/_escalation_panel.html",
            sr=sr,
            sent=_("The explanation was sent to the customer."),
            **context,
        )
    flash(_("The explanation was sent to the customer."), "success")
    return redirect(url_for("staff.request_detail", number=number))
