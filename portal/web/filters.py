"""The presentation package in templates: its formats as filters (desk_time, filesize,
sla_outcome, holiday_label) and the vocabulary labels as the ``labels`` global, translated once
per locale."""

from __future__ import annotations

from types import SimpleNamespace

from flask import Flask, current_app
from flask_babel import get_locale

from portal.presentation import labels
from portal.presentation.formatting import desk_time, format_size, holiday_label, sla_outcome

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


def init_app(app: Flask) -> None:
    app.add_template_filter(desk_time, "desk_time")
    app.add_template_filter(format_size, "filesize")
    app.add_template_filter(sla_outcome, "sla_outcome")
    app.add_template_filter(holiday_label, "holiday_label")
    app.add_template_global(_Labels(), "labels")
    app.add_template_global(lambda: current_app.config["PORTAL_TIMEZONE"], "desk_timezone")
