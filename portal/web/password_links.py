""" "Forgot password?" and the pages behind the mailed links, the same on both sides.

Each side's blueprint has thin views that call these with its side name. The answer to a
reset request is the same page whether or not the address belongs to an account. A link is
checked on GET (nothing written) and used on POST; after setting the password the person logs
in again on the login page, and every session the account had is over.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from portal.db import db
from portal.models import utcnow
from portal.presentation.password_text import problem_messages
from portal.services import accounts, invitations
from portal.web.auth import end_browser_session
from portal.web.forms import TOO_LONG, PortalForm

PURPOSE_OF_VERB = {"set": invitations.INVITATION, "reset": invitations.RESET}


class ForgotPasswordForm(PortalForm):
    email = StringField(
        _l("E-mail"),
        validators=[
            DataRequired(message=_l("Enter the e-mail address of your account.")),
            Length(max=254, message=TOO_LONG),
            Email(message=_l("Enter an e-mail address such as name@example.com.")),
        ],
    )


class SetPasswordForm(PortalForm):
    new_password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(message=_l("Please enter a new password.")),
            # the rest of the policy (portal/domain/password_policy.py) by the service
            Length(max=200, message=TOO_LONG),
        ],
    )
    repeat_password = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(message=_l("Please repeat the new password.")),
            Length(max=200, message=TOO_LONG),
            EqualTo("new_password", message=_l("The two new passwords are not the same.")),
        ],
    )


def _no_store(response, status: int):
    # pages reached through a secret link: never kept by a cache
    return response, status, {"Cache-Control": "no-store"}


def forgot(side: str):
    form = ForgotPasswordForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return _no_store(render_template("password/forgot.html", side=side, form=form), 422)
        invitations.reset_requested(
            db.session, form.email.data, side, now=utcnow(), ip=request.remote_addr or "-"
        )
        db.session.commit()
        # the same page, status and words whether or not the address has an account
        minutes = int(invitations.max_age(invitations.RESET).total_seconds() // 60)
        return _no_store(render_template("password/sent.html", side=side, minutes=minutes), 200)
    return _no_store(render_template("password/forgot.html", side=side, form=form), 200)


def _link_error(side: str, exc: invitations.LinkError):
    expired = isinstance(exc, invitations.LinkExpired)
    return _no_store(render_template("password/link_error.html", side=side, expired=expired), 410)


def set_password(side: str, verb: str, token: str):
    purpose = PURPOSE_OF_VERB[verb]
    now = utcnow()
    try:
        invitations.check(db.session, token, purpose, now=now, kind=side)
    except invitations.LinkError as exc:
        return _link_error(side, exc)
    form = SetPasswordForm()
    context = {
        "side": side,
        "form": form,
        "invitation": purpose == invitations.INVITATION,
        "token": token,
        "verb": verb,
        "min_password_length": accounts.MIN_PASSWORD_LENGTH,
    }
    if request.method == "GET":
        return _no_store(render_template("password/set.html", **context), 200)
    if not form.validate_on_submit():
        return _no_store(render_template("password/set.html", **context), 422)
    try:
        invitations.redeem(
            db.session,
            token,
            purpose,
            form.new_password.data,
            now=now,
            ip=request.remote_addr,
            kind=side,
        )
    except invitations.LinkError as exc:
        db.session.rollback()
        return _link_error(side, exc)
    except accounts.PasswordRefused as exc:
        db.session.rollback()
        form.new_password.errors = [*form.new_password.errors, *problem_messages(exc.problems)]
        return _no_store(render_template("password/set.html", **context), 422)
    db.session.commit()
    if current_user.is_authenticated:
        # whoever was logged in in this browser: that session has ended with all the others
        end_browser_session()
    flash(_("Your password has been set. Log in with it."), "success")
    return redirect(url_for(f"{side}.login"))
