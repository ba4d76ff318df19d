"""Notifications written straight into the table, at chosen instants, and reading the page."""

from __future__ import annotations

import re
from datetime import datetime

from portal.models import Notification, utcnow


def add(db_session, person, kind, sr=None, *, at: datetime | None = None, read=False, **params):
    """A notification of ``kind`` for ``person`` about ``sr`` created ``at``."""
    if sr is not None:
        params.setdefault("number", sr.number)
    n = Notification(
        recipient_id=person.id,
        kind=kind,
        request_id=sr.id if sr is not None else None,
        params=params,
        created_at=at or utcnow(),
        read_at=utcnow() if read else None,
    )
    db_session.add(n)
    db_session.flush()
    return n


def badge(client, side="customer") -> int:
    url = "/notifications/badge" if side == "customer" else "/staff/notifications/badge"
    html = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    m = re.search(r'data-unread="(\d+)"', html)
    return int(m.group(1)) if m else 0


def part(html: str, pattern: str) -> str:
    m = re.search(pattern, html, re.S)
    assert m, pattern
    return m.group(0)


def items(html: str) -> list[str]:
    """The ids of the notifications listed, in page order."""
    return re.findall(r'<li class="notif [^"]*"[^>]*id="notif-(\d+)"', html)


def unread_items(html: str) -> list[str]:
    return re.findall(r'<li class="notif notif-unread"[^>]*id="notif-(\d+)"', html)
