"""privacy_views: routes and request-page panels of the staff side (see portal/web/panels.py).

The contact reveal panel and route; redacted copies of text files for people outside a
request. The admin pages of reveals, the audit log and retention are in portal/staff/admin.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from portal.db import db
from portal.models import utcnow
from portal.services import privacy
from portal.staff import bp
from portal.web import panels
from portal.web.auth import actor
from portal.web.forms import PortalForm
from portal.web.rendering import wants_fragment
from portal.web.request_actions import load_request


def require_roles(*roles: str) -> None:
    """403 unless the logged-in staff member holds one of ``roles``."""
    if not current_user.account.has_role(*roles):
        abort(403)


# --- contact reveal ------------------------------------------------------------------------------


class RevealForm(PortalForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(message=_l("Say why you need to see this contact.")),
            Length(
                min=privacy.REASON_MIN_LENGTH,
                max=1000,
                message=_l("Write the reason in a sentence (at least %(min)d characters)."),
            ),
        ],
    )


def _panel_context(session, sr, viewer, now, form=None) -> dict:
    if viewer.kind != "staff":
        return {}
    insider = privacy.staff_is_insider(session, sr.id, viewer.id)
    until = None if insider else privacy.active_reveal_until(session, sr.id, viewer.id, now)
    return {
        "privacy": {
            "number": sr.number,
            "insider": insider,
            "revealed_until": until,
            "can_reveal": not insider and viewer.has_role(*privacy.REVEAL_ROLES),
            "minutes": privacy.REVEAL_MINUTES,
            "form": form or RevealForm(),
        }
    }


@panels.provider("staff")
def privacy_panel(session, sr, viewer, now) -> dict:
    return _panel_context(session, sr, viewer, now)


@bp.post("/requests/<number>/reveal")
def reveal_contact(number: str):
    sr = load_request(number)
    require_roles(*privacy.REVEAL_ROLES)
    form = RevealForm()
    now = utcnow()
    viewer = current_user.account
    if form.validate_on_submit():
        try:
            privacy.reveal(db.session, actor(), sr, viewer, form.reason.data, now)
        except privacy.RevealRefused as exc:
            if exc.code == "not-supervisor":
                abort(403)
            form.reason.errors = [_("Write the reason in a sentence.")]
        else:
            db.session.commit()
            target = url_for("staff.request_detail", number=number)
            if wants_fragment():
                # the contact card and the rest of the page change: reload the page
                return "", 204, {"HX-Redirect": target}
            flash(
                _(
                    "The contact is shown to you until %(time)s. This reveal is audited.",
                    time=(now + timedelta(minutes=privacy.REVEAL_MINUTES))
                    .astimezone(ZoneInfo(current_app.config["PORTAL_TIMEZONE"]))
                    .strftime("%H:%M"),
                ),
                "success",
            )
            return redirect(target)
    ctx = _panel_context(db.session, sr, viewer, now, form)
    if wants_fragment():
        return render_template("staff/_privacy_panel.html", **ctx), 422
    flash(form.reason.errors[0] if form.reason.errors else _("Check the form."), "error")
    return redirect(url_for("staff.request_detail", number=number))
