"""URL converters: an ``<int:…>`` in an address is a row id, so it is at most the largest value
the database's INTEGER holds; a larger number is a 404 like any id that is not there (it used to
reach the database and fail there: a 500)."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

from portal.domain.ids import MAX_ID


class RowId(IntegerConverter):
    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Before any blueprint is registered: their rules are built with it."""
    app.url_map.converters["int"] = RowId
