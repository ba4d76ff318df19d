"""A local webhook receiver for the group bot tests: http.server in a thread on 127.0.0.1 that
records every request (path with query, headers, JSON body) and answers with the next of the
answers the test queued (else 200 with the platform's "ok")."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

OK = '{"errcode":0,"errmsg":"ok","code":0,"msg":"success"}'


@dataclass
class Received:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.raw.decode("utf-8"))


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.answers: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                parts = urlsplit(self.path)
                with receiver._lock:
                    receiver.requests.append(
                        Received(
                            parts.path,
                            parse_qs(parts.query, keep_blank_values=True),
                            dict(self.headers.items()),
                            raw,
                        )
                    )
                    status, body = receiver.answers.pop(0) if receiver.answers else (200, OK)
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, *answers: tuple[int, str]) -> None:
        with self._lock:
            self.answers.extend(answers)
