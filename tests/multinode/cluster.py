"""Two web nodes and two workers, as production runs them on several machines: gunicorn with
deploy/gunicorn.conf.py on two ports and two `portal worker` processes, one PostgreSQL database
and one Redis database between them, mail to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.browser.live import ROOT, browser_database, browser_redis, free_port


class Cluster:
    def __init__(self, database_url: str, redis_url: str, tmp: Path, mail) -> None:
        from redis import Redis

        self.tmp = tmp
        self.database_url = browser_database(database_url, "multinode")
        self.redis_url = browser_redis(redis_url, 3)
        Redis.from_url(self.redis_url).flushdb()
        self.ports = [free_port(), free_port()]
        self.nodes = [f"http://127.0.0.1:{p}" for p in self.ports]
        self.env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "SECRET_KEY": "multinode",
            "UPLOAD_FOLDER": str(tmp / "uploads"),  # shared storage, as the README asks
            "SLA_SWEEP_SECONDS": "1",
            "MAIL_SERVER": mail.host,
            "MAIL_PORT": str(mail.port),
            "MAIL_FROM": "desk@multinode.example.com",
            "MAIL_RETRY_BASE_SECONDS": "1",
            "PORTAL_BASE_URL": self.nodes[0],
            "PYTHONPATH": str(ROOT),
            "LOG_FORMAT": "json",
        }
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.procs: dict[str, subprocess.Popen] = {}

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "a")  # noqa: SIM115
        proc = subprocess.Popen(
            argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT),
            start_new_session=True,
        )  # fmt: skip
        self.procs[name] = proc
        return proc

    def portal(self, *args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-c", "from portal.cli import main; main()", *args],
            env=self.env, cwd=str(ROOT), capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"portal {' '.join(args)}: {done.stdout}{done.stderr}")

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

    def logs(self, tail: int = 4000) -> str:
        return "\n".join(
            f"--- {p.name} ---\n{p.read_text(errors='replace')[-tail:]}"
            for p in sorted(self.tmp.glob("*.log"))
        )

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
