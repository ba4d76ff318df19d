"""Downloads of a request's files, for both sides: which file, where it is stored, and whether
the reader gets it as stored or with its personal data redacted (docs/product.md §5).

A text file (a log) goes out redacted to anyone outside the request: staff who are neither the
handler nor a collaborator, and colleagues of the contact. Everyone who may see the request may
download its files otherwise; the customer side sees only its public ones.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import true
from sqlalchemy.orm import Session

from portal.models import Account, Attachment, ServiceRequest
from portal.services import attachments, listing, privacy


@dataclass(frozen=True)
class Download:
    attachment: Attachment
    path: Path
    redacted: bool  # personal data redacted on the fly: the reader is outside the request


def _stored(attachment: Attachment | None, folder: str | os.PathLike) -> Path | None:
    if attachment is None:
        return None
    path = attachments.stored_path(attachment, folder)
    return path if path.is_file() else None


def for_customer(
    session: Session,
    viewer: Account,
    number: str,
    attachment_id: int,
    folder: str | os.PathLike,
    now: datetime,
) -> Download | None:
    """A public file of a request in the viewer's scope (their own, or their organisation's
    where colleagues may view), or None: the caller answers 404."""
    found = attachments.for_download(
        session,
        number,
        attachment_id,
        listing.customer_scope(viewer),
        attachments.customer_visible(),
    )
    path = _stored(found, folder)
    if path is None:
        return None
    redacted = False
    if found.content_type == privacy.TEXT_TYPE:
        sr = session.get(ServiceRequest, found.request_id)
        redacted = not privacy.access_for(session, sr, viewer, now).insider
    return Download(found, path, redacted)


def for_staff(
    session: Session, viewer: Account, number: str, attachment_id: int, folder: str | os.PathLike
) -> Download | None:
    """Any file of a request (any staff member may download them), or None."""
    found = attachments.for_download(session, number, attachment_id, true())
    path = _stored(found, folder)
    if path is None:
        return None
    redacted = found.content_type == privacy.TEXT_TYPE and not privacy.staff_is_insider(
        session, found.request_id, viewer.id
    )
    return Download(found, path, redacted)
