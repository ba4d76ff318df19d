"""Form numbers: PREFIX-YYYYMMDD-NNN, the date in the desk's time zone (docs/product.md §3)."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

NUMBER_RE = re.compile(r"^(SR|IR|SD|FB)-(\d{8})-(\d{3,})$")


def desk_day(instant: datetime, timezone: str) -> date:
    """The calendar day of an aware instant in the desk's time zone."""
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(ZoneInfo(timezone)).date()


def format_number(prefix: str, day: date, sequence: int) -> str:
    """SR-20241001-001; the sequence widens past 999 (SR-20241001-1000)."""
    if sequence < 1:
        raise ValueError("sequence starts at 1")
    return f"{prefix}-{day:%Y%m%d}-{sequence:03d}"


def is_number(text: str, prefix: str | None = None) -> bool:
    m = NUMBER_RE.match(text or "")
    return bool(m) and (prefix is None or m.group(1) == prefix)
