"""The portal as production runs it, for the browser journeys: a PostgreSQL database of its own
seeded with the demo data by `portal demo --no-serve`, gunicorn serving `wsgi:app` on 127.0.0.1,
and a real `portal worker` (RQ worker with scheduler) on a Redis database of its own."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from redis import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url

from portal.db import make_engine
from tests.live_db import empty_postgres_database

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser_database(base_url: str, name: str = "browser") -> str:
    """The database ``<name>_browser`` (``_browser_<BROWSER_RUN>`` when set, so that several runs
    can share a server) beside the test database, created when missing and emptied."""
    run = os.environ.get("BROWSER_RUN")
    return empty_postgres_database(base_url, name + (f"_{run}" if run else ""))


def browser_redis(base_url: str, offset: int = 1) -> str:
    """A Redis database below the test one (the test passes flush theirs after every test):
    ``offset`` 1 is the demo desk's, 2 the empty desk's; BROWSER_REDIS_DB moves the first."""
    parsed = make_url(base_url.replace("redis://", "redis+x://", 1))
    db = int(parsed.database or 0)
    first = int(os.environ.get("BROWSER_REDIS_DB") or (db - 1 if db > 0 else db + 1))
    other = first - (offset - 1) if first >= offset else first + (offset - 1)
    return base_url.rsplit("/", 1)[0] + f"/{other}" if parsed.database else f"{base_url}/{other}"


class LiveDesk:
    """Processes started in order (seed, web, worker) and stopped on close; logs kept in ``tmp``.

    ``seed="demo"`` seeds the demo data with `portal demo --no-serve`; ``seed="empty"`` only
    runs `portal db upgrade`, as an operator does on a fresh install. ``env`` adds settings
    (the mail server of a journey, for example)."""

    def __init__(
        self,
        database_url: str,
        redis_url: str,
        tmp: Path,
        *,
        seed: str = "demo",
        name: str = "browser",
        redis_offset: int = 1,
        env: dict[str, str] | None = None,
    ) -> None:
        self.tmp = tmp
        self.seed = seed
        self.database_url = browser_database(database_url, name)
        self.redis_url = browser_redis(redis_url, redis_offset)
        Redis.from_url(self.redis_url).flushdb()
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "SECRET_KEY": "browser-journeys",
            "UPLOAD_FOLDER": str(tmp / "uploads"),
            # deadlines are noticed within a second or two, and the board shows them as quickly
            "SLA_SWEEP_SECONDS": "1",
            "BOARD_REFRESH_SECONDS": "2",
            # the service plans' opener runs every two seconds (enqueued by the sweep)
            "PLAN_OPEN_SECONDS": "2",
            "PYTHONPATH": str(ROOT),
            # the worker's own metrics (portal/metrics.py); the web's are at /metrics
            "METRICS_PORT": str(free_port()),
        }
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # the web's configuration makes its own
        self.env.pop("MAIL_SERVER", None)
        self.env.update(env or {})
        self.procs: dict[str, subprocess.Popen] = {}
        self.engine = make_engine(self.database_url)

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            argv,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(ROOT),
            start_new_session=True,
        )
        self.procs[name] = proc
        return proc

    def portal(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        """Run the `portal` command as an operator would, against this desk; fails loudly."""
        done = subprocess.run(
            [sys.executable, "-c", "from portal.cli import main; main()", *args],
            env=self.env,
            cwd=str(ROOT),
            capture_output=True,
            text=True,
            timeout=180,
            input=input,
        )
        with open(self.tmp / "commands.log", "a") as log:
            log.write(f"$ portal {' '.join(args)}\n{done.stdout}{done.stderr}\n")
        if done.returncode != 0:
            raise RuntimeError(f"portal {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def start(self) -> LiveDesk:
        if self.seed == "demo":
            self.portal("demo", "--no-serve")
        else:
            self.portal("db", "upgrade")
        self._spawn(
            "web",
            [
                sys.executable, "-m", "gunicorn",
                # the deployment's configuration (deploy/gunicorn.conf.py: the access log, the
                # workers' shared metrics), with the journeys' own size and address
                "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
                "--workers", "2", "--threads", "4",
                "--bind", f"127.0.0.1:{self.port}",
                "--access-logfile", "-",
                "wsgi:app",
            ],
        )  # fmt: skip
        self._spawn(
            "worker", [sys.executable, "-c", "from portal.cli import main; main()", "worker"]
        )
        self._wait_healthy()
        return self

    def _wait_healthy(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited ({proc.returncode}):\n{self.logs()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz/sla", timeout=2) as r:
                    # up, and the worker's first SLA sweep has run: the whole desk is working
                    if r.status == 200 and json.loads(r.read()).get("sla_last_sweep"):
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the portal did not come up in {seconds}s:\n{self.logs()}")

    def sql(self, statement: str, **params):
        """Run one statement in its own committed transaction; returns all rows (if any)."""
        with self.engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return result.all() if result.returns_rows else None

    def logs(self, tail: int = 6000) -> str:
        out = []
        for path in sorted(self.tmp.glob("*.log")):
            out.append(f"--- {path.name} ---\n{path.read_text(errors='replace')[-tail:]}")
        return "\n".join(out)

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        self.engine.dispose()
