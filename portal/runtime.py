"""The two runtimes (README: Settings and Production).

Embedded (no REDIS_URL): one process holds everything. A Redis stand-in (fakeredis) is served over
loopback from a daemon thread, the web server runs in another daemon thread, and the RQ worker with
its scheduler owns the main thread, because RQ installs signal handlers. RQ forks its scheduler and
a work horse per job; a plain in-memory FakeRedis would not be shared with them, a loopback server is.

Production (REDIS_URL set): the web (gunicorn, or werkzeug for a quick look) and any number of
`portal worker` processes are separate.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable

from flask import Flask
from redis import Redis
from rq import Queue, SimpleWorker, Worker
from werkzeug.serving import BaseWSGIServer, make_server

log = logging.getLogger(__name__)


class RedisStandIn:
    """An in-memory Redis served on 127.0.0.1 from a daemon thread of this process."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from fakeredis import TcpFakeServer

        self.server = TcpFakeServer((host, port), server_type="redis")
        # connection threads must not keep the process alive after Ctrl-C
        self.server.daemon_threads = True
        self.server.block_on_close = False
        # without TCP_NODELAY every pipelined reply waits for a delayed ACK (~40 ms per RQ call)
        accept = self.server.get_request

        def get_request():
            sock, addr = accept()
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock, addr

        self.server.get_request = get_request
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="redis-stand-in", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"redis://{host}:{port}/0"

    def start(self) -> RedisStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class WebServer:
    """werkzeug's threaded server in a daemon thread (embedded runtime, development)."""

    def __init__(self, app: Flask, host: str, port: int) -> None:
        self.server: BaseWSGIServer = make_server(host, port, app, threaded=True)
        self._thread = threading.Thread(target=self.server.serve_forever, name="web", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> WebServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def use_redis(app: Flask, url: str) -> None:
    """Point the app, and every process forked from here, at ``url``."""
    app.config["REDIS_URL"] = url
    app.extensions.pop("portal_redis", None)  # portal.queue caches the connection
    os.environ["REDIS_URL"] = url


def run_worker(
    redis_url: str, queues: Iterable[str] = ("default",), *, burst: bool = False
) -> bool:
    """`rq worker --with-scheduler` in this process's main thread (the scheduler in a thread of
    it, not a forked process); returns when stopped."""
    from portal import jobs

    # The jobs' app is built here, before forking: each work horse inherits it instead of paying
    # for create_app() per job. Its engine has never connected, so no connection crosses a fork.
    app = jobs.preload_app()
    queues = list(queues)
    conn = Redis.from_url(redis_url)
    # A work horse per job (RQ's Worker) costs a fork and cold caches each time: ~100 ms a job,
    # so 1,000 deadlines in a minute ran up to 5 s late. Jobs run in this process instead
    # (SimpleWorker: job timeouts still apply), unless PORTAL_WORKER_FORK=1.
    worker_class = Worker if os.environ.get("PORTAL_WORKER_FORK") == "1" else SimpleWorker
    worker = worker_class([Queue(name, connection=conn) for name in queues], connection=conn)
    port = int(app.config.get("METRICS_PORT") or 0)
    if port and not burst:
        # this worker's own counters (SLA events, outbox, sweeps) for Prometheus
        from prometheus_client import start_http_server

        start_http_server(port, addr=os.environ.get("METRICS_ADDR", "127.0.0.1"))
    if not burst:
        # the SLA sweep (docs/product.md §4): scheduled from here, so it survives a flushed Redis
        from portal.jobs_sla import start_sweep_keeper, warm_up

        warm_up(app)
        start_sweep_keeper(redis_url, float(app.config["SLA_SWEEP_SECONDS"]), queues[0])
        # inbound mail from the IMAP mailboxes (docs/product.md §9), the same way; 0 leaves it
        # to `portal mail fetch` (deploy/systemd/portal-mail-fetch.timer)
        poll = float(app.config["INBOUND_POLL_SECONDS"])
        if poll > 0:
            from portal.jobs_inbound import start_fetch_keeper

            start_fetch_keeper(redis_url, poll, queues[0])
    if burst:
        # burst: RQ moves the due scheduled jobs once, in this process (no fork)
        return worker.work(with_scheduler=True, burst=True)
    # RQ's own scheduler is a forked process; a fork of this process, whose threads (the keepers,
    # the embedded web) may hold a lock at that instant (an import's, a logging handler's), can
    # hang in the child and then the worker's shutdown with it. The same scheduler in a thread.
    stop_scheduler = start_scheduler_thread(conn, queues)
    try:
        return worker.work(with_scheduler=False, burst=False)
    finally:
        stop_scheduler.set()


def start_scheduler_thread(conn: Redis, queues: list[str], interval: int = 1):
    """RQ's scheduler loop (`RQScheduler.work`: take or refresh the lock per queue, move the due
    scheduled jobs to their queues) in a daemon thread of this process; one scheduler per queue
    at a time across every worker, by RQ's locks. Returns the event that stops it."""
    from rq.scheduler import RQScheduler

    scheduler = RQScheduler(queues, connection=conn, interval=interval)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                if scheduler.should_reacquire_locks:
                    scheduler.acquire_locks()
                if scheduler.acquired_locks:
                    scheduler.heartbeat()
                    scheduler.enqueue_scheduled_jobs()
            except Exception:  # noqa: BLE001 - Redis away for a moment: the next tick retries
                log.warning("the job scheduler could not run", exc_info=True)
            stop.wait(interval)
        try:
            scheduler.release_locks()
        except Exception:  # noqa: BLE001 - Redis gone: the locks expire on their own
            log.debug("scheduler locks not released", exc_info=True)

    threading.Thread(target=loop, name="rq-scheduler", daemon=True).start()
    return stop


def run_embedded(
    app: Flask,
    host: str = "127.0.0.1",
    port: int = 5000,
    *,
    redis_port: int = 0,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Web + Redis stand-in + worker and scheduler, in this process, until Ctrl-C."""
    web = WebServer(app, host, port)  # binds first: a busy port fails before anything starts
    standin = RedisStandIn(port=redis_port).start()
    use_redis(app, standin.url)
    # the forked work horses build their app from the environment: same database as the web
    os.environ["DATABASE_URL"] = app.config["DATABASE_URL"]
    web.start()
    log.info("Redis stand-in on %s (in memory: queued jobs end with the process)", standin.url)
    if on_ready is not None:
        on_ready(web.url)
    try:
        run_worker(standin.url, app.config["RQ_QUEUES"])
    finally:
        web.stop()
        standin.stop()


def serve_web(
    app: Flask,
    host: str = "127.0.0.1",
    port: int = 5000,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Only the web, in the foreground (workers run elsewhere): werkzeug, for development."""
    server = make_server(host, port, app, threaded=True)
    if on_ready is not None:
        host_, port_ = server.server_address[:2]
        on_ready(f"http://{host_}:{port_}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
