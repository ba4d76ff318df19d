"""The deployment files (deploy/): gunicorn with deploy/gunicorn.conf.py serves the portal, its
access log keeps the path and the request id but never the query string, and its workers'
metrics are counted together."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from portal.migrate import upgrade

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_with_the_deploy_configuration_logs_no_query_string(tmp_path):
    url = f"sqlite:///{tmp_path / 'deploy.db'}"
    upgrade(url)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "FLASK_APP")}
    env.update(
        DATABASE_URL=url,
        SECRET_KEY="deploy-test",
        PORTAL_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        UPLOAD_FOLDER=str(tmp_path / "uploads"),
        LOG_FORMAT="json",
    )
    log = open(tmp_path / "gunicorn.log", "w+")  # noqa: SIM115
    proc = subprocess.Popen(
        [GUNICORN, "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # a bound on a busy machine, not a budget
        while True:
            assert proc.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                    break
            except OSError:  # refused, reset or timed out (URLError is one): not up yet
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.2)
        request = urllib.request.Request(
            f"{base}/login?q=li.ming%40acme.example.com&phone=13812345678",
            headers={"X-Request-Id": "deploy-probe-7"},
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            assert resp.status == 200

        def logged() -> str:
            return (tmp_path / "gunicorn.log").read_text()

        deadline = time.monotonic() + 20
        while "deploy-probe-7" not in logged():
            assert time.monotonic() < deadline, logged()
            time.sleep(0.1)

        # two workers, one /metrics: every worker's requests are counted in every scrape
        for _ in range(9):
            with urllib.request.urlopen(f"{base}/login", timeout=10) as resp:
                assert resp.status == 200
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as resp:
            exposed = resp.read().decode()
        logins = [
            line
            for line in exposed.splitlines()
            if line.startswith("portal_http_request_duration_seconds_count{")
            and 'endpoint="customer.login"' in line
            and 'status="200"' in line
        ]
        assert logins and float(logins[0].rsplit(" ", 1)[1]) == 10.0, exposed[:2000]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    text = logged()
    line = next(x for x in text.splitlines() if "deploy-probe-7" in x)
    assert '"GET /login HTTP/1.1" 200' in line
    assert "q=" not in text and "li.ming" not in text and "13812345678" not in text
