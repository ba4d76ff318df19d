"""What the two sides' delivery and feedback forms share: the three scores and suggestions of
the feedback form (客户反馈表, FB) and their submission, the typed name that signs, and the
words for the services' refusals (portal.services.delivery.InvalidInput), shown on the fields
they concern."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from portal.db import db
from portal.domain import feedback as feedback_rules
from portal.domain.ids import MAX_ID
from portal.models import Feedback
from portal.services import feedback as feedback_service
from portal.services.delivery import InvalidInput
from portal.web.auth import actor
from portal.web.forms import TOO_LONG, PortalForm


def optional_int(value) -> int | None:
    """A submitted number, or None for nothing or something else."""
    if value in (None, "", "None"):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if abs(number) <= MAX_ID else None  # beyond any id: none of them


SCORE_CHOICES = [SelectChoice(str(n), str(n)) for n in feedback_rules.SCORES]
CHOOSE_A_SCORE = _l("Choose a score from 1 to 5.")


def _score(label) -> RadioField:
    return RadioField(
        label,
        choices=SCORE_CHOICES,
        coerce=optional_int,
        validators=[InputRequired(message=CHOOSE_A_SCORE)],
    )


class FeedbackForm(PortalForm):
    """The feedback form's scores (响应及时性 / 处理效果 / 服务态度) and suggestions: what the
    customer gives in the portal and an agent records from a call."""

    # service problem keys → this form's fields (see apply_problems)
    problem_fields = {d: f"score_{d}" for d in feedback_rules.DIMENSIONS}

    score_response = _score(_l("Response timeliness"))
    score_effect = _score(_l("Handling effect"))
    score_attitude = _score(_l("Service attitude"))
    suggestions = TextAreaField(
        _l("Suggestions"), validators=[Optional(), Length(max=5000, message=TOO_LONG)]
    )


def submit_feedback(sr, form: FeedbackForm, now: datetime, **more) -> Feedback:
    """The current user's feedback on ``sr`` from ``form`` (portal.services.feedback.give,
    ``more``: what staff record besides); the caller commits."""
    return feedback_service.give(
        db.session,
        actor(),
        current_user.account,
        sr,
        now,
        current_app.config["PORTAL_TIMEZONE"],
        scores={d: form[f"score_{d}"].data for d in feedback_rules.DIMENSIONS},
        suggestions=form.suggestions.data or "",
        **more,
    )


def typed_name_field(label) -> StringField:
    """The name typed to sign a delivery: it signs alone (a drawn signature is optional)."""
    return StringField(
        label,
        validators=[
            InputRequired(message=_l("Type your name to sign.")),
            Length(max=100, message=TOO_LONG),
        ],
    )


# the words for the codes the services raise, by (problem key, code)
PROBLEMS = {
    # delivering
    ("service_item", "missing"): _l("Name the service item."),
    ("items", "missing"): _l("List at least one deliverable, one per line."),
    ("items", "too-many"): _l("At most 50 lines."),
    ("criteria", "missing"): _l("List at least one acceptance criterion, one per line."),
    ("criteria", "too-many"): _l("At most 50 lines."),
    # accepting
    ("result", "missing"): _l("Choose whether the delivery passes or fails."),
    ("criteria", "unmet-on-pass"): _l(
        "To pass, every criterion must be met: check them all, or choose fail and say what is "
        "missing."
    ),
    ("unmet_items", "missing"): _l(
        "Say what is not met: leave its criterion unchecked or describe it here."
    ),
    ("rectification", "missing"): _l("Say what you ask to be rectified."),
    # signing (the customer's acceptance, the handler's countersignature)
    ("typed_name", "missing"): _l("Type your name to sign."),
    ("signature", "format"): _l(
        "The drawn signature could not be read: clear it and draw again, or sign with your "
        "typed name alone."
    ),
    ("signature", "size"): _l("The drawn signature is too large: clear it and draw again."),
    ("form", "already-signed"): _l("This delivery has been countersigned already."),
    # feedback and improvement measures
    **{
        (d, code): CHOOSE_A_SCORE
        for d in feedback_rules.DIMENSIONS
        for code in ("missing", "range")
    },
    ("channel", "missing"): _l("Choose how the rating was given."),
    ("measure", "missing"): _l("Describe the measure."),
    ("measure_owner", "missing"): _l("Choose the owner of the measure."),
    ("measure_owner", "unknown"): _l("Choose the owner of the measure."),
    ("measure_deadline", "missing"): _l("Give the measure a deadline."),
    ("measure_deadline", "past"): _l("The deadline cannot be in the past."),
}


def apply_problems(form: FlaskForm, exc: InvalidInput) -> None:
    """Show a service's refusal on the form's fields: a problem key names a field of the form
    itself or through the form's ``problem_fields``; a problem on no field goes on the form as
    a whole. Messages already worded (``exc.details``) are shown as they are."""
    fields = getattr(form, "problem_fields", {})
    for key, code in exc.problems.items():
        message = str(PROBLEMS.get((key, code), _("Please check this field.")))
        _add_error(form, fields.get(key, key), message)
    for key, messages in exc.details.items():
        for message in messages:
            _add_error(form, fields.get(key, key), message)


def _add_error(form: FlaskForm, name: str, message: str) -> None:
    fld = form._fields.get(name)
    if fld is None:
        form.form_errors.append(message)
    else:
        fld.errors = [*fld.errors, message] if isinstance(fld.errors, list) else [message]
