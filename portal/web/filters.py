"""The presentation package in templates: its formats as filters (desk_time, filesize,
sla_outcome, holiday_label), the vocabulary labels as the ``labels`` global, translated once
per locale, and ``category_name`` (a category in the reader's language)."""

from __future__ import annotations

from types import SimpleNamespace

from flask import Flask, current_app, g
from flask_babel import get_locale

from portal.db import db
from portal.presentation import labels, report_view
from portal.presentation.formatting import desk_time, format_size, holiday_label, sla_outcome
from portal.services import catalogue

_label_cache: dict[str, SimpleNamespace] = {}


def localized_labels() -> SimpleNamespace:
    """The vocabulary labels as plain strings in the current locale, translated once per locale
    per process (the catalogues do not change while it runs)."""
    locale = str(get_locale() or "")
    cached = _label_cache.get(locale)
    if cached is None:
        cached = SimpleNamespace(
            **{
                name: {key: str(text) for key, text in value.items()}
                for name, value in vars(labels).items()
                if name.isupper() and isinstance(value, dict)
            }
        )
        _label_cache[locale] = cached
    return cached


class _Labels:
    """``labels`` in templates (macros imported without context see globals only)."""

    def __getattr__(self, name: str) -> dict[str, str]:
        return getattr(localized_labels(), name)


def category_name(request_type: str | None, code: str | None) -> str:
    """A request's (or skill's) category in the reader's language, the code itself when the
    list does not know it. The list is read once per request, and only if a page shows one."""
    if not code:
        return ""
    names = g.get("_category_names")
    if names is None:
        names = g._category_names = catalogue.category_names(db.session)
    return catalogue.category_label(names, request_type, code, str(get_locale() or ""))


def init_app(app: Flask) -> None:
    app.add_template_filter(desk_time, "desk_time")
    app.add_template_filter(format_size, "filesize")
    app.add_template_filter(sla_outcome, "sla_outcome")
    app.add_template_filter(holiday_label, "holiday_label")
    app.add_template_global(_Labels(), "labels")
    # the service plans' words (rule sentences, moves, statuses): portal/presentation/plans.py
    from portal.presentation import plans as plan_words

    app.add_template_global(plan_words, "plan_words")
    app.add_template_global(category_name, "category_name")
    app.add_template_global(report_view, "rv")  # the reports' numbers, hours and labels
    app.add_template_global(lambda: current_app.config["PORTAL_TIMEZONE"], "desk_timezone")
