"""The deployment files (deploy/): gunicorn with deploy/gunicorn.conf.py serves the portal and
its access log keeps the path and the request id but never the query string."""

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
        WEB_CONCURRENCY="1",
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
            except (urllib.error.URLError, ConnectionError):
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
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    text = logged()
    line = next(x for x in text.splitlines() if "deploy-probe-7" in x)
    assert '"GET /login HTTP/1.1" 200' in line
    assert "q=" not in text and "li.ming" not in text and "13812345678" not in text
