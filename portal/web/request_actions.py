"""The one guard in front of every staff action on a request (workflow and delivery routes).

Order, for every POST on ``/staff/requests/<number>/…``:

1. the request is loaded: an unknown number is 404;
2. who the viewer is to it (``portal.services.lifecycle.capacities``) is compared with who may
   take the action at all (``TRANSITIONS[action].allowed``), whatever the request's state: a
   staff member who could never take it here gets 403, before the form is read or anything else
   is looked up (from a panel: the message and the page again, see ``forbidden``);
3. only then the state: someone who may take the action, but not now, is told so in the panel
   (``state_refusal`` gives the TransitionError whose message the panel shows, 422);
4. then the form is validated and the service runs (it checks the transition again).

Routes that are not lifecycle actions (improvement measures) use ``require_roles``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NoReturn

from flask import abort, flash, make_response, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import escape
from sqlalchemy import select

from portal.db import db
from portal.domain import lifecycle
from portal.models import ServiceRequest
from portal.services import lifecycle as lifecycle_service
from portal.web.rendering import wants_fragment


@dataclass(frozen=True)
class Authorized:
    """A request the current staff member may act on with one of ``actions``."""

    sr: ServiceRequest
    caps: frozenset[str]
    actions: tuple[str, ...]

    def state_refusal(self) -> lifecycle.TransitionError | None:
        """Why none of the actions can be taken in the request's current state, or None."""
        if lifecycle.allowed_actions(self.sr.status, self.caps) & set(self.actions):
            return None
        return lifecycle.TransitionError("wrong-state", self.actions[0], self.sr.status)


def load_request(number: str) -> ServiceRequest:
    """The request with this number, or 404."""
    sr = db.session.scalar(select(ServiceRequest).where(ServiceRequest.number == number))
    if sr is None:
        abort(404)
    return sr


def allowed_for(actions: Iterable[str]) -> frozenset[str]:
    """Every capacity that may take at least one of ``actions`` (in some state)."""
    allowed: set[str] = set()
    for action in actions:
        allowed |= lifecycle.TRANSITIONS[action].allowed
    return frozenset(allowed)


def authorize(number: str, *actions: str) -> Authorized:
    """Load the request (404) and refuse (403) a viewer who may never take any of ``actions``
    on it. The state is not looked at here: see ``Authorized.state_refusal``."""
    if not actions:
        raise ValueError("authorize() needs at least one lifecycle action")
    allowed = allowed_for(actions)  # an unknown action is a programming error (KeyError)
    sr = load_request(number)
    caps = frozenset(lifecycle_service.capacities(db.session, sr, current_user.account))
    if not caps & allowed:
        forbidden(sr)
    return Authorized(sr, caps, actions)


def forbidden(sr: ServiceRequest) -> NoReturn:
    """403. From a panel (htmx), whose 403 would not be swapped in: the message, and the whole
    request page again (``HX-Redirect``, as for an expired login) showing it and the panels
    this viewer really has. A plain POST gets the 403 page."""
    if not wants_fragment():
        abort(403)
    message = _("You may not do that on this request.")
    flash(message, "error")
    response = make_response(f'<p class="form-error" role="alert">{escape(message)}</p>', 403)
    response.headers["HX-Redirect"] = url_for("staff.request_detail", number=sr.number)
    abort(response)


def require_roles(roles: Iterable[str], sr: ServiceRequest | None = None) -> None:
    """403 unless the current staff member holds one of ``roles`` (for actions that are not
    lifecycle transitions; ``sr``: the request the action is on, for the htmx answer)."""
    account = current_user.account
    if account.kind != "staff" or not set(account.role_names) & set(roles):
        if sr is None:
            abort(403)
        forbidden(sr)
