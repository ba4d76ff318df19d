"""The account page of either side: name, language, password, active sessions.

Each side's blueprint has thin views that call these with its own template and endpoints.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, session, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.db import db
from portal.models import utcnow
from portal.presentation.password_text import problem_messages
from portal.services import accounts
from portal.web.auth import actor, end_browser_session, renew_login, session_rules
from portal.web.forms import TOO_LONG, PortalForm

LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


class ProfileForm(PortalForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(message=_l("Please enter your name.")), Length(max=100)],
    )
    locale = SelectField(_l("Language"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.locale.choices = [
            (code, LANGUAGE_NAMES.get(code, code)) for code in current_app.config["LANGUAGES"]
        ]


class PasswordForm(PortalForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[
            DataRequired(message=_l("Please enter your current password.")),
            Length(max=200),
        ],
    )
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
            EqualTo("new_password", message=_l("The two new passwords are not the same.")),
        ],
    )


class LogoutEverywhereForm(PortalForm):
    """Only the CSRF token."""


class EndSessionForm(PortalForm):
    """ "End" on one row of the sessions list: which session (its id, sent in the body)."""

    session_id = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])


PASSWORD_ERRORS = {
    "current-password": ("current_password", _l("The current password is not correct.")),
    "same-as-current": ("new_password", _l("Choose a password different from the current one.")),
    "name-required": ("name", _l("Please enter your name.")),
}


def _current_language() -> str:
    languages = current_app.config["LANGUAGES"]
    chosen = current_user.account.locale or session.get("locale")
    if chosen in languages:
        return chosen
    shown = str(get_locale() or "")
    return "zh_CN" if shown.startswith("zh") and "zh_CN" in languages else languages[-1]


def _page(template: str, side: str, profile=None, password=None, status: int = 200):
    account = current_user.account
    profile = profile or ProfileForm(
        prefix="profile",
        formdata=None,
        data={"name": account.name, "locale": _current_language()},
    )
    password = password or PasswordForm(prefix="password", formdata=None)
    sessions = accounts.active_sessions(db.session, account.id, utcnow(), session_rules())
    return render_template(
        template,
        side=side,
        profile_form=profile,
        password_form=password,
        logout_form=LogoutEverywhereForm(prefix="everywhere"),
        end_form=EndSessionForm(prefix="end", formdata=None),
        sessions=sessions,
        current_session_id=current_user.session_id,
        min_password_length=accounts.MIN_PASSWORD_LENGTH,
    ), status


def _add_error(form: FlaskForm, exc: accounts.AccountError) -> None:
    if isinstance(exc, accounts.PasswordRefused):
        form.new_password.errors = [*form.new_password.errors, *problem_messages(exc.problems)]
        return
    field_name, message = PASSWORD_ERRORS[str(exc)]
    field = getattr(form, field_name)
    field.errors = [*field.errors, str(message)]


def account_page(template: str, side: str):
    return _page(template, side)


def update_profile(template: str, side: str, account_endpoint: str):
    form = ProfileForm(prefix="profile")
    if not form.validate_on_submit():
        return _page(template, side, profile=form, status=422)
    try:
        accounts.update_profile(
            db.session,
            actor(),
            current_user.account,
            utcnow(),
            name=form.name.data,
            locale=form.locale.data,
        )
    except accounts.AccountError as exc:
        db.session.rollback()
        _add_error(form, exc)
        return _page(template, side, profile=form, status=422)
    db.session.commit()
    session["locale"] = form.locale.data
    flash(_("Your account has been saved."), "success")
    return redirect(url_for(account_endpoint))


def change_password(template: str, side: str, account_endpoint: str):
    form = PasswordForm(prefix="password")
    if not form.validate_on_submit():
        return _page(template, side, password=form, status=422)
    try:
        ended = accounts.change_password(
            db.session,
            current_user.account,
            form.current_password.data,
            form.new_password.data,
            utcnow(),
            current_session=current_user.token,
            actor=actor(),
        )
    except accounts.AccountError as exc:
        db.session.rollback()
        _add_error(form, exc)
        return _page(template, side, password=form, status=422)
    # this browser goes on with a new session; the old token is refused from now on
    renew_login(current_user.account, "password_changed")
    db.session.commit()
    if ended:
        message = ngettext(
            "Your password has been changed. You were logged out on %(num)d other device.",
            "Your password has been changed. You were logged out on %(num)d other devices.",
            ended,
        )
    else:
        message = _("Your password has been changed.")
    flash(message, "success")
    return redirect(url_for(account_endpoint))


def log_out_everywhere(template: str, side: str, login_endpoint: str):
    form = LogoutEverywhereForm(prefix="everywhere")
    if not form.validate_on_submit():
        return _page(template, side, status=400)
    accounts.log_out_everywhere(db.session, actor(), current_user.account, utcnow())
    db.session.commit()
    end_browser_session()
    flash(_("You have been logged out on every device."), "info")
    return redirect(url_for(login_endpoint))


def end_session(template: str, side: str, account_endpoint: str, login_endpoint: str):
    form = EndSessionForm(prefix="end")
    if not form.validate_on_submit():
        return _page(template, side, status=400)
    this_one = form.session_id.data == current_user.session_id
    if not accounts.end_session(
        db.session, actor(), current_user.account, form.session_id.data, utcnow()
    ):
        db.session.rollback()
        flash(_("That session has ended already."), "info")
        return redirect(url_for(account_endpoint))
    db.session.commit()
    if this_one:
        end_browser_session()
        flash(_("You have been logged out."), "info")
        return redirect(url_for(login_endpoint))
    flash(_("The session has been ended."), "success")
    return redirect(url_for(account_endpoint))
