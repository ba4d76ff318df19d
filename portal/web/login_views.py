"""The login and logout views, one pair per side (separate pages, separate guards)."""

from __future__ import annotations

import math

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.db import db
from portal.queue import redis_conn
from portal.security import LoginThrottle
from portal.services import accounts
from portal.web.auth import log_in, log_out
from portal.web.common import safe_next
from portal.web.forms import LoginForm


def _throttle() -> LoginThrottle:
    return LoginThrottle(redis_conn(), **current_app.config["LOGIN_THROTTLE"])


def login_view(kind: str, template: str, home_endpoint: str):
    if current_user.is_authenticated and current_user.kind == kind:
        return redirect(safe_next(request.args.get("next"), url_for(home_endpoint)))
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        ip = request.remote_addr or "-"
        identity = form.identifier.data
        throttle = _throttle()
        # checked before the password, and counted for unknown identities too: the answer is
        # the same whether or not the account exists
        wait = throttle.retry_after(kind, identity, ip)
        if wait:
            error = _(
                "Too many failed attempts. Please try again in %(minutes)d minutes.",
                minutes=max(1, math.ceil(wait / 60)),
            )
            status = 429
        else:
            account = accounts.authenticate(db.session, kind, identity, form.password.data)
            if account is None:
                throttle.failed(kind, identity, ip)
                error = _("The e-mail, mobile number or password is not correct.")
                status = 401
            else:
                throttle.succeeded(kind, identity, ip)
                log_in(account)
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
