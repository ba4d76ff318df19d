"""The notification settings page of either side (docs/product.md §9): per category, mail at
once, in a daily digest, or no mail. Each side's blueprint has two thin views calling these."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.db import db
from portal.domain.notice_kinds import CATEGORIES, MODES
from portal.models import utcnow
from portal.services import preferences
from portal.web.forms import PortalForm

TEMPLATE = "notification_settings.html"
FIELD_PREFIX = "mode-"

CATEGORY_LABELS = {
    "conversation": _l("Replies, questions and assignments"),
    "acceptance": _l("Delivery, acceptance and closing"),
    "feedback": _l("Feedback and ratings"),
    "sla": _l("Service times: warnings and escalations"),
    "measures": _l("Improvement measures"),
}
MODE_LABELS = {
    "instant": _l("Mail at once"),
    "digest": _l("Daily digest"),
    "off": _l("No mail"),
}


class SettingsForm(PortalForm):
    """The CSRF token; the choices are read from the posted ``mode-<category>`` fields."""


def _render(side: str, modes: dict[str, str], errors: dict[str, str], form_error=None, status=200):
    return render_template(
        TEMPLATE,
        side=side,
        form=SettingsForm(formdata=None),
        categories=[(c, CATEGORY_LABELS.get(c, c)) for c in CATEGORIES],
        modes=[(m, MODE_LABELS[m]) for m in MODES],
        chosen=modes,
        errors=errors,
        form_error=form_error,
    ), status


def settings_page(side: str):
    return _render(side, preferences.modes_for(db.session, current_user.account.id), {})


def save_settings(side: str, endpoint: str):
    account_id = current_user.account.id
    current = preferences.modes_for(db.session, account_id)
    form = SettingsForm()
    if not form.validate_on_submit():
        return _render(
            side, current, {}, _("The form has expired. Please reload the page and try again."), 400
        )
    posted = {
        key.removeprefix(FIELD_PREFIX): value
        for key, value in request.form.items()
        if key.startswith(FIELD_PREFIX)
    }
    try:
        preferences.save(db.session, account_id, posted, utcnow())
    except preferences.PreferenceError as exc:
        db.session.rollback()
        # keep what was chosen where it is valid; say what was wrong, write nothing
        shown = current | {c: m for c, m in posted.items() if c in current and m in MODES}
        if exc.code == "unknown-category":
            message = _("There is no notification category “%(name)s”.", name=exc.category[:40])
            return _render(side, shown, {}, message, 422)
        errors = {exc.category: _("Choose one of: mail at once, daily digest or no mail.")}
        return _render(side, shown, errors, _("Please correct the choice marked below."), 422)
    db.session.commit()
    flash(_("Your notification settings have been saved."), "success")
    return redirect(url_for(endpoint))
