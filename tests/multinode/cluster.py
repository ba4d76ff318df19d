"""Two web nodes and two workers, as production runs them on several machines: gunicorn with
deploy/gunicorn.conf.py on two ports and two `portal worker` processes, one PostgreSQL database
and one Redis database between them, mail to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import os
import signal
import sys
import time
import urllib.request
from pathlib import Path

from tests.browser.live import ROOT, LiveDesk, free_port


class Cluster(LiveDesk):
    """LiveDesk's processes, logs and clean-up; two web nodes and two workers instead of one."""

    def __init__(self, database_url: str, redis_url: str, tmp: Path, mail) -> None:
        super().__init__(
            database_url,
            redis_url,
            tmp,
            seed="empty",
            name="multinode",
            redis_offset=3,
            env={
                "MAIL_SERVER": mail.host,
                "MAIL_PORT": str(mail.port),
                "MAIL_FROM": "desk@multinode.example.com",
                "MAIL_RETRY_BASE_SECONDS": "1",
                "LOG_FORMAT": "json",
            },
        )
        self.env.pop("METRICS_PORT", None)  # two workers on one machine: no shared port
        self.ports = [free_port(), free_port()]
        self.nodes = [f"http://127.0.0.1:{p}" for p in self.ports]
        self.env["PORTAL_BASE_URL"] = self.nodes[0]

    def start_web(self, i: int) -> None:
        self._spawn(
            f"web{i}",
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
             "--workers", "1", "--threads", "4", "--bind", f"127.0.0.1:{self.ports[i]}",
             "wsgi:app"],
        )  # fmt: skip

    def start_worker(self, i: int) -> None:
        self._spawn(
            f"worker{i}", [sys.executable, "-c", "from portal.cli import main; main()", "worker"]
        )

    def kill_worker(self, i: int) -> None:
        """As a crash would: SIGKILL, no warm shutdown."""
        proc = self.procs.pop(f"worker{i}")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def wait_ready(self, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        for base in self.nodes:
            while True:
                for name, proc in self.procs.items():
                    if proc.poll() is not None:
                        raise RuntimeError(f"{name} exited:\n{self.logs()}")
                try:
                    with urllib.request.urlopen(f"{base}/readyz", timeout=2) as resp:
                        if resp.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{base} was not ready in {seconds}s:\n{self.logs()}")
                time.sleep(0.2)
