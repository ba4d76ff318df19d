"""The mailbox passwords at rest: Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``)
under a key derived from MAILBOX_KEY, or SECRET_KEY when that is not set. The password is needed
in the clear to log in, so it cannot be hashed; it is never shown, logged or audited.

Changing the key (or SECRET_KEY without MAILBOX_KEY) makes the stored passwords unreadable:
each mailbox then reports that its password must be entered again."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken


class SecretUnreadable(ValueError):
    """The stored password was encrypted under another key (or is damaged)."""


def _fernet(config: Mapping) -> Fernet:
    secret = config.get("MAILBOX_KEY") or config["SECRET_KEY"]
    key = base64.urlsafe_b64encode(hashlib.sha256(str(secret).encode("utf-8")).digest())
    return Fernet(key)


def encrypt(config: Mapping, password: str) -> str:
    return _fernet(config).encrypt(password.encode("utf-8")).decode("ascii")


def decrypt(config: Mapping, token: str) -> str:
    try:
        return _fernet(config).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        raise SecretUnreadable("the stored mailbox password cannot be read") from None
