"""Taking mail from an IMAP mailbox (docs/product.md §9, "Mailboxes (IMAP)").

``fetch_once`` logs in, reads what is left in the mailbox's folder (every mail taken is moved
out of it, or deleted, so ``SEARCH ALL`` is the work left), and for each mail: ``receive`` it
(exactly once per mailbox and Message-ID, whoever fetches), ``process`` it when it is new, COMMIT,
and only then move it to the taken folder (or delete it). So a mail is never lost: when the
commit fails it stays where it was and is fetched again; when the move fails after the commit,
the next fetch finds it a duplicate and moves it then.

Two fetchers on one mailbox at once (two workers, the scheduler and ``portal mail fetch``) are
safe: the unique (mailbox, message key) decides who took a mail, the other counts it a
duplicate and moves it too; a mail the other one moved away meanwhile is gone, not an error.

A connection or login failure is recorded on the mailbox (``last_error``, a short code and the
server's words, never the password) and does not raise.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from portal.models import Mailbox
from portal.services import inbound
from portal.services.inbound import mailbox_secret

log = logging.getLogger(__name__)

# mails fetched (and committed, and moved) together
BATCH = 25
ERROR_MAX = 300
AFTER_TAKING = ("move", "delete")

# the codes ``last_error`` starts with ("<code>: <detail>"); the admin page says them in words
ERROR_CODES = ("connect", "login", "folder", "password", "database", "server")


@dataclass(frozen=True)
class FetchResult:
    taken: int = 0
    duplicates: int = 0
    error: str | None = None
    # moved away by another fetcher between our SEARCH and our FETCH
    gone: int = 0


@dataclass(frozen=True)
class Account:
    """What it takes to log in to a mailbox (the password in the clear: never keep it)."""

    host: str
    port: int
    use_ssl: bool
    username: str
    password: str
    folder: str = "INBOX"


class FetchError(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def _words(exc: BaseException) -> str:
    """What went wrong, without Python's decorations: the server's or the system's words."""
    text = str(exc)
    if isinstance(exc, bytes | bytearray):
        text = exc.decode("utf-8", "replace")
    text = text.strip().strip("b'\"") or type(exc).__name__
    return text


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***")
    return " ".join(text.split())[:ERROR_MAX]


def connect(account: Account, timeout: float) -> IMAPClient:
    """A logged-in client with the folder selected; FetchError otherwise."""
    try:
        client = IMAPClient(
            account.host,
            port=account.port,
            ssl=account.use_ssl,
            ssl_context=ssl.create_default_context() if account.use_ssl else None,
            timeout=timeout,
        )
    except (OSError, IMAPClientError) as exc:  # socket.gaierror, refused, TLS, timeout
        raise FetchError("connect", _words(exc)) from None
    try:
        client.login(account.username, account.password)
    except LoginError as exc:
        _close(client)
        raise FetchError("login", _words(exc)) from None
    except (OSError, IMAPClientError) as exc:
        _close(client)
        raise FetchError("connect", _words(exc)) from None
    try:
        client.select_folder(account.folder)
    except IMAPClientError as exc:
        _close(client)
        raise FetchError("folder", f"{account.folder}: {_words(exc)}") from None
    except OSError as exc:
        _close(client)
        raise FetchError("connect", _words(exc)) from None
    return client


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - already broken: nothing more to say to it
        try:
            client.shutdown()
        except Exception:  # noqa: BLE001
            log.debug("IMAP connection already closed", exc_info=True)


def check(account: Account, timeout: float) -> str | None:
    """Log in and select the folder: None when that works, else the error ("<code>: …")."""
    try:
        client = connect(account, timeout)
    except FetchError as exc:
        return _scrub(str(exc), (account.password,))
    _close(client)
    return None


def account_of(mailbox: Mailbox, config: Mapping) -> Account:
    """The mailbox's login, its password decrypted (FetchError "password" when it cannot be)."""
    try:
        password = mailbox_secret.decrypt(config, mailbox.password_encrypted)
    except mailbox_secret.SecretUnreadable:
        raise FetchError(
            "password", "the stored password cannot be read (another key?): enter it again"
        ) from None
    return Account(
        host=mailbox.host,
        port=mailbox.port,
        use_ssl=mailbox.use_ssl,
        username=mailbox.username,
        password=password,
        folder=mailbox.folder,
    )


# --- taking the mail -------------------------------------------------------------------------


def _ensure_folder(client: IMAPClient, folder: str) -> None:
    if client.folder_exists(folder):
        return
    try:
        client.create_folder(folder)
    except IMAPClientError:
        if not client.folder_exists(folder):  # not another fetcher creating it at the same time
            raise


def _gone_meanwhile(exc: IMAPClientError) -> bool:
    """The server says some of the mails named no longer exist (another fetcher took them)."""
    return "EXPUNGEISSUED" in str(exc).upper()


def _remove_now(client: IMAPClient, uids: list[int], after_taking: str, folder: str) -> None:
    if after_taking == "move":
        if client.has_capability("MOVE"):
            client.move(uids, folder)
            return
        client.copy(uids, folder)
    client.delete_messages(uids)
    if client.has_capability("UIDPLUS"):
        client.uid_expunge(uids)
    else:
        client.expunge()


def _remove(client: IMAPClient, uids: list[int], after_taking: str, taken_folder: str) -> None:
    """Move the taken mails out of the folder (or delete them). Mails another fetcher moved
    already are skipped: a server that refuses the whole set for them (NO [EXPUNGEISSUED]) is
    asked again mail by mail, and a mail it says is gone is gone."""
    if not uids:
        return
    try:
        _remove_now(client, uids, after_taking, taken_folder)
    except IMAPClientError as exc:
        if not _gone_meanwhile(exc):
            raise
        if len(uids) == 1:
            return
        client.noop()  # take in the expunges the other session made
        for uid in uids:
            _remove(client, [uid], after_taking, taken_folder)


def _fetch_bodies(client: IMAPClient, uids: list[int]) -> dict[int, bytes]:
    """The raw mails of ``uids`` that still exist. A server that says some are gone
    (NO [EXPUNGEISSUED]) is asked for them one by one: those are gone, the rest are read."""
    try:
        data = client.fetch(uids, ["BODY.PEEK[]"])
    except IMAPClientError as exc:
        if not _gone_meanwhile(exc):
            raise
        if len(uids) == 1:
            return {}
        client.noop()  # take in the expunges the other session made
        out: dict[int, bytes] = {}
        for uid in uids:
            out.update(_fetch_bodies(client, [uid]))
        return out
    return {
        uid: item[b"BODY[]"]
        for uid, item in data.items()
        if isinstance(item, dict) and item.get(b"BODY[]") is not None
    }


def _take_batch(
    session: Session, name: str, bodies: dict[int, bytes], now: datetime, leftover_before
) -> tuple[list[int], list[int], list[int]]:
    """Receive (and process the new ones of) a batch and commit. Returns the UIDs taken now,
    and the duplicates: each is to be moved too when it was taken before ``leftover_before``
    (a move that failed after its commit), else its taker is moving it right now (two fetchers
    moving one mail would leave two copies in the taken folder) — it is counted, left alone,
    and moved by a later fetch if its taker never does."""
    new: list[int] = []
    duplicates: list[int] = []
    leftovers: list[int] = []
    for uid, raw in bodies.items():
        row, is_new = inbound.receive(session, raw, name, now)
        if is_new:
            inbound.process(session, row, now)
            new.append(uid)
        else:
            duplicates.append(uid)
            if row.received_at <= leftover_before:
                leftovers.append(uid)
    session.commit()
    return new, duplicates, leftovers


def fetch_once(
    session: Session,
    mailbox: Mailbox,
    now: datetime,
    *,
    limit: int,
    timeout: float | None = None,
    config: Mapping | None = None,
) -> FetchResult:
    """Take up to ``limit`` mails from ``mailbox`` (see the module's docstring). Commits the
    session (after each batch, and the mailbox's last fetch at the end). Never raises for the
    server's or the network's failures: they are the result's ``error`` and the mailbox's
    ``last_error``."""
    config = config if config is not None else current_app.config
    timeout = timeout if timeout is not None else float(config.get("INBOUND_IMAP_TIMEOUT", 30))
    # a fetcher holds a mailbox at most this long: a duplicate taken longer ago is a leftover
    leftover_before = now - timedelta(seconds=float(config.get("INBOUND_LOCK_SECONDS", 300)))
    name, after_taking, taken_folder = mailbox.name, mailbox.after_taking, mailbox.taken_folder
    taken = duplicates = gone = 0
    error: str | None = None
    secrets: tuple[str, ...] = ()
    client: IMAPClient | None = None
    try:
        account = account_of(mailbox, config)
    except FetchError as exc:
        account, error = None, str(exc)
    # nothing of ours is held while we talk to the server (SQLite: no write lock)
    session.rollback()
    try:
        if account is None:
            raise FetchError(*error.split(": ", 1))
        secrets = (account.password,)
        client = connect(account, timeout)
        uids = sorted(client.search("ALL"))[: max(0, limit)]
        if uids and after_taking == "move":
            try:
                _ensure_folder(client, taken_folder)
            except IMAPClientError as exc:
                raise FetchError("folder", f"{taken_folder}: {_words(exc)}") from None
        for start in range(0, len(uids), BATCH):
            batch = uids[start : start + BATCH]
            bodies = _fetch_bodies(client, batch)
            gone += len(batch) - len(bodies)
            try:
                new, dupes, leftovers = _take_batch(session, name, bodies, now, leftover_before)
            except SQLAlchemyError as exc:
                session.rollback()  # not committed: the mails stay in the mailbox
                log.error("mailbox %s: the database refused a batch (%s)", name, type(exc).__name__)
                raise FetchError("database", type(exc).__name__) from None
            taken += len(new)
            duplicates += len(dupes)
            _remove(client, sorted(new + leftovers), after_taking, taken_folder)
    except FetchError as exc:
        error = _scrub(str(exc), secrets)
    except (OSError, IMAPClientError) as exc:  # a timeout is an OSError too
        error = _scrub(f"server: {_words(exc)}", secrets)
    finally:
        if client is not None:
            _close(client)
    if error:
        log.warning("mailbox %s: %s", name, error)
    _note(session, mailbox, now, taken, error)
    return FetchResult(taken=taken, duplicates=duplicates, error=error, gone=gone)


def _note(session: Session, mailbox: Mailbox, now: datetime, taken: int, error: str | None):
    """The mailbox's last fetch, in a transaction of its own (after the mails' commits: a
    fetcher never holds the mailbox row while it takes mails)."""
    try:
        mailbox.last_fetch_at = now
        mailbox.last_error = error
        mailbox.last_taken_count = taken
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        log.error("mailbox %s: could not note the fetch", mailbox.name)


def error_code(last_error: str | None) -> str | None:
    """The code ``last_error`` starts with (one of ERROR_CODES), None when there is none."""
    if not last_error:
        return None
    code = last_error.split(":", 1)[0]
    return code if code in ERROR_CODES else "server"


def error_detail(last_error: str | None) -> str:
    if not last_error:
        return ""
    code, _, detail = last_error.partition(":")
    return detail.strip() if code in ERROR_CODES else last_error
