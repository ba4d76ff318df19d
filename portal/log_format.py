"""How log lines are written (README, "Logs"): one line per event, JSON in production
(python-json-logger) and readable text on a terminal, each line carrying the request id, the
account id and the RQ job id where there is one. The masking of portal/logging.py has already
rewritten the message and the exception text when a record reaches a formatter; the JSON
formatter masks every other string value too (anything passed with ``extra=``).

``configure`` gives the root logger one handler and takes Flask's own handler off the app's
logger, so that an event is written once (before, the embedded runtime wrote each line twice:
Flask's format, then the portal's).
"""

from __future__ import annotations

import logging
import os
import sys

from pythonjsonlogger.json import JsonFormatter

from portal.logging import mask_text

_TEXT = "%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s"
_JSON_FIELDS = ("timestamp", "level", "logger", "message", "request_id", "account_id", "job_id")
_OURS = "_portal_handler"


class ContextFilter(logging.Filter):
    """Puts ``request_id``, ``account_id`` and ``job_id`` on each record (None outside a request
    or a job). Reads only what is already in memory: never the database."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = account_id = job_id = None
        try:
            from flask import g, has_app_context, has_request_context

            if has_request_context() or has_app_context():
                request_id = g.get("request_id")
                user = g.get("_login_user")  # set by Flask-Login once the user is loaded
                account_id = getattr(user, "id", None) if user is not None else None
        except RuntimeError:  # pragma: no cover - outside any Flask context
            pass
        try:
            from rq import get_current_job

            job = get_current_job()
            job_id = job.id if job is not None else None
        except Exception:  # noqa: BLE001 - no job, or no connection: no job id
            job_id = None
        record.request_id = request_id
        record.account_id = account_id
        record.job_id = job_id
        parts = [
            f"{k}={v}" for k, v in (("req", request_id), ("acct", account_id), ("job", job_id)) if v
        ]
        record.context = f" [{' '.join(parts)}]" if parts else ""
        return True


class MaskedJsonFormatter(JsonFormatter):
    """One JSON object per line: the fixed fields above, the exception text, and any extra
    field, each string masked."""

    def __init__(self) -> None:
        super().__init__(
            list(_JSON_FIELDS[3:]) + ["levelname", "name"],
            rename_fields={"levelname": "level", "name": "logger"},
            reserved_attrs=[*_RESERVED, "context", "_portal_masked"],
            timestamp=True,
            json_ensure_ascii=False,
        )

    def process_log_record(self, log_data):
        return {k: mask_text(v) if isinstance(v, str) else v for k, v in log_data.items()}


_RESERVED = (
    "args", "asctime", "created", "exc_info", "exc_text", "filename", "funcName", "levelname",
    "levelno", "lineno", "module", "msecs", "message", "msg", "name", "pathname", "process",
    "processName", "relativeCreated", "stack_info", "thread", "threadName", "taskName",
)  # fmt: skip


def wants_json(stream=None) -> bool:
    """LOG_FORMAT=json or text; unset: text on a terminal, JSON otherwise (a service manager,
    a container, a file)."""
    chosen = (os.environ.get("LOG_FORMAT") or "").strip().lower()
    if chosen in ("json", "text"):
        return chosen == "json"
    stream = stream or sys.stderr
    return not (hasattr(stream, "isatty") and stream.isatty())


def handler(stream=None, json: bool | None = None) -> logging.Handler:
    stream = stream or sys.stderr
    out = logging.StreamHandler(stream)
    use_json = wants_json(stream) if json is None else json
    out.setFormatter(MaskedJsonFormatter() if use_json else logging.Formatter(_TEXT))
    out.addFilter(ContextFilter())
    setattr(out, _OURS, True)
    return out


def configure(level: int = logging.INFO, stream=None, json: bool | None = None) -> None:
    """One handler on the root logger (replacing one this function added before) and none of
    Flask's on the app's logger: each event is written once."""
    from flask.logging import default_handler

    from portal.logging import FILTER

    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
    new = handler(stream, json)
    new.addFilter(FILTER)
    root.addHandler(new)
    root.setLevel(level)
    logging.getLogger("portal").removeHandler(default_handler)
