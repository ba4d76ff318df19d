"""A committed database of its own, real `portal worker` processes and an SMTP server, for the
SLA timer tests that must see what other processes commit (the rolled-back test transaction
cannot show that)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from redis import Redis
from sqlalchemy import func, select, update

from portal import create_app
from portal.migrate import upgrade
from portal.models import ServiceRequest
from tests.live_db import empty_postgres_database

CHEAP_HASH = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def live_database(base_url: str, tmp_path: Path) -> str:
    """A fresh, migrated database beside the test database: a SQLite file, or on PostgreSQL
    the database ``<name>_live`` (created when missing, emptied each time)."""
    if base_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / f'live-{uuid.uuid4().hex[:8]}.db'}"
    else:
        url = empty_postgres_database(base_url, "live")
    upgrade(url)
    return url


class LiveDesk:
    def __init__(self, base_url: str, redis_url: str, tmp_path: Path, **config) -> None:
        self.tmp = tmp_path
        self.url = live_database(base_url, tmp_path)
        self.redis_url = redis_url
        self.redis = Redis.from_url(redis_url)
        self.redis.flushdb()
        self.config = {
            "SLA_SWEEP_SECONDS": 2.0,
            "MAIL_SERVER": None,
            "MAIL_PORT": 25,
            "MAIL_RETRY_BASE_SECONDS": 1.0,
            **config,
        }
        self.app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": self.url,
                "REDIS_URL": redis_url,
                "SECRET_KEY": "live-test",
                "PASSWORD_HASH": CHEAP_HASH,
                "UPLOAD_FOLDER": str(tmp_path / "uploads"),
                **self.config,
            }
        )
        self.workers: list[subprocess.Popen] = []
        self.ctx = self.app.app_context()
        self.ctx.push()

    # --- data ----------------------------------------------------------------------------------

    @property
    def session(self):
        from portal.db import db

        return db.session

    def people(self) -> dict:
        from tests.factories import Factory

        f = Factory(self.session, self.app)
        people = {
            "supervisor": f.staff("supervisor"),
            "supervisor2": f.staff("supervisor"),
            "admin": f.staff("admin"),
            "dispatcher": f.staff("dispatcher"),
            "engineer": f.staff("engineer"),
            "customer": f.customer(),
        }
        self.session.commit()
        self.factory = f
        return people

    def requests_due(
        self, contact, n: int, due: datetime, *, submitted_ago=timedelta(hours=1)
    ) -> list[int]:
        """``n`` requests whose resolution is due at ``due`` (committed: the timers are scheduled
        after the commit)."""
        ids = []
        for _ in range(n):
            sr = self.factory.request(contact, now=due - submitted_ago)
            sr.priority = "P2"
            sr.status = "pending_assignment"
            sr.resolution_due_at = due
            ids.append(sr.id)
        self.session.commit()
        return ids

    def move_due(self, ids: list[int], lead: timedelta) -> datetime:
        """Make the resolution of ``ids`` due ``lead`` from now — now being after the test's
        set-up, however long that took — in one statement, and reschedule their timers
        (committed: the jobs are scheduled after the commit). Returns the due time."""
        from portal.services import timers

        due = utcnow() + lead
        self.session.execute(
            update(ServiceRequest)
            .where(ServiceRequest.id.in_(ids))
            .values(resolution_due_at=due, resolution_warn_at=None)
        )
        moved = self.session.scalars(
            select(ServiceRequest)
            .where(ServiceRequest.id.in_(ids))
            .execution_options(populate_existing=True)
        )
        for sr in moved:
            timers.reschedule(self.session, sr)
        self.session.commit()
        return due

    def sweep_ran_after(self, mark: datetime) -> bool:
        """Whether a sweep that started after ``mark`` has finished: each time slot of
        SLA_SWEEP_SECONDS has one sweep job (portal.jobs_sla.ensure_sweep), enqueued once its
        slot has begun, so the sweep of a slot that began after ``mark`` started after it."""
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        from portal.jobs_sla import sweep_job_id

        interval = self.config["SLA_SWEEP_SECONDS"]
        first = int(mark.timestamp() // interval) + 1
        for slot in range(first, int(time.time() // interval) + 1):
            try:
                if Job.fetch(sweep_job_id(slot), connection=self.redis).get_status() == "finished":
                    return True
            except NoSuchJobError:
                continue
        return False

    def wait_for_a_sweep_after(self, mark: datetime, seconds: float = 60) -> float:
        """Wait (at most ``seconds``) until a whole sweep has run after ``mark``."""
        return wait_until(
            lambda: self.sweep_ran_after(mark),
            seconds,
            f"a sweep started after {mark:%H:%M:%S.%f}",
            self.logs,
        )

    def count(self, model, *where) -> int:
        return self.rows(select(func.count()).select_from(model).where(*where))[0][0]

    def rows(self, stmt):
        # read and end the transaction at once: on SQLite an open one holds the write lock
        try:
            return self.session.execute(stmt).all()
        finally:
            self.session.rollback()

    # --- processes -----------------------------------------------------------------------------

    def start_worker(self, **env) -> subprocess.Popen:
        environ = {
            **os.environ,
            "DATABASE_URL": self.url,
            "REDIS_URL": self.redis_url,
            "SECRET_KEY": "live-test",
            "SLA_SWEEP_SECONDS": str(self.config["SLA_SWEEP_SECONDS"]),
            "MAIL_RETRY_BASE_SECONDS": str(self.config["MAIL_RETRY_BASE_SECONDS"]),
            "PYTHONPATH": str(ROOT),
            **{k: str(v) for k, v in env.items()},
        }
        if self.config.get("MAIL_SERVER"):
            environ["MAIL_SERVER"] = self.config["MAIL_SERVER"]
            environ["MAIL_PORT"] = str(self.config["MAIL_PORT"])
        log = open(self.tmp / f"worker-{len(self.workers)}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-c", "from portal.cli import main; main()", "worker"],
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(self.tmp),
            start_new_session=True,  # its own process group: a kill reaches its work horses
        )
        self.workers.append(proc)
        return proc

    @staticmethod
    def kill(proc: subprocess.Popen, sig=signal.SIGKILL) -> None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.tmp.glob("worker-*.log")))

    def close(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                self.kill(proc, signal.SIGTERM if False else signal.SIGKILL)
        self.session.close()
        self.ctx.pop()
        self.app.extensions["portal_db"].engine.dispose()
        self.redis.flushdb()


def wait_until(check: Callable[[], bool], seconds: float, what: str, logs=None) -> float:
    """Poll ``check`` until true, at most ``seconds`` from now (the caller's set-up is done);
    returns the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if check():
            return time.monotonic() - start
        time.sleep(0.1)
    extra = f"\n--- worker logs ---\n{logs()[-4000:]}" if logs else ""
    raise AssertionError(f"timed out after {seconds}s waiting for {what}{extra}")


def utcnow() -> datetime:
    return datetime.now(UTC)


class SmtpSink:
    """A real SMTP server (aiosmtpd) on a fixed loopback port that can be stopped and restarted."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.messages: list = []
        self.controller = None

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller
        from aiosmtpd.handlers import Message

        sink = self

        class Handler(Message):
            def handle_message(self, message):
                sink.messages.append(message)

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
