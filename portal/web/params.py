"""Numbers read from a query or a form outside a form class: ids and page numbers within what
can exist, anything else None (or the first page). A number too large for the database used to
reach it and fail there (a 500)."""

from __future__ import annotations

from portal.domain.ids import parse_id

MAX_PAGE = 100_000


def row_id(value) -> int | None:
    """A row id (1 … the largest INTEGER), or None."""
    return parse_id(value)


def page_number(value) -> int:
    """A page number from 1 to MAX_PAGE; the first page for anything else."""
    text = "" if value is None else str(value).strip()
    if not (text.isascii() and text.isdigit()):
        return 1
    return max(1, min(int(text[:7]), MAX_PAGE))
