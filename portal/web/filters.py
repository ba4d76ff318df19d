"""Template filters: dates in the desk's time zone (zone shown), vocabulary labels."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_babel import format_datetime

from portal.web import labels


def desk_time(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    if value is None:
        return ""
    tz = ZoneInfo(current_app.config["PORTAL_TIMEZONE"])
    local = value.astimezone(tz)
    return f"{format_datetime(local, fmt, rebase=False)} {local.tzname()}"


def init_app(app: Flask) -> None:
    app.add_template_filter(desk_time, "desk_time")
    app.add_template_global(labels, "labels")
    app.add_template_global(lambda: current_app.config["PORTAL_TIMEZONE"], "desk_timezone")
