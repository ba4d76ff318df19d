"""Page-or-fragment: a page includes its fragment; an htmx request gets the fragment alone."""

from __future__ import annotations

from flask import render_template

from portal.extensions import htmx


def page_or_fragment(page: str, fragment: str, **context) -> str:
    """Render ``fragment`` for an htmx request that targets it, ``page`` otherwise."""
    if htmx and not htmx.boosted:
        return render_template(fragment, **context)
    return render_template(page, **context)
