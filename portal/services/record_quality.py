"""Record quality on the database: the vague phrases are the domain's defaults, less those the
admin removed (a VaguePhrase row marked ``removed`` hides a built-in phrase of its language),
plus the admin's own VaguePhrase rows; the message tells the writer what to write instead, in
their language. The list is administered at /staff/admin/vague-phrases (``phrase_list``,
``add_phrase``, ``remove_phrase``, ``try_sentence``), every change audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import record_quality
from portal.models import VaguePhrase
from portal.services import audit


def phrases(session: Session) -> set[str]:
    """Every vague phrase in force, of every language (a Chinese record may say only "ok"):
    the built-in ones not removed for their language, and the admin's own. One query."""
    rows = session.execute(
        select(VaguePhrase.phrase, VaguePhrase.locale, VaguePhrase.removed)
    ).all()
    removed = {
        (language_of(locale), record_quality.normalise(phrase))
        for phrase, locale, gone in rows
        if gone
    }
    merged = {
        p
        for lang, group in record_quality.DEFAULT_PHRASES.items()
        for p in group
        if (lang, record_quality.normalise(p)) not in removed
    }
    merged.update(phrase for phrase, _locale, gone in rows if not gone)
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


# --- the phrase list, administered at /staff/admin/vague-phrases ------------------------------

# the languages of the list: the stored locale, and the domain's key for its built-in phrases
LANGUAGES = ("zh_CN", "en")
PHRASE_MAX = 60  # VaguePhrase.phrase


def language_of(locale: str) -> str:
    """The domain's key ("zh" / "en") for a stored locale ("zh_CN", "zh", "en")."""
    return "zh" if (locale or "").lower().startswith("zh") else "en"


class PhraseError(ValueError):
    """A refused change to the list: ``code`` is empty, too-long, duplicate, language or
    unknown."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class PhraseEntry:
    phrase: str
    builtin: bool  # one of the domain's defaults
    removed: bool  # a built-in phrase the admin took off the list


def phrase_list(session: Session) -> dict[str, list[PhraseEntry]]:
    """Per language: the built-in phrases (removed ones marked) then the admin's own, in one
    query."""
    rows = session.scalars(select(VaguePhrase).order_by(VaguePhrase.id)).all()
    out: dict[str, list[PhraseEntry]] = {}
    for locale in LANGUAGES:
        lang = language_of(locale)
        mine = [r for r in rows if language_of(r.locale) == lang]
        removed = {record_quality.normalise(r.phrase) for r in mine if r.removed}
        builtin = record_quality.DEFAULT_PHRASES.get(lang, ())
        known = {record_quality.normalise(p) for p in builtin}
        out[locale] = [
            PhraseEntry(p, True, record_quality.normalise(p) in removed) for p in builtin
        ] + [
            PhraseEntry(r.phrase, False, False)
            for r in mine
            if not r.removed and record_quality.normalise(r.phrase) not in known
        ]
    return out


def _clean(locale: str, phrase: str) -> tuple[str, str]:
    if locale not in LANGUAGES:
        raise PhraseError("language")
    phrase = " ".join((phrase or "").split())
    if not record_quality.normalise(phrase):
        raise PhraseError("empty")
    if len(phrase) > PHRASE_MAX:
        raise PhraseError("too-long")
    return locale, phrase


def _rows_of(session: Session, locale: str, phrase: str) -> list[VaguePhrase]:
    """The admin's rows for ``phrase`` in the language of ``locale`` (any spelling that
    normalises the same)."""
    lang, norm = language_of(locale), record_quality.normalise(phrase)
    return [
        r
        for r in session.scalars(select(VaguePhrase))
        if language_of(r.locale) == lang and record_quality.normalise(r.phrase) == norm
    ]


def _is_builtin(locale: str, phrase: str) -> bool:
    norm = record_quality.normalise(phrase)
    return any(
        record_quality.normalise(p) == norm
        for p in record_quality.DEFAULT_PHRASES.get(language_of(locale), ())
    )


def add_phrase(session: Session, actor: audit.Actor, now: datetime, locale: str, phrase: str):
    """Put ``phrase`` on the list of ``locale``'s language; a removed built-in phrase comes
    back. Refused when it is on the list already. Audited ``vague_phrase.added``."""
    locale, phrase = _clean(locale, phrase)
    rows = _rows_of(session, locale, phrase)
    if _is_builtin(locale, phrase):
        hiding = [r for r in rows if r.removed]
        if not hiding:
            raise PhraseError("duplicate")
        for r in hiding:
            session.delete(r)
    elif rows:
        raise PhraseError("duplicate")
    else:
        session.add(VaguePhrase(phrase=phrase, locale=locale, removed=False))
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "vague_phrase.added",
        "vague_phrase",
        phrase,
        after={"phrase": phrase, "language": locale},
    )


def remove_phrase(session: Session, actor: audit.Actor, now: datetime, locale: str, phrase: str):
    """Take ``phrase`` off the list: the admin's own row goes; a built-in phrase is hidden by a
    row marked removed. Audited ``vague_phrase.removed``."""
    locale, phrase = _clean(locale, phrase)
    rows = _rows_of(session, locale, phrase)
    if _is_builtin(locale, phrase):
        if any(r.removed for r in rows):
            raise PhraseError("unknown")
        for r in rows:
            session.delete(r)
        session.flush()
        session.add(VaguePhrase(phrase=phrase, locale=locale, removed=True))
    elif rows:
        for r in rows:
            session.delete(r)
    else:
        raise PhraseError("unknown")
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "vague_phrase.removed",
        "vague_phrase",
        phrase,
        before={"phrase": phrase, "language": locale},
    )


@dataclass(frozen=True)
class SentenceCheck:
    """What the "test a sentence" box says: whether ``text`` would be refused, and why."""

    text: str
    problem: record_quality.Problem | None
    message: str | None  # what the writer would be told (None: accepted)


def try_sentence(session: Session, text: str) -> SentenceCheck:
    """The check a step, a final result or a deliverable goes through, on the list in force."""
    problem = record_quality.check(text, phrases(session))
    return SentenceCheck(text, problem, message(problem) if problem else None)
