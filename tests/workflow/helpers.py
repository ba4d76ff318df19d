"""Helpers of the workflow tests: reading panels and driving a request to a state."""

from __future__ import annotations

import re

HTMX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/staff/requests/x"}


def text(resp) -> str:
    return resp.get_data(as_text=True)


def panel(html: str, name: str) -> str | None:
    """The <section id="panel-NAME"> of a page or fragment, or None."""
    m = re.search(rf'<section[^>]*id="panel-{name}".*?</section>', html, re.S)
    return m.group(0) if m else None
