"""Control characters (portal.domain.characters) stop at the edge, before any view reads them.

- In the address (path, query names and values): a 400 page that says so, with a link to the
  same address without them.
- In a form field: taken out of the form before any view reads it, and the field's name kept on
  ``g``. Every form (``PortalForm``) refuses such a field with an error beside it, so the page
  comes back with what was typed (less those characters) and nothing saved. Whatever reads the
  form without a form cannot save either: the request may not commit, it gets a 400 page.
- In an upload's file name: taken out; the file keeps its content and a clean name.

So nothing with a NUL reaches the database (PostgreSQL cannot store one in text) on any path.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from flask import Flask, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import BadRequest

from portal.domain.characters import has_control_characters, without_control_characters

_REMOVED = "control_characters_removed"


class ControlCharacters(BadRequest):
    """Refused: the address had control characters (``retry_url``: the same address without
    them, for a page), or a form's did and something tried to save it."""

    def __init__(self, *, in_address: bool, retry_url: str | None = None) -> None:
        super().__init__()
        self.in_address = in_address
        self.retry_url = retry_url


def removed_fields() -> frozenset[str]:
    """The names of this request's form fields that arrived with control characters."""
    return g.get(_REMOVED, frozenset()) if has_request_context() else frozenset()


def _address_without_them() -> str:
    path = quote(without_control_characters(request.script_root + request.path), safe="/")
    query = urlencode(
        [
            (without_control_characters(k), without_control_characters(v))
            for k, v in request.args.items(multi=True)
        ]
    )
    return path + (f"?{query}" if query else "")


def _any_in_json(value) -> bool:
    if isinstance(value, str):
        return has_control_characters(value)
    if isinstance(value, dict):
        return any(_any_in_json(k) or _any_in_json(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_any_in_json(v) for v in value)
    return False


def _screen() -> None:
    args = request.args.items(multi=True)
    if has_control_characters(request.path) or any(
        has_control_characters(k) or has_control_characters(v) for k, v in args
    ):
        page = request.method in ("GET", "HEAD")
        raise ControlCharacters(
            in_address=True, retry_url=_address_without_them() if page else None
        )
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.is_json and _any_in_json(request.get_json(silent=True)):
        raise ControlCharacters(in_address=False)  # no page sends JSON: nothing to show again
    form = request.form
    pairs = list(form.items(multi=True))
    removed = {
        without_control_characters(k)
        for k, v in pairs
        if has_control_characters(k) or has_control_characters(v)
    }
    if removed:
        request.form = ImmutableMultiDict(
            [(without_control_characters(k), without_control_characters(v)) for k, v in pairs]
        )
        request.__dict__.pop("values", None)  # combined from the form: rebuilt from the new one
        setattr(g, _REMOVED, frozenset(removed))
    for _name, upload in request.files.items(multi=True):
        if has_control_characters(upload.filename):
            upload.filename = without_control_characters(upload.filename)


def _no_commit_after_removal(session: Session) -> None:
    # a savepoint's release is not a commit: the outer transaction still ends in a rollback
    if removed_fields() and not session.in_nested_transaction():
        raise ControlCharacters(in_address=False)


def init_app(app: Flask) -> None:
    """Register after the hook that sets ``g.request_id`` (the 400 page quotes it)."""
    app.before_request(_screen)
    # the address a page posts back to (the language switch) without them
    app.add_template_filter(without_control_characters, "without_control_characters")
    if not event.contains(Session, "before_commit", _no_commit_after_removal):
        event.listen(Session, "before_commit", _no_commit_after_removal)
