"""Browser journeys: Playwright for Python driving Debian's Chromium (/usr/bin/chromium) against
the portal served by gunicorn with PostgreSQL, Redis and a real `portal worker` (tests/browser/live.py).

They run in scripts/test's PostgreSQL + Redis pass. Without Chromium or Playwright they are left
out with the reason (scripts/test lists them); with CI=true that is an error instead.

Every page a journey visits is checked with axe-core (tests/browser/a11y.py): a serious or
critical violation fails the test. Screenshots go to build/browser/screenshots/; with
UPDATE_SCREENSHOTS=1 the README's set is also written to docs/screenshots/.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.browser import a11y

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS", ROOT / "build" / "browser"))
SCREENSHOTS = ARTIFACTS / "screenshots"
README_SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# as root in a container, without GPU, and with the machine's closed network left alone
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
IN_CI = os.environ.get("CI") == "true"

REPORT = a11y.AxeReport()
RUN = {"browser": None, "seconds": 0.0, "tests": 0, "outcomes": {}}


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
    # the README's pictures first, while the desk holds the demo data as seeded (the journeys
    # add requests and breach deadlines)
    shots = [i for i in items if Path(str(i.fspath)).name == "test_screenshots.py"]
    if shots:
        first = next(n for n, i in enumerate(items) if here in Path(str(i.fspath)).parents)
        rest = [i for i in items if i not in shots]
        items[:] = rest[:first] + shots + rest[first:]
    # the metrics check last: it reads what every journey before it counted
    last = [i for i in items if Path(str(i.fspath)).name == "test_metrics_after_journeys.py"]
    items[:] = [i for i in items if i not in last] + last


def _leave_out(reason: str):
    if IN_CI:
        pytest.fail(f"CI=true: the browser journeys cannot be left out: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _leave_out(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _leave_out("Playwright for Python is not installed (pip install -e '.[test]')")
    return CHROMIUM


def _desk_urls(request) -> tuple[str, str]:
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url.startswith("postgresql") or not redis_url:
        # not a skip that hides anything: scripts/test runs them in its second pass
        pytest.skip("browser journeys run in the PostgreSQL + Redis pass (scripts/test pass 2)")
    request.getfixturevalue("chromium_path")  # no desk without a browser to drive it
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return database_url, redis_url


def _keep_logs(desk, folder: str) -> None:
    keep = ARTIFACTS / folder
    keep.mkdir(parents=True, exist_ok=True)
    for log in desk.tmp.glob("*.log"):
        shutil.copy(log, keep / log.name)


@pytest.fixture(scope="session")
def live_desk(request, tmp_path_factory):
    """The desk seeded with the demo data."""
    database_url, redis_url = _desk_urls(request)
    from tests.browser.live import LiveDesk

    desk = LiveDesk(database_url, redis_url, tmp_path_factory.mktemp("browser-desk"))
    try:
        desk.start()
    except Exception:
        desk.close()
        raise
    yield desk
    desk.close()
    _keep_logs(desk, "logs")


@pytest.fixture(scope="session")
def mail_server():
    """A real SMTP server (aiosmtpd) the desk's worker sends its mail to."""
    from tests.mail_server import MailServer

    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def empty_desk(request, tmp_path_factory, mail_server):
    """A fresh install: an empty database after `portal db upgrade`, mail to ``mail_server``,
    links built from the desk's own address (PORTAL_BASE_URL)."""
    database_url, redis_url = _desk_urls(request)
    from tests.browser.live import LiveDesk

    desk = LiveDesk(
        database_url,
        redis_url,
        tmp_path_factory.mktemp("browser-empty-desk"),
        seed="empty",
        name="browser_adoption",
        redis_offset=2,
        env={
            "MAIL_SERVER": mail_server.host,
            "MAIL_PORT": str(mail_server.port),
            "MAIL_FROM": "servicedesk@adopt.example.com",
            "MAIL_RETRY_BASE_SECONDS": "1",
        },
    )
    desk.env["PORTAL_BASE_URL"] = desk.base_url
    try:
        desk.start()
    except Exception:
        desk.close()
        raise
    yield desk
    desk.close()
    _keep_logs(desk, "logs-empty-desk")


@pytest.fixture(scope="session")
def chromium(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        RUN["browser"] = f"Chromium {browser.version} ({chromium_path})"
        yield browser
        browser.close()


class Visit:
    """One browser context (one person at one screen) in a journey: navigation helpers that check
    every page with axe-core, screenshots, and the page's own errors."""

    def __init__(self, context, base_url: str, name: str) -> None:
        self.context = context
        self.base_url = base_url
        self.name = name
        self.page = context.new_page()
        self.page.set_default_timeout(10_000)
        self.errors: list[str] = []
        self.navigated: list[str] = []
        self.checked: set[str] = set()
        self.axe_failures: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        # statuses the journey provokes on purpose (a form sent with a mistake answers 400/422)
        self.expected_statuses: set[int] = set()
        self.page.on("console", self._on_console)
        self.page.on("response", self._on_response)
        self.page.on(
            "framenavigated",
            lambda frame: (
                self.navigated.append(frame.url) if frame == self.page.main_frame else None
            ),
        )

    def _on_console(self, msg) -> None:
        # "Failed to load resource" repeats a response the response listener judges
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            self.errors.append(f"console {msg.type}: {msg.text}")

    def _on_response(self, response) -> None:
        status = response.status
        if status >= 500 or (status >= 400 and status not in self.expected_statuses):
            self.errors.append(f"HTTP {status} {response.request.method} {response.url}")

    def expect_status(self, *statuses: int) -> None:
        """Answers the journey provokes on purpose from now on (e.g. 400 for a form with a mistake);
        any other 4xx, and every 5xx, fails the test."""
        self.expected_statuses.update(statuses)

    # --- navigation ------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}{path}"

    def goto(self, path: str, label: str | None = None):
        self.page.goto(self.url(path))
        self.check(label or path)
        return self.page

    def login(self, email: str, *, staff: bool = False, password: str = "Lantern-Harbour-2026") -> None:
        self.page.goto(self.url("/staff/login" if staff else "/login"))
        self.check("staff login" if staff else "customer login")
        form = self.page.locator("form.login-card")
        form.locator("input[name=identifier]").fill(email)
        form.locator("input[name=password]").fill(password)
        with self.page.expect_navigation():
            form.locator("button[type=submit]").click()
        assert "/login" not in self.page.url, f"{email} could not log in"
        self.check("home after login")

    # --- checks ----------------------------------------------------------------------------

    def check(self, label: str) -> None:
        """axe-core on the page as it is now."""
        self.page.wait_for_load_state("load")
        url = self.page.url
        violations = a11y.run_axe(self.page)
        result = a11y.PageResult(label=f"{self.name}: {label}", url=url, violations=violations)
        REPORT.add(result)
        self.checked.add(url.split("#")[0])
        if result.failing:
            self.axe_failures.append(f"{label} ({url}):\n{a11y.describe(result.failing)}")

    def shot(self, name: str, *, readme: bool = False, element=None, full_page=False) -> Path:
        """The viewport, the whole page, or one element (a Locator) as build/browser/screenshots/<name>.png."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        if element is not None:
            element.screenshot(path=str(path))
        else:
            self.page.screenshot(path=str(path), full_page=full_page)
        if readme and os.environ.get("UPDATE_SCREENSHOTS") == "1":
            README_SHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, README_SHOTS / path.name)
        return path

    def finish(self) -> list[str]:
        """Pages the journey reached but did not check (a redirect, a boosted link): checked now,
        as they are at the end of the journey. Returns every problem found."""
        for url in dict.fromkeys(self.navigated):
            bare = url.split("#")[0]
            if bare in self.checked or not bare.startswith(self.base_url):
                continue
            if "/download" in bare or bare.endswith((".pdf", ".xlsx", ".png")):
                continue
            self.page.goto(bare)
            self.check(f"revisited {bare.removeprefix(self.base_url)}")
        problems = list(self.axe_failures)
        problems += self.errors
        return problems


def _visits(chromium, desk, request):
    """``open_visit(name, locale="en-US")`` opens a new browser context on ``desk``; all are
    checked and closed at the end of the test."""
    visits: list[Visit] = []

    def open_visit(name: str, *, locale: str = "en-US", **options) -> Visit:
        context = chromium.new_context(
            base_url=desk.base_url,
            locale=locale,
            timezone_id="Asia/Shanghai",
            viewport={"width": 1280, "height": 860},
            **options,
        )
        v = Visit(context, desk.base_url, name)
        visits.append(v)
        return v

    yield open_visit
    problems = []
    for v in visits:
        try:
            problems += [f"[{v.name}] {p}" for p in v.finish()]
        finally:
            v.context.close()
    if problems and not getattr(request.node, "_journey_failed", False):
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def visit(chromium, live_desk, request):
    """A person at a screen of the demo desk (see ``_visits``)."""
    yield from _visits(chromium, live_desk, request)


@pytest.fixture
def visit_empty(chromium, empty_desk, request):
    """A person at a screen of the fresh install (see ``_visits``)."""
    yield from _visits(chromium, empty_desk, request)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        item._journey_failed = True


def pytest_runtest_logreport(report):
    if "tests/browser/" not in report.nodeid.replace("\\", "/"):
        return
    RUN["seconds"] += report.duration
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        RUN["tests"] += 1
        outcome = "error" if report.when == "setup" and report.failed else report.outcome
        RUN["outcomes"][outcome] = RUN["outcomes"].get(outcome, 0) + 1


def pytest_terminal_summary(terminalreporter):
    if RUN["tests"]:
        terminalreporter.write_sep("-", "browser journeys")
        outcomes = ", ".join(f"{n} {k}" for k, n in sorted(RUN["outcomes"].items()))
        terminalreporter.write_line(
            f"{RUN['tests']} browser tests ({outcomes}) in {RUN['seconds']:.1f} s, "
            f"browser: {RUN['browser'] or 'not started'}"
        )
    if REPORT.pages:
        REPORT.write(ARTIFACTS / "axe-report.json")
        terminalreporter.write_sep("-", "accessibility")
        terminalreporter.write_line(REPORT.summary())
        terminalreporter.write_line(f"report: {ARTIFACTS / 'axe-report.json'}")
