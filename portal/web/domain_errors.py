"""Domain errors in the reader's language: a refused transition is a clear message, never a 500."""

from __future__ import annotations

from flask_babel import gettext as _

from portal.domain.lifecycle import TransitionError
from portal.presentation.labels import STATUS_LABELS


def transition_message(exc: TransitionError) -> str:
    if exc.code == "wrong-state":
        return _(
            "This request is not in a state for that (currently: %(status)s).",
            status=STATUS_LABELS.get(exc.status, exc.status),
        )
    if exc.code == "not-allowed":
        return _("You may not do that on this request.")
    return _("That action is not known.")
