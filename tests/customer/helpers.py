"""Small helpers for the customer-side tests."""

from __future__ import annotations

import html
import re

from portal.models import Attachment
from portal.services import attachments
from portal.services.attachments import Upload
from portal.services.audit import Actor

NUMBER = re.compile(r"SR-\d{8}-\d{3,}")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


def numbers_in(text: str) -> list[str]:
    """SR numbers in the order they appear, each once (a row shows its number once)."""
    seen: list[str] = []
    for n in NUMBER.findall(text):
        if n not in seen:
            seen.append(n)
    return seen


def next_link(text: str) -> str | None:
    m = re.search(r'<a href="([^"]*)"[^>]*rel="next"', text)
    return html.unescape(m.group(1)) if m else None


def attach(app, session, sr, uploader, content: bytes, name: str = "log.txt", **kw) -> Attachment:
    import io

    from portal.models import utcnow

    return attachments.save(
        session,
        Actor(uploader.id),
        utcnow(),
        Upload(name, io.BytesIO(content)),
        request_id=sr.id,
        folder=app.config["UPLOAD_FOLDER"],
        max_bytes=app.config["UPLOAD_MAX_BYTES"],
        **kw,
    )
