"""A real IMAP server for tests and the bench: Debian's dovecot (dovecot-imapd) as a process of
its own, with its own configuration in a temporary folder (127.0.0.1, a free port, plaintext
login, a passwd-file of users, maildirs under the folder, its log in the folder). The system's
dovecot service is neither needed nor touched.

    server = ImapServer({"desk": "desk-pass"}).start()
    server.append("desk", [raw_mail, ...])          # delivered with a real client (APPEND)
    server.count("desk", "Portal/Taken")
    server.stop()
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from imapclient import IMAPClient

DOVECOT = "/usr/sbin/dovecot"
START_TIMEOUT = 15.0


class DovecotMissing(RuntimeError):
    """/usr/sbin/dovecot is not installed (Debian: apt-get install dovecot-imapd)."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _greets(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0) as sock:
            sock.settimeout(1.0)
            return sock.recv(200).startswith(b"* OK")
    except OSError:
        return False


CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_uid = {uid}
mail_gid = {gid}
mail_location = maildir:{root}/mail/%u
namespace inbox {{
  separator = /
  inbox = yes
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  inet_listener http {{
    port = 0
  }}
}}
"""


class ImapServer:
    """One dovecot instance; ``users`` maps user names to their passwords."""

    def __init__(self, users: dict[str, str] | None = None, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.users = dict(users or {"desk": "desk-pass"})
        self.root: Path | None = None
        self._process: subprocess.Popen | None = None

    # --- life --------------------------------------------------------------------------------

    def start(self) -> ImapServer:
        if not os.path.exists(DOVECOT):
            raise DovecotMissing(f"{DOVECOT} is missing (Debian: apt-get install dovecot-imapd)")
        self.root = Path(tempfile.mkdtemp(prefix="portal-imap-"))
        self.root.chmod(0o755)  # the mail processes run as the dovecot user when we are root
        if os.geteuid() == 0:
            internal = pwd.getpwnam("dovecot")
            login = "dovenull" if _user_exists("dovenull") else "dovecot"
            uid, gid, internal_name, login_name = (
                internal.pw_uid,
                internal.pw_gid,
                "dovecot",
                login,
            )
        else:
            me = pwd.getpwuid(os.geteuid())
            uid, gid, internal_name, login_name = me.pw_uid, me.pw_gid, me.pw_name, me.pw_name
        for sub in ("run", "state", "mail", "home"):
            (self.root / sub).mkdir()
        for sub in ("mail", "home"):
            os.chown(self.root / sub, uid, gid) if os.geteuid() == 0 else None
        self._write_passwd()
        self.port = free_port(self.host)
        config = self.root / "dovecot.conf"
        config.write_text(
            CONFIG.format(
                root=self.root,
                internal=internal_name,
                internal_group=_group_name(gid),
                login=login_name,
                uid=uid,
                gid=gid,
                port=self.port,
            )
        )
        self._process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not _greets(self.host, self.port):
            if self._process.poll() is not None:
                log = self.log()
                self.stop()
                raise RuntimeError(f"dovecot exited at start:\n{log[-2000:]}")
            if time.monotonic() > deadline:
                log = self.log()
                self.stop()
                raise TimeoutError(f"dovecot gave no greeting in {START_TIMEOUT}s:\n{log[-2000:]}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
            self._process = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> ImapServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def log(self) -> str:
        path = self.root / "dovecot.log" if self.root else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    # --- users and mail ----------------------------------------------------------------------

    def _write_passwd(self) -> None:
        assert self.root is not None
        path = self.root / "passwd"
        path.write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in self.users.items()))
        path.chmod(0o644)

    def add_user(self, user: str, password: str) -> None:
        """Another user (dovecot re-reads the passwd-file when it changes)."""
        self.users[user] = password
        self._write_passwd()

    def client(self, user: str = "desk") -> IMAPClient:
        """A logged-in client; close it with ``logout()``."""
        imap = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        imap.login(user, self.users[user])
        return imap

    def append(self, user: str, messages: Iterable[bytes], folder: str = "INBOX") -> int:
        imap = self.client(user)
        try:
            if not imap.folder_exists(folder):
                imap.create_folder(folder)
            count = 0
            for raw in messages:
                imap.append(folder, raw)
                count += 1
            return count
        finally:
            imap.logout()

    def count(self, user: str = "desk", folder: str = "INBOX") -> int:
        """How many mails ``folder`` holds (0 when it does not exist)."""
        imap = self.client(user)
        try:
            if not imap.folder_exists(folder):
                return 0
            return int(imap.folder_status(folder, [b"MESSAGES"])[b"MESSAGES"])
        finally:
            imap.logout()

    def message_ids(self, user: str = "desk", folder: str = "INBOX") -> list[str]:
        imap = self.client(user)
        try:
            if not imap.folder_exists(folder):
                return []
            imap.select_folder(folder, readonly=True)
            uids = imap.search("ALL")
            data = imap.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]) if uids else {}
            out = []
            for item in data.values():
                header = item.get(b"BODY[HEADER.FIELDS (MESSAGE-ID)]", b"").decode()
                out.append(header.split(":", 1)[-1].strip())
            return sorted(out)
        finally:
            imap.logout()

    def reset(self) -> None:
        """Every user's mail gone and every folder but INBOX removed."""
        for user in self.users:
            imap = self.client(user)
            try:
                folders = [
                    (name, flags)
                    for flags, _sep, name in imap.list_folders()
                    if name.upper() != "INBOX"
                ]
                # children first; a parent that only holds them (\\NonExistent) goes with them
                for name, flags in sorted(folders, key=lambda f: -f[0].count("/")):
                    if b"\\NonExistent" not in flags and b"\\Noselect" not in flags:
                        imap.delete_folder(name)
                imap.select_folder("INBOX")
                uids = imap.search("ALL")
                if uids:
                    imap.delete_messages(uids)
                    imap.expunge()
            finally:
                imap.logout()


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _group_name(gid: int) -> str:
    import grp

    return grp.getgrgid(gid).gr_name


def sample_mail(n: int, domain: str = "example.com", subject: str | None = None) -> bytes:
    """A small plain-text mail with a Message-ID of its own."""
    return (
        f"From: Customer {n} <customer{n}@{domain}>\r\n"
        f"To: desk@{domain}\r\n"
        f"Subject: {subject or f'Printer {n} does not print'}\r\n"
        f"Message-ID: <mail-{n}@{domain}>\r\n"
        "Date: Fri, 04 Dec 2026 10:00:00 +0800\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"Hello, printer {n} shows an error.\r\n"
    ).encode()
