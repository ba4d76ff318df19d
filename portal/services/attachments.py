"""Files on requests, messages, steps and deliveries.

Stored outside static/ under random names, typed by sniffing the content (never the client's
claim), served only through access-checked routes. Generic: both sides use it.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import secrets
import unicodedata
import zipfile
from abc import ABCMeta, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, exists, not_, select
from sqlalchemy.orm import Session

from portal.models import Attachment, HandlingStep, Message, ServiceRequest
from portal.presentation.formatting import format_size
from portal.services import audit, desk_settings

CHUNK = 64 * 1024
MAX_FILES = 10

OCTET_STREAM = "application/octet-stream"
OFFICE_TYPES = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# programs: Windows PE, ELF, Mach-O (32/64, fat), shell scripts
_EXECUTABLE_MAGIC = (
    b"MZ",
    b"\x7fELF",
    b"\xca\xfe\xba\xbe",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"#!",
)
ZIP_FAMILY = frozenset({"application/zip", *OFFICE_TYPES.values()})
TEXT = "text/plain"
# what a file's name claims (its extension) and the sniffed types that keep the claim
CLAIMS: dict[str, frozenset[str]] = {
    "png": frozenset({"image/png"}),
    "jpg": frozenset({"image/jpeg"}),
    "jpeg": frozenset({"image/jpeg"}),
    "gif": frozenset({"image/gif"}),
    "pdf": frozenset({"application/pdf"}),
    "zip": ZIP_FAMILY,  # an Office file is a ZIP archive too
    "docx": frozenset({OFFICE_TYPES["word/"]}),
    "xlsx": frozenset({OFFICE_TYPES["xl/"]}),
    "pptx": frozenset({OFFICE_TYPES["ppt/"]}),
    "txt": frozenset({TEXT}),
    "log": frozenset({TEXT}),
    "csv": frozenset({TEXT}),
}
TEXT_CLAIMS = frozenset({"txt", "log", "csv"})

# programs and scripts (docs/product.md §11, Uploads): refused by name and by content, unless
# an admin allows the type (desk setting ``allowed_program_types``, portal/services/desk_settings.py)
PROGRAM_TYPES = ("exe", "msi", "bat", "ps1", "vbs", "hta", "js", "jar", "sh", "elf", "macho")
PROGRAM_EXTENSIONS = {
    "exe": "exe",
    "dll": "exe",
    "scr": "exe",
    "com": "exe",
    "cpl": "exe",
    "msi": "msi",
    "msp": "msi",
    "bat": "bat",
    "cmd": "bat",
    "ps1": "ps1",
    "psm1": "ps1",
    "vbs": "vbs",
    "vbe": "vbs",
    "wsf": "vbs",
    "hta": "hta",
    "js": "js",
    "jse": "js",
    "mjs": "js",
    "jar": "jar",
    "sh": "sh",
}
_PROGRAM_MAGIC = (
    (b"MZ", "exe"),  # Windows PE (and DOS) programs and libraries
    (b"\x7fELF", "elf"),
    (b"\xca\xfe\xba\xbe", "macho"),  # fat Mach-O (a Java class file starts the same)
    (b"\xfe\xed\xfa\xce", "macho"),
    (b"\xfe\xed\xfa\xcf", "macho"),
    (b"\xce\xfa\xed\xfe", "macho"),
    (b"\xcf\xfa\xed\xfe", "macho"),
    (b"#!", "sh"),
)
# an archive is looked into this far (names only): a bigger listing is refused as it is
ZIP_NAMES_CHECKED = 10_000


class AttachmentRefused(ValueError, metaclass=ABCMeta):
    """A file that is not stored; ``message`` says why in the reader's language (lazy: worded
    when shown). Views catch this one class for every refusal."""

    def __init__(self, filename: str, detail: str) -> None:
        super().__init__(detail)
        self.filename = filename

    @property
    @abstractmethod
    def message(self) -> str:
        """Why the file was refused, in the reader's language (each kind words its own)."""


class AttachmentTooLarge(AttachmentRefused):
    """A file over the per-file limit."""

    def __init__(self, filename: str, limit: int) -> None:
        super().__init__(filename, f"{filename!r} is larger than {limit} bytes")
        self.limit = limit

    @property
    def message(self) -> str:
        return _l(
            "%(names)s is larger than the limit of %(limit)s per file.",
            names=self.filename,
            limit=format_size(self.limit),
        )


class AttachmentDisguised(AttachmentRefused):
    """A file whose content is not what its name claims (an HTML page or a program named
    report.pdf or photo.png)."""

    def __init__(self, filename: str, claimed: str, sniffed: str) -> None:
        super().__init__(filename, f"{filename!r} claims .{claimed} but contains {sniffed}")
        self.claimed = claimed
        self.sniffed = sniffed

    @property
    def message(self) -> str:
        return _l(
            "%(name)s was refused: its content is not a %(kind)s file as its name says. "
            "Upload the original file, or rename it to match what it contains.",
            name=self.filename,
            kind=self.claimed.upper(),
        )


class AttachmentStorageFull(AttachmentRefused):
    """The desk's file storage has no room left (ENOSPC, or a quota): not the person's fault,
    and nothing of the form is saved."""

    def __init__(self, filename: str) -> None:
        super().__init__(filename, f"no room to store {filename!r}")

    @property
    def message(self) -> str:
        return _l(
            "%(name)s could not be stored: the service desk's file storage is full. Nothing "
            "was saved. Please try again later, or send the form without the file.",
            name=self.filename,
        )


class AttachmentProgram(AttachmentRefused):
    """A program or a script (by its name, its content, or a name inside an archive)."""

    def __init__(self, filename: str, program_type: str, inner: str | None = None) -> None:
        super().__init__(filename, f"{filename!r} is a program ({program_type})")
        self.program_type = program_type
        self.inner = inner

    @property
    def message(self) -> str:
        if self.inner:
            return _l(
                "%(name)s was refused: the archive contains a program or script (%(inner)s). "
                "Programs and scripts are not accepted as attachments.",
                name=self.filename,
                inner=self.inner,
            )
        return _l(
            "%(name)s was refused: programs and scripts are not accepted as attachments. "
            "Describe what you need in the request, or send a screenshot or a log instead.",
            name=self.filename,
        )


@dataclass(frozen=True)
class Upload:
    """A file as received: its name as the client gave it and a readable binary stream."""

    filename: str
    stream: BinaryIO


def clean_filename(name: str | None) -> str:
    """The name to show and to offer on download: no path, no control characters, ≤ 255."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if not name:
        return "file"
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 254 - len(ext)] + dot + ext) if dot and len(ext) < 20 else name[:255]
    return name


def stream_size(stream: BinaryIO) -> int:
    """Size of a seekable upload stream without reading it (position restored to 0)."""
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def sniff(head: bytes, is_utf8_text: bool, path: Path | None = None) -> str:
    """The content type from the bytes themselves: common images, PDF, ZIP and Office files,
    UTF-8 text; anything else is application/octet-stream."""
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return content_type
    if head.startswith(_ZIP_MAGIC):
        return _zip_type(path) if path is not None else "application/zip"
    if is_utf8_text:
        return "text/plain"
    return OCTET_STREAM


def claimed_extension(name: str) -> str | None:
    """The type a file's name claims, when it is one the portal checks (png, pdf, docx, …)."""
    stem, dot, ext = name.rpartition(".")
    ext = ext.lower()
    return ext if dot and stem and ext in CLAIMS else None


def check_claim(name: str, head: bytes, content_type: str) -> None:
    """Refuse a file whose name claims a type its content does not have. Text files may be in
    another encoding than UTF-8 (a GBK CSV sniffs as octet-stream), but never a program."""
    ext = claimed_extension(name)
    if ext is None or content_type in CLAIMS[ext]:
        return
    if (
        ext in TEXT_CLAIMS
        and content_type == OCTET_STREAM
        and not head.startswith(_EXECUTABLE_MAGIC)
    ):
        return
    raise AttachmentDisguised(name, ext, content_type)


def _extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def program_type(name: str, head: bytes, content_type: str = OCTET_STREAM) -> str | None:
    """Which kind of program a file is, by its name or by its first bytes; None for data. A
    text file that happens to begin with "MZ" is text; a "#!" script is text too."""
    by_name = PROGRAM_EXTENSIONS.get(_extension(name))
    if by_name:
        return by_name
    for magic, kind in _PROGRAM_MAGIC:
        if head.startswith(magic) and (kind == "sh" or content_type != TEXT):
            return kind
    return None


def _program_in_archive(path: Path) -> tuple[str, str] | None:
    """The first program named inside a ZIP archive (an Office file too), as (type, name)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if len(infos) > ZIP_NAMES_CHECKED:
        return ("exe", f"{len(infos)} files")
    names = [i.filename for i in infos]
    if "META-INF/MANIFEST.MF" in names and any(n.endswith(".class") for n in names):
        return ("jar", "META-INF/MANIFEST.MF")
    for name in names:
        kind = PROGRAM_EXTENSIONS.get(_extension(name.rsplit("/", 1)[-1]))
        if kind:
            return (kind, clean_filename(name))
    return None


def check_program(
    name: str, head: bytes, content_type: str, path: Path, allowed: frozenset[str]
) -> None:
    """Refuse a program or a script, by name and by content, and an archive that holds one,
    unless its type is one the desk allows."""
    kind = program_type(name, head, content_type)
    if kind and kind not in allowed:
        raise AttachmentProgram(name, kind)
    if content_type in ZIP_FAMILY:
        inner = _program_in_archive(path)
        if inner and inner[0] not in allowed:
            raise AttachmentProgram(name, inner[0], inner[1])


def _zip_type(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return OCTET_STREAM
    if "[Content_Types].xml" in names:
        for prefix, content_type in OFFICE_TYPES.items():
            if any(n.startswith(prefix) for n in names):
                return content_type
    return "application/zip"


def save(
    session: Session,
    actor: audit.Actor,
    now: datetime,
    upload: Upload,
    *,
    request_id: int,
    folder: str | os.PathLike,
    max_bytes: int,
    message_id: int | None = None,
    step_id: int | None = None,
    delivery_id: int | None = None,
    internal: bool = False,
) -> Attachment:
    """Store one file and record it. Raises AttachmentTooLarge (nothing kept) over the limit,
    AttachmentProgram (nothing kept) for a program or script the desk does not allow,
    AttachmentDisguised (nothing kept) when the content is not the type its name claims.

    The file is written first, then the row is flushed: if the caller's transaction is later
    rolled back, ``discard`` removes the written files.
    """
    name = clean_filename(upload.filename)
    directory = Path(folder)
    directory.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(24)
    path = directory / stored_name
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    is_text = True
    size = 0
    head = b""
    try:
        with open(path, "xb") as out:
            upload.stream.seek(0)
            while chunk := upload.stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise AttachmentTooLarge(name, max_bytes)
                if len(head) < 16:
                    head = (head + chunk)[:16]
                digest.update(chunk)
                if is_text:
                    try:
                        decoder.decode(chunk)
                        is_text = b"\x00" not in chunk
                    except UnicodeDecodeError:
                        is_text = False
                out.write(chunk)
        if is_text:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                is_text = False
        content_type = sniff(head, is_text and size > 0, path)
        check_program(name, head, content_type, path, desk_settings.allowed_program_types(session))
        check_claim(name, head, content_type)
    except OSError as exc:
        path.unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise AttachmentStorageFull(name) from exc
        raise
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    attachment = Attachment(
        request_id=request_id,
        message_id=message_id,
        step_id=step_id,
        delivery_id=delivery_id,
        uploaded_by_id=actor.account_id,
        original_name=name,
        stored_name=stored_name,
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
        internal=internal,
        created_at=now,
    )
    session.add(attachment)
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "attachment.added",
        "attachment",
        attachment.id,
        after={
            "request_id": request_id,
            "name": name,
            "size": size,
            "sha256": attachment.sha256,
            "content_type": content_type,
            "internal": internal,
        },
    )
    return attachment


def discard(attachments: list[Attachment], folder: str | os.PathLike) -> None:
    """Remove the stored files of attachments whose rows were not committed."""
    for attachment in attachments:
        (Path(folder) / attachment.stored_name).unlink(missing_ok=True)


def stored_path(attachment: Attachment, folder: str | os.PathLike) -> Path:
    return Path(folder) / attachment.stored_name


def customer_visible() -> ColumnElement[bool]:
    """SQL condition on ``Attachment``: a file a customer may see on a request they may see —
    not internal, not on an internal note, not on a step hidden from the customer."""
    return and_(
        Attachment.internal.is_(False),
        not_(exists().where(Message.id == Attachment.message_id, Message.internal.is_(True))),
        not_(
            exists().where(
                HandlingStep.id == Attachment.step_id, HandlingStep.visible_to_customer.is_(False)
            )
        ),
    )


def for_download(
    session: Session,
    number: str,
    attachment_id: int,
    request_scope: ColumnElement[bool],
    visible: ColumnElement[bool] | None = None,
) -> Attachment | None:
    """The attachment if it belongs to the request with this number, the request is within
    ``request_scope`` and the file passes ``visible``; else None. One query."""
    stmt = (
        select(Attachment)
        .join(ServiceRequest, ServiceRequest.id == Attachment.request_id)
        .where(Attachment.id == attachment_id, ServiceRequest.number == number, request_scope)
    )
    if visible is not None:
        stmt = stmt.where(visible)
    return session.scalar(stmt)


def of_request(session: Session, request_id: int, visible: ColumnElement[bool] | None = None):
    """All attachments of a request (filtered by ``visible``), oldest first. One query."""
    stmt = select(Attachment).where(Attachment.request_id == request_id)
    if visible is not None:
        stmt = stmt.where(visible)
    return list(session.scalars(stmt.order_by(Attachment.created_at, Attachment.id)))
