"""Downloads of a request's files, for both sides: which file, where it is stored, and whether
the reader gets it as stored or with its personal data redacted (docs/product.md §5).

A text file (a log) goes out redacted to anyone outside the request: staff who are neither the
handler nor a collaborator, and colleagues of the contact. A file that cannot be redacted (an
image, a PDF, an archive, any file but text: a screenshot can show a phone number as well as a
log can) goes only to the people on the request, and to a supervisor during an audited reveal
of the request's contact (portal/services/privacy.py); others see its name and size and are
told why (``withheld``). The customer side sees only its public files.
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
    # the file cannot be redacted and the reader is outside the request: not sent
    withheld: bool = False


def may_open(access, content_type: str) -> bool:
    """Whether a reader with ``access`` to the request gets this file (as stored, or redacted
    for a text file)."""
    return content_type == privacy.TEXT_TYPE or access.insider or access.full_contact


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
    sr = session.get(ServiceRequest, found.request_id)
    access = privacy.access_for(session, sr, viewer, now)
    redacted = found.content_type == privacy.TEXT_TYPE and not access.insider
    return Download(found, path, redacted, withheld=not may_open(access, found.content_type))


def for_staff(
    session: Session,
    viewer: Account,
    number: str,
    attachment_id: int,
    folder: str | os.PathLike,
    now: datetime,
) -> Download | None:
    """Any file of a request (a text file redacted for those outside it; a file that cannot be
    redacted withheld from them unless they revealed the contact), or None."""
    found = attachments.for_download(session, number, attachment_id, true())
    path = _stored(found, folder)
    if path is None:
        return None
    insider = privacy.staff_is_insider(session, found.request_id, viewer.id)
    if found.content_type == privacy.TEXT_TYPE:
        return Download(found, path, redacted=not insider)
    revealed = not insider and (
        privacy.active_reveal_until(session, found.request_id, viewer.id, now) is not None
    )
    return Download(found, path, redacted=False, withheld=not (insider or revealed))
