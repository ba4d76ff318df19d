"""The IMAP mailboxes an admin sets up (``/staff/admin/mailboxes``): add, change, deactivate,
reactivate, each audited with the fields that changed. The password is stored encrypted
(mailbox_secret) and never audited: the audit says only that it was changed. The name is fixed
once given: each mail taken records it, and "taken once" is per name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import Mailbox
from portal.services import audit
from portal.services.inbound import mailbox_secret
from portal.services.inbound.imap import AFTER_TAKING

NAME_MAX = 120
HOST_MAX = 253
USER_MAX = 254
FOLDER_MAX = 200
PASSWORD_MAX = 500


class MailboxError(ValueError):
    """Input the form could not judge alone; ``field`` names the form field."""

    def __init__(self, field: str, message) -> None:
        super().__init__(str(field))
        self.field = field
        self.message = message


@dataclass(frozen=True)
class MailboxSettings:
    """What an admin sets on a mailbox; ``password`` None or "" keeps the stored one."""

    name: str
    host: str
    port: int
    use_ssl: bool
    username: str
    password: str | None
    folder: str = "INBOX"
    after_taking: str = "move"
    taken_folder: str = "Portal/Taken"


def _yes_no(value: bool) -> str:
    return "true" if value else "false"


def _display(box: Mailbox) -> dict[str, object]:
    """The audited fields (never the password)."""
    return {
        "name": box.name,
        "host": box.host,
        "port": box.port,
        "use_ssl": _yes_no(box.use_ssl),
        "username": box.username,
        "folder": box.folder,
        "after_taking": box.after_taking,
        "taken_folder": box.taken_folder,
    }


def _clean(settings: MailboxSettings) -> MailboxSettings:
    name = " ".join((settings.name or "").split())
    host = (settings.host or "").strip()
    if not name:
        raise MailboxError("name", _l("Give the mailbox a name."))
    if not host or any(c.isspace() for c in host):
        raise MailboxError("host", _l("Give the mail server's host name."))
    if not 1 <= int(settings.port) <= 65535:
        raise MailboxError("port", _l("A port between 1 and 65535."))
    if settings.after_taking not in AFTER_TAKING:
        raise MailboxError("after_taking", _l("Choose what happens to a mail once taken."))
    folder = (settings.folder or "").strip() or "INBOX"
    taken = (settings.taken_folder or "").strip()
    if settings.after_taking == "move":
        if not taken:
            raise MailboxError("taken_folder", _l("Name the folder taken mail is moved to."))
        if taken == folder:
            raise MailboxError(
                "taken_folder", _l("The taken folder must not be the folder mail is read from.")
            )
    return MailboxSettings(
        name=name,
        host=host,
        port=int(settings.port),
        use_ssl=bool(settings.use_ssl),
        username=(settings.username or "").strip(),
        password=settings.password,
        folder=folder,
        after_taking=settings.after_taking,
        taken_folder=taken or "Portal/Taken",
    )


def _flush_unique(session: Session, box: Mailbox) -> None:
    savepoint = session.begin_nested()
    try:
        session.add(box)
        session.flush()
    except IntegrityError as exc:
        savepoint.rollback()
        raise MailboxError("name", _l("Another mailbox has this name.")) from exc
    savepoint.commit()


def create(
    session: Session, actor: audit.Actor, now: datetime, config: Mapping, settings: MailboxSettings
) -> Mailbox:
    s = _clean(settings)
    if not s.username:
        raise MailboxError("username", _l("Give the user name to log in with."))
    if not s.password:
        raise MailboxError("password", _l("Give the password to log in with."))
    if session.scalar(select(func.count()).select_from(Mailbox).where(Mailbox.name == s.name)):
        raise MailboxError("name", _l("Another mailbox has this name."))
    box = Mailbox(
        name=s.name,
        host=s.host,
        port=s.port,
        use_ssl=s.use_ssl,
        username=s.username,
        password_encrypted=mailbox_secret.encrypt(config, s.password),
        folder=s.folder,
        after_taking=s.after_taking,
        taken_folder=s.taken_folder,
        active=True,
        last_taken_count=0,
        created_at=now,
    )
    _flush_unique(session, box)
    audit.record(session, actor, now, "mailbox.created", "mailbox", box.id, after=_display(box))
    return box


def update(
    session: Session,
    actor: audit.Actor,
    now: datetime,
    config: Mapping,
    box: Mailbox,
    settings: MailboxSettings,
) -> bool:
    """Change ``box`` (not its name); an empty password keeps the stored one. Audited with
    the fields that changed ("password": "changed", never the password). Returns whether any
    did."""
    s = _clean(MailboxSettings(**{**settings.__dict__, "name": box.name}))
    if not s.username:
        raise MailboxError("username", _l("Give the user name to log in with."))
    before = _display(box)
    box.host, box.port, box.use_ssl, box.username = s.host, s.port, s.use_ssl, s.username
    box.folder, box.after_taking, box.taken_folder = s.folder, s.after_taking, s.taken_folder
    after = _display(box)
    changed = [k for k in after if after[k] != before[k]]
    audit_before = {k: before[k] for k in changed}
    audit_after = {k: after[k] for k in changed}
    if s.password:
        box.password_encrypted = mailbox_secret.encrypt(config, s.password)
        # the audit says that the password changed, never what it is
        audit_after["password"] = "changed"  # nosec B105
    if not audit_after:
        return False
    box.last_error = None  # the next fetch (or a test) says whether the new settings work
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "mailbox.updated",
        "mailbox",
        box.id,
        before=audit_before,
        after=audit_after,
    )
    return True


def set_active(
    session: Session, actor: audit.Actor, now: datetime, box: Mailbox, active: bool
) -> bool:
    """Deactivate (no longer fetched) or reactivate ``box``; False when it was so already."""
    if box.active == active:
        return False
    box.active = active
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "mailbox.reactivated" if active else "mailbox.deactivated",
        "mailbox",
        box.id,
        before={"active": _yes_no(not active)},
        after={"active": _yes_no(active)},
    )
    return True


def listing(session: Session) -> list[Mailbox]:
    return list(session.scalars(select(Mailbox).order_by(Mailbox.active.desc(), Mailbox.name)))


def active_ids(session: Session) -> list[int]:
    return list(
        session.scalars(select(Mailbox.id).where(Mailbox.active.is_(True)).order_by(Mailbox.id))
    )
