"""gunicorn's configuration for the portal: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Every value can be changed by the environment named beside it. See deploy/README.md.
"""

import multiprocessing
import os
import shutil
import tempfile

# where to listen: behind nginx (deploy/nginx/portal.conf) on loopback
bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
# sync workers, two per core and one more (gunicorn's advice); each keeps its own connections
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# a page that takes longer than this is a bug, not a load: the worker is restarted
timeout = int(os.environ.get("PORTAL_WEB_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# recycle workers now and then, at different times, so that no slow leak grows for weeks
max_requests = 2000
max_requests_jitter = 200
# the heartbeat file on tmpfs: a slow disk must not make gunicorn think a worker hangs
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# logs on stderr, one line per request; the path only (%(U)s), never the query string (%(q)s,
# %(r)s), where a search for an e-mail or a phone number would land; the request id links the
# line to the portal's own log lines (portal/log_format.py)
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(L)s %({x-request-id}o)s'
# the client's address comes from X-Forwarded-For only through the portal's ProxyFix
# (PROXY_FIX_X_FOR, the number of trusted proxies), not through gunicorn
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Prometheus (portal/metrics.py): every worker writes its counters into one folder, and /metrics
# on any worker reads them all. A fresh folder per start (stale files would count twice); set
# PROMETHEUS_MULTIPROC_DIR to choose it (it is emptied at start).
_own_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="portal-metrics-")
shutil.rmtree(_metrics_dir, ignore_errors=True)
os.makedirs(_metrics_dir, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _own_metrics_dir:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
