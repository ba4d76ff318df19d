"""The embedded runtime, for real: `portal run` in a subprocess on a temporary SQLite file, with
its in-process Redis stand-in, worker and scheduler. A request submitted from this test process
is enqueued on the stand-in; only the subprocess's worker can turn it into notifications."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select

from portal import create_app
from portal.db import db
from portal.migrate import upgrade
from portal.models import Notification, utcnow
from tests.conftest import CHEAP_HASH
from tests.factories import Factory

pytestmark = pytest.mark.slow
# the console script the package installs, as a user runs it
PORTAL = str(Path(sys.executable).with_name("portal"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def embedded(tmp_path):
    """`portal run` without REDIS_URL: the embedded runtime, stopped with SIGINT at the end."""
    url = f"sqlite:///{tmp_path / 'runtime.db'}"
    upgrade(url)
    port, redis_port = _free_port(), _free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "FLASK_APP")
    }
    env.update(
        DATABASE_URL=url,
        SECRET_KEY="runtime-test-secret",
        UPLOAD_FOLDER=str(tmp_path / "uploads"),
        PYTHONUNBUFFERED="1",
    )
    log = open(tmp_path / "portal.log", "w+")  # noqa: SIM115
    proc = subprocess.Popen(
        [PORTAL, "run", "--port", str(port), "--redis-port", str(redis_port)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"

    def healthy():
        if proc.poll() is not None:
            raise AssertionError(f"portal run exited: {(tmp_path / 'portal.log').read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as resp:
                return json.load(resp)
        except OSError:  # refused, reset or timed out (URLError is one): not up yet
            return None

    health = _wait_for(healthy, 60, "/healthz")
    app = create_app(
        {
            "DATABASE_URL": url,
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "SECRET_KEY": "runtime-test-secret",
            "PASSWORD_HASH": CHEAP_HASH,
        }
    )
    try:
        yield {
            "proc": proc,
            "app": app,
            "health": health,
            "base": base,
            "log": tmp_path / "portal.log",
        }
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def _notifications(app, request_id: int) -> list[Notification]:
    with app.app_context():
        return db.session.scalars(
            select(Notification).where(Notification.request_id == request_id)
        ).all()


def test_embedded_runtime_runs_jobs_and_scheduled_jobs_and_stops_on_ctrl_c(embedded):
    app, proc = embedded["app"], embedded["proc"]
    assert embedded["health"] == {"status": "ok"}
    # ready once the in-process worker has swept: database, schema, stand-in, sweep, outbox
    base = embedded["base"]

    def ready():
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as resp:
                return json.load(resp)
        except urllib.error.HTTPError as exc:
            assert exc.code == 503
            return None
        except OSError:  # refused, reset or timed out (URLError is one): not up yet
            return None

    readiness = _wait_for(ready, 60, "/readyz to answer 200")
    assert readiness["status"] == "ready"
    assert {name: c["status"] for name, c in readiness["checks"].items()} == {
        "database": "ok",
        "migrations": "ok",
        "redis": "ok",
        "sla_sweep": "ok",
        "outbox": "ok",
        "inbound": "not configured",
    }

    with app.app_context():
        factory = Factory(db.session, app)
        supervisor = factory.staff("supervisor")
        contact = factory.customer()
        sr = factory.request(contact, title="打印机无法连接")
        # the commit enqueues portal.jobs.request_submitted on the runtime's stand-in
        db.session.commit()
        sr_id, supervisor_id = sr.id, supervisor.id
        later = factory.request(contact, title="第二个请求")
        # drop this one's after-commit job: it goes through the scheduler below instead
        db.session.info.pop("portal_after_commit")
        db.session.commit()
        later_id = later.id

    told = _wait_for(lambda: _notifications(app, sr_id), 60, "the worker to run the job")
    assert [(n.recipient_id, n.kind) for n in told] == [(supervisor_id, "request_submitted")]

    # a job scheduled two seconds ahead: the scheduler moves it to the queue, the worker runs it
    conn = Redis.from_url(app.config["REDIS_URL"])
    scheduled_at = utcnow()
    job = Queue("default", connection=conn).enqueue_in(
        timedelta(seconds=2), "portal.jobs.request_submitted", later_id
    )
    assert job.get_status() == "scheduled"
    told = _wait_for(lambda: _notifications(app, later_id), 60, "the scheduled job")
    # RQ keeps scheduled times in whole seconds: it may start up to a second early, not sooner
    assert told[0].created_at - scheduled_at >= timedelta(seconds=1)
    # the job's commit comes just before RQ records the job as finished
    _wait_for(lambda: job.get_status(refresh=True) == "finished", 30, "the job to be finished")

    proc.send_signal(signal.SIGINT)
    try:
        # a bound on a busy machine: the worker first finishes the job at hand (warm shutdown)
        assert proc.wait(timeout=120) == 0
    except subprocess.TimeoutExpired as exc:
        log_text = embedded["log"].read_text(errors="replace")[-4000:]
        raise AssertionError(f"portal run did not stop on Ctrl-C:\n{log_text}") from exc
    assert "Stopped." in embedded["log"].read_text()


@pytest.fixture
def own_redis_url():
    """A Redis of this test's own: the real one from REDIS_URL (flushed), else a fresh embedded
    stand-in, so that nothing the rest of the suite left in the shared one (thousands of tests
    before this one) can slow the worker down or hand it other jobs."""
    url = os.environ.get("REDIS_URL")
    if url:
        Redis.from_url(url).flushdb()
        yield url
        return
    from fakeredis import TcpFakeServer

    server = TcpFakeServer(("127.0.0.1", _free_port()), server_type="redis")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.server_address[1]}/0"
    server.shutdown()
    server.server_close()


def test_worker_command_runs_queued_jobs_in_burst(tmp_path, own_redis_url):
    """`portal worker` (production) against REDIS_URL: the same job, another process."""
    redis_url = own_redis_url
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    upgrade(url)
    app = create_app(
        {
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "w",
            "PASSWORD_HASH": CHEAP_HASH,
        }
    )
    with app.app_context():
        factory = Factory(db.session, app)
        factory.staff("supervisor")
        sr = factory.request(factory.customer())
        db.session.commit()
        sr_id = sr.id
    env = {k: v for k, v in os.environ.items() if k != "FLASK_APP"}
    env.update(DATABASE_URL=url, REDIS_URL=redis_url, SECRET_KEY="w")
    # a bound, not a budget: the worker normally stops within seconds; on a loaded CI machine
    # it may take longer, and if it never stops the failure shows what it printed
    try:
        done = subprocess.run(
            [PORTAL, "worker", "--burst"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"portal worker --burst did not stop: {exc.stderr!r}") from exc
    assert done.returncode == 0, done.stderr
    assert len(_notifications(app, sr_id)) == 1
