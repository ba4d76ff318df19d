"""The vague-phrase list (模糊表述, docs/product.md §6) at ``/staff/admin/vague-phrases``: per
language, the built-in phrases (portal.domain.record_quality) and the admin's own; add one,
remove one (a built-in phrase is hidden, and can be put back), and try a sentence against the
check that steps, final results and deliverables go through. Supervisors read it and try
sentences; admins change it (portal.services.record_quality)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length

from portal.db import db
from portal.models import utcnow
from portal.services import record_quality
from portal.staff.admin import bp, may_change, require_admin
from portal.web.auth import actor
from portal.web.forms import TOO_LONG, PortalForm

LANGUAGE_LABELS = {"zh_CN": _l("Chinese"), "en": _l("English")}
SENTENCE_MAX = 2000
PHRASE_ERRORS = {
    "empty": _l("Write the phrase."),
    "too-long": _l("At most %(max)d characters.", max=record_quality.PHRASE_MAX),
    "duplicate": _l("This phrase is on the list already."),
    "language": _l("Choose a language."),
    "unknown": _l("This phrase is not on the list."),
}


class AddPhraseForm(PortalForm):
    locale = SelectField(
        _l("Language"),
        choices=[SelectChoice(k, v) for k, v in LANGUAGE_LABELS.items()],
    )
    phrase = StringField(
        _l("Phrase"),
        validators=[
            DataRequired(message=PHRASE_ERRORS["empty"]),
            Length(max=record_quality.PHRASE_MAX, message=TOO_LONG),
        ],
    )


class PhraseForm(PortalForm):
    """One phrase of the list, for its remove or restore button."""

    locale = HiddenField(validators=[DataRequired()])
    phrase = HiddenField(validators=[DataRequired(), Length(max=record_quality.PHRASE_MAX)])


def _page(status: int = 200, add_form=None, error: str | None = None):
    sentence = request.args.get("sentence", "")
    checked = None
    if sentence.strip():
        checked = record_quality.try_sentence(db.session, sentence[:SENTENCE_MAX])
    return render_template(
        "staff/admin/vague_phrases.html",
        lists=record_quality.phrase_list(db.session),
        languages=LANGUAGE_LABELS,
        add_form=add_form or AddPhraseForm(formdata=None),
        sentence=sentence[:SENTENCE_MAX],
        sentence_max=SENTENCE_MAX,
        checked=checked,
        error=error,
        may_change=may_change(),
    ), status


@bp.get("/vague-phrases", endpoint="vague_phrases")
def admin_vague_phrases():
    return _page()


@bp.post("/vague-phrases", endpoint="vague_phrase_add")
def admin_vague_phrase_add():
    require_admin()
    form = AddPhraseForm()
    if not form.validate_on_submit():
        return _page(422, add_form=form)
    try:
        record_quality.add_phrase(db.session, actor(), utcnow(), form.locale.data, form.phrase.data)
    except record_quality.PhraseError as exc:
        db.session.rollback()
        field = form.locale if exc.code == "language" else form.phrase
        field.errors = [PHRASE_ERRORS[exc.code]]
        return _page(422, add_form=form)
    db.session.commit()
    flash(_("“%(phrase)s” is on the list.", phrase=form.phrase.data.strip()), "success")
    return redirect(url_for("staff.admin.vague_phrases"))


@bp.post("/vague-phrases/remove", endpoint="vague_phrase_remove")
def admin_vague_phrase_remove():
    require_admin()
    form = PhraseForm()
    if not form.validate_on_submit():
        message = next(iter(form.errors.values()))[0] if form.errors else None
        return _page(422, error=message or PHRASE_ERRORS["unknown"])
    try:
        record_quality.remove_phrase(
            db.session, actor(), utcnow(), form.locale.data, form.phrase.data
        )
    except record_quality.PhraseError as exc:
        db.session.rollback()
        return _page(422, error=PHRASE_ERRORS[exc.code])
    db.session.commit()
    flash(_("“%(phrase)s” is off the list.", phrase=form.phrase.data.strip()), "success")
    return redirect(url_for("staff.admin.vague_phrases"))
