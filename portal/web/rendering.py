"""Page-or-fragment: a page includes its fragment; an htmx request gets the fragment alone.
Also the redirect that reloads the whole page."""

from __future__ import annotations

from flask import redirect, render_template

from portal.extensions import htmx


def wants_fragment() -> bool:
    """An htmx request for part of a page: not a boosted navigation, and not a history restore
    (htmx 2 sends HX-Request on a history cache miss and then needs the whole page)."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def page_or_fragment(page: str, fragment: str, **context) -> str:
    """Render ``fragment`` for an htmx request that targets it, ``page`` otherwise."""
    if wants_fragment():
        return render_template(fragment, **context)
    return render_template(page, **context)


def redirect_whole_page(target: str):
    """A redirect after which the browser loads a whole new document, as after a language
    change. An htmx (boosted) request would follow a plain redirect and swap in the new body
    only, keeping the old page's ``<html lang>`` and head; ``HX-Redirect`` makes htmx navigate."""
    if htmx:
        return "", 204, {"HX-Redirect": target}
    return redirect(target)
