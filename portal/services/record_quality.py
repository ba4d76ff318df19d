"""Record quality on the database: the vague phrases are the domain's defaults plus the admin's
VaguePhrase rows; the message tells the writer what to write instead, in their language."""

from __future__ import annotations

from flask import current_app, has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import record_quality
from portal.models import VaguePhrase


def phrases(session: Session) -> set[str]:
    """Every vague phrase in force, of every language (a Chinese record may say only "ok")."""
    merged = {p for group in record_quality.DEFAULT_PHRASES.values() for p in group}
    merged.update(session.scalars(select(VaguePhrase.phrase)))
    return merged


def message(problem: record_quality.Problem) -> str:
    example = _(
        "Describe the concrete operation and its result, e.g. “Restarted the database service; "
        "users can log in again.”"
    )
    if problem.code == "empty":
        return _("This cannot be empty.") + " " + example
    if problem.code == "vague":
        if problem.phrase:
            return (
                _("“%(phrase)s” alone does not say what was done.", phrase=problem.phrase)
                + " "
                + example
            )
        return _("This does not say what was done.") + " " + example
    return _("This is too short for someone else to reproduce.") + " " + example


def check_text(session: Session, text: str | None, locale: str | None = None) -> str | None:
    """None when ``text`` is a concrete record; else the message to show, in ``locale`` (or
    the current language). For steps, final results and deliverables."""
    problem = record_quality.check(text, phrases(session))
    if problem is None:
        return None
    if locale is None and not has_request_context():
        # a job or a script: no reader, the desk's default language
        locale = current_app.config.get("BABEL_DEFAULT_LOCALE", "en")
    if locale:
        with force_locale(locale):
            return message(problem)
    return message(problem)
