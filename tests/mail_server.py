"""A real SMTP server for tests (aiosmtpd), on 127.0.0.1 and a free port.

Usable outside pytest too (a browser journey in another process tree)::

    server = MailServer().start()
    ...  # MAIL_SERVER=server.host MAIL_PORT=server.port
    mail = server.wait_for(lambda m: m["To"] == "li@example.com", timeout=10)
    server.stop()
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class _Collector:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = message_from_bytes(
            envelope.original_content or envelope.content, policy=policy.default
        )
        self.server._received(message, list(envelope.rcpt_tos))
        return "250 OK"


class MailServer:
    """Collects every mail it receives as a parsed ``email.message.EmailMessage``."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._lock = threading.Condition()
        self._messages: list[EmailMessage] = []
        self.envelope_recipients: list[list[str]] = []
        self._controller: Controller | None = None

    def start(self) -> MailServer:
        self._controller = Controller(_Collector(self), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _received(self, message: EmailMessage, recipients: list[str]) -> None:
        with self._lock:
            self._messages.append(message)
            self.envelope_recipients.append(recipients)
            self._lock.notify_all()

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self.envelope_recipients.clear()

    def wait_for(
        self, predicate: Callable[[EmailMessage], bool] = lambda _m: True, timeout: float = 10.0
    ) -> EmailMessage:
        """The first mail received that satisfies ``predicate``, waiting at most ``timeout``
        seconds for it; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for message in self._messages:
                    if predicate(message):
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"no matching mail within {timeout}s ({len(self._messages)} received)"
                    )
                self._lock.wait(min(left, 0.1))


def body_text(message: EmailMessage) -> str:
    """The plain-text part of a mail."""
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""
