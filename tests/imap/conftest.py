"""The IMAP tests run against a real dovecot (tests/imap_server.py). Without /usr/sbin/dovecot
they are skipped with the reason, unless CI=true: there a missing dovecot fails them."""

from __future__ import annotations

import os

import pytest

from tests.imap_server import DOVECOT, DovecotMissing, ImapServer

MISSING = f"IMAP tests need {DOVECOT} (Debian: apt-get install dovecot-imapd)"


@pytest.fixture(scope="session")
def _dovecot():
    try:
        server = ImapServer({"desk": "desk-pass", "other": "other-pass"}).start()
    except DovecotMissing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{MISSING}; CI=true, so this is a failure, not a skip")
        pytest.skip(MISSING)
    yield server
    server.stop()


@pytest.fixture
def imap_server(_dovecot):
    """The dovecot instance, every mailbox empty and only INBOX left at the start of the test."""
    _dovecot.reset()
    return _dovecot
