"""The login and logout views, one pair per side (separate pages, separate guards)."""

from __future__ import annotations

import math

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import limits
from portal.db import db
from portal.models import utcnow
from portal.services import login_lockout
from portal.web.auth import log_in, log_out
from portal.web.common import safe_next
from portal.web.forms import LoginForm


def login_view(kind: str, template: str, home_endpoint: str):
    if current_user.is_authenticated and current_user.kind == kind:
        return redirect(safe_next(request.args.get("next"), url_for(home_endpoint)))
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        # counted per account whichever identifier was typed, and per address; for unknown
        # identifiers too: the answer is the same whether or not the account exists
        result = login_lockout.attempt(
            db.session,
            limits.login_lockout(),
            kind,
            form.identifier.data,
            form.password.data,
            ip=limits.client_address(),
            now=utcnow(),
        )
        wait = result.retry_after
        if wait:
            db.session.commit()
            error = _(
                "Too many failed attempts. Please try again in %(minutes)d minutes.",
                minutes=max(1, math.ceil(wait / 60)),
            )
            status = 429
        elif result.account is None:
            db.session.commit()  # the lock's audit event, when this failure locked it
            error = _("The e-mail, mobile number or password is not correct.")
            status = 401
        else:
            log_in(result.account)
            return redirect(safe_next(request.args.get("next"), url_for(home_endpoint)))
    elif request.method == "POST":
        status = 400
    response = render_template(template, form=form, error=error)
    if status == 429:
        return response, status, {"Retry-After": str(wait)}
    return response, status


def logout_view(login_endpoint: str):
    log_out()
    flash(_("You have been logged out."), "info")
    return redirect(url_for(login_endpoint))
