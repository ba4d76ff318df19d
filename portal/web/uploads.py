"""Files posted with a text — a new request, a message, a handling step — in the one transaction
that writes the text.

    with PostedFiles(form.files()) as files:
        files.check(_("At most %(n)d files per message.", n=MAX_FILES))  # nothing written yet
        message = workflow.post_message(...)
        files.save(db.session, who, now, request_id=sr.id, message_id=message.id)
        db.session.commit()  # or not: a refusal rolls back

Every file is written to storage before its row is flushed (``attachments.save``); the files
written inside the ``with`` block are removed from storage again when the block ends without the
session having committed after them (a refusal, a validation error, an exception), so storage
never keeps a file whose row was rolled back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from portal.db import db
from portal.models import Attachment
from portal.services import attachments
from portal.services.attachments import MAX_FILES, AttachmentTooLarge, Upload, stream_size
from portal.services.audit import Actor
from portal.services.workflow import FieldError


class PostedFiles:
    def __init__(self, uploads: Iterable[FileStorage]) -> None:
        self.uploads = list(uploads)
        self.folder = current_app.config["UPLOAD_FOLDER"]
        self.limit = current_app.config["UPLOAD_MAX_BYTES"]
        self.saved: list[Attachment] = []
        self._kept = 0  # how many of ``saved`` a commit has made permanent
        self._session: Session | None = None

    def check(self, too_many: str) -> None:
        """Before anything is written: at most MAX_FILES (else ``too_many`` on the form's
        attachments field), each within the size limit."""
        if len(self.uploads) > MAX_FILES:
            raise FieldError("attachments", too_many)
        for f in self.uploads:
            if stream_size(f.stream) > self.limit:
                raise AttachmentTooLarge(f.filename, self.limit)

    def save(
        self, session: Session, actor: Actor, now: datetime, *, request_id: int, **link
    ) -> list[Attachment]:
        """Store every file on the request, linked as ``link`` says (``message_id``,
        ``step_id``, ``internal``). Raises AttachmentRefused for a file that is not stored."""
        for f in self.uploads:
            self.saved.append(
                attachments.save(
                    session,
                    actor,
                    now,
                    Upload(f.filename, f.stream),
                    request_id=request_id,
                    folder=self.folder,
                    max_bytes=self.limit,
                    **link,
                )
            )
        return self.saved

    def _committed(self, _session: Session) -> None:
        self._kept = len(self.saved)

    def __enter__(self) -> PostedFiles:
        self._session = db.session
        event.listen(self._session, "after_commit", self._committed)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self._session, "after_commit", self._committed)
        attachments.discard(self.saved[self._kept :], self.folder)
