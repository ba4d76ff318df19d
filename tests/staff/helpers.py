"""Reading what a staff member sees in the queue."""

from __future__ import annotations

import html
import re

ROW_NUMBER = re.compile(r'class="col-number"><a [^>]*>([^<]+)</a>')


def numbers(resp) -> list[str]:
    """The request numbers in the queue table, top to bottom."""
    assert resp.status_code == 200, resp.status_code
    return ROW_NUMBER.findall(resp.get_data(as_text=True))


def link(resp, rel: str) -> str | None:
    """The href of the pager link with this rel (next, prev, first), or None."""
    m = re.search(r'<a href="([^"]+)"[^>]*rel="' + rel + '"', resp.get_data(as_text=True))
    return html.unescape(m.group(1)) if m else None


def view_counts(resp) -> dict[str, str]:
    text = resp.get_data(as_text=True)
    return dict(re.findall(r'data-view="(\w+)">([^<]*)<', text))
