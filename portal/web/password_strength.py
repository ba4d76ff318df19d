"""The strength meter beside a new-password field: an htmx fragment, posted (with the CSRF
header) as one types; it reads and never writes. On the account page the password is judged
against the logged-in person's name and address, on a password link's page against the link's
account."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from portal.db import db
from portal.models import utcnow
from portal.presentation.password_text import SCORE_TEXT, problem_messages
from portal.services import accounts, invitations
from portal.web.password_links import PURPOSE_OF_VERB

# the field's name on the account page (a prefixed form) and on a link's page
FIELDS = ("password-new_password", "new_password")


def strength_fragment(side: str):
    password = next((request.form[f] for f in FIELDS if f in request.form), "")
    link, verb = request.form.get("link", ""), request.form.get("verb", "")
    if link and verb in PURPOSE_OF_VERB:
        strength = invitations.link_password_strength(
            db.session, link, PURPOSE_OF_VERB[verb], password, now=utcnow(), kind=side
        )
    elif current_user.is_authenticated and current_user.kind == side:
        strength = accounts.password_strength(
            password, name=current_user.account.name, email=current_user.account.email
        )
    else:
        strength = accounts.password_strength(password, name=None, email=None)
    return (
        render_template(
            "password/_strength.html",
            typed=bool(password),
            strength=strength,
            score_text=SCORE_TEXT[strength.score],
            problems=problem_messages(strength.problems),
        ),
        200,
        {"Cache-Control": "no-store"},
    )
