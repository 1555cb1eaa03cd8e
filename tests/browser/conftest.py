"""Browser journeys: Debian's Chromium, driven by Playwright, against a real station and a real hub.

Both apps are served by real threaded HTTP servers on 127.0.0.1, the station runs its sync
scheduler, and every browser context goes through a network guard: a request to any host but
the station's and the hub's is blocked, recorded, and fails the test.

Screenshots of every step land in the test's own tmp directory (`…/screens/`); with
`UPDATE_SCREENS=1` the committed set under `docs/screens/` is rewritten too.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask

from demo.loopback import register_station, serve_app, start_hub
from station.extensions import db
from station.models import Setting
from sync import state as sync_state
from tests.conftest import PASSWORDS
from tests.e2e.conftest import STATION_CODE, FaultSwitch
from tests.fixtures.config import hub_test_config

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 800}
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
REPO = Path(__file__).resolve().parents[2]
DOCS_SCREENS = REPO / "docs" / "screens"
DOCS_SCREEN_MAX_BYTES = 200 * 1024
COUNTY_USER, COUNTY_PASSWORD = "county", "county-pass-123"
TIMEOUT_MS = 10_000


# --- the browser ---------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole run (Debian's, never a downloaded one)."""
    if not CHROMIUM.exists():
        pytest.skip(f"!!! CHROMIUM NOT AVAILABLE at {CHROMIUM} (apt-get install chromium) — "
                    "browser journeys did NOT run !!!")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("!!! CHROMIUM NOT AVAILABLE: the playwright package is not installed "
                    "(pip install -r requirements-dev.txt) — browser journeys did NOT run !!!")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def expect(target: Any) -> Any:
    """Playwright's waiting assertion (``expect(locator).to_have_text(...)``).

    It polls without evaluating strings in the page, which the pages' CSP (no 'unsafe-eval')
    would refuse — ``wait_for_function("…")`` does exactly that.
    """
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=TIMEOUT_MS)
    return playwright_expect(target)


@dataclass
class NetworkGuard:
    """Records every request of every context it watches; blocks and remembers foreign ones."""

    seen: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    @staticmethod
    def is_local(url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return True
        return parts.hostname in LOCAL_HOSTS

    def watch(self, context: Any) -> None:
        context.route("**/*", self._route)
        context.on("request", lambda request: self.seen.append(request.url))
        context.on("page", lambda page: page.on("console", self._console))

    def _console(self, message: Any) -> None:
        """Chromium reports every resource, script, style or handler the page's CSP refused on the console."""
        if "Content Security Policy" in message.text:
            self.csp_violations.append(f"{message.page.url if message.page else ''}: {message.text}")

    def _route(self, route: Any) -> None:
        url = route.request.url
        if self.is_local(url):
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort("blockedbyclient")


@pytest.fixture
def guard() -> NetworkGuard:
    return NetworkGuard()


@pytest.fixture
def new_context(browser: Any, guard: NetworkGuard) -> Iterator[Callable[..., Any]]:
    """Open guarded browser contexts (one per person); fail the test on any non-local request."""
    contexts: list[Any] = []

    def open_context(**options: Any) -> Any:
        context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai",
                                      accept_downloads=False, **options)
        context.set_default_timeout(TIMEOUT_MS)
        guard.watch(context)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()
    assert not guard.foreign, f"pages requested hosts other than the station and the hub: {guard.foreign}"
    assert not guard.csp_violations, f"the content security policy refused parts of a page: {guard.csp_violations}"


# --- screenshots ---------------------------------------------------------------------------------

class Shots:
    """Numbered screenshots of one journey: into the test's output, and into docs/screens/ on request."""

    def __init__(self, out_dir: Path, journey: str, publish: bool) -> None:
        self.out_dir = out_dir
        self.journey = journey
        self.publish = publish
        self.count = 0
        out_dir.mkdir(parents=True, exist_ok=True)

    def take(self, page: Any, step: str, *, full_page: bool = False) -> Path:
        self.count += 1
        name = f"{self.journey}-{self.count:02d}-{step}.png"
        path = self.out_dir / name
        page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        if self.publish:
            publish_screen(path, DOCS_SCREENS / name)
        return path


def publish_screen(source: Path, target: Path) -> None:
    """Write a palette PNG: the committed set stays small (each under 200 KB) and still readable."""
    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        for colors in (128, 64, 32):
            image.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT).save(
                target, optimize=True)
            if target.stat().st_size < DOCS_SCREEN_MAX_BYTES:
                return
    raise AssertionError(f"{target.name} is {target.stat().st_size} bytes even with 32 colours")


@pytest.fixture(scope="session")
def publish_screens() -> bool:
    """UPDATE_SCREENS=1 rewrites docs/screens/ (stale files of the journeys that run are removed)."""
    return os.environ.get("UPDATE_SCREENS") == "1"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "screens(name): file-name prefix of a browser test's screenshots")


@pytest.fixture
def shots(request: pytest.FixtureRequest, tmp_path: Path, publish_screens: bool) -> Shots:
    marker = request.node.get_closest_marker("screens")
    journey = marker.args[0] if marker else request.node.originalname.removeprefix("test_").replace("_", "-")
    if publish_screens:
        for stale in DOCS_SCREENS.glob(f"{journey}-*.png"):
            stale.unlink()
    return Shots(tmp_path / "screens", journey, publish_screens)


# --- a station and a county hub on loopback ------------------------------------------------------

class SlowCounty(FaultSwitch):
    """The e2e fault switch, plus a county that takes its time over each batch of events."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.events_delay_s = 0.0

    def __call__(self, environ: dict, start_response: Any):  # noqa: ANN204
        if self.events_delay_s and environ.get("PATH_INFO") == "/api/v1/events":
            time.sleep(self.events_delay_s)
        return super().__call__(environ, start_response)


class Hub:
    """The county hub on a fixed port, so it can be stopped and started again like a real link."""

    def __init__(self, instance: Path) -> None:
        served = start_hub(instance, config_class=hub_test_config(), wrap=SlowCounty)
        self.app = served.app
        self.wsgi: SlowCounty = served.server.app
        self.server, self.thread, self.url = served.server, served.thread, served.url
        self.port = served.server.port
        self.running = True

    def stop(self) -> None:
        """Take the county down: the port refuses connections, as when the link is cut."""
        if self.running:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=5)
            self.running = False

    def start(self) -> None:
        if not self.running:
            self.server, self.thread, url = serve_app(self.wsgi, port=self.port)
            assert url == self.url
            self.running = True

    def create_clerk(self, username: str, password: str, name: str, role: str = "admin") -> None:
        """A county user; a county admin by default, so the journeys reach every county page."""
        from sync.hub.extensions import db as hub_db
        from sync.hub.services.users import create_user

        with self.app.app_context(), hub_db.connection_context():
            create_user(username, password, name=name, role=role)


@dataclass
class Stack:
    app: Flask
    url: str
    hub: Hub
    runner: Any

    def setting(self, key: str) -> str | None:
        with self.app.app_context(), db.connection_context():
            return Setting.get_value(key)

    def forget_progress(self) -> None:
        """Clear the last round's progress line, so it cannot pass for the next round's."""
        with self.app.app_context(), db.connection_context():
            sync_state.record_progress(None)

    def queued(self) -> int:
        from sync.outbox import OutboxEvent

        with self.app.app_context(), db.connection_context():
            return OutboxEvent.select().where(OutboxEvent.state == "queued").count()


@pytest.fixture
def stack(app: Flask, tmp_path: Path) -> Iterator[Stack]:
    """A linked station served on loopback with its sync scheduler, and a county hub with a clerk."""
    from station.sync_hooks import station_hooks
    from sync.jobs import start_scheduler
    from sync.transport import HubLink

    hub = Hub(tmp_path / "hub")
    hub.create_clerk(COUNTY_USER, COUNTY_PASSWORD, "县级审批员")
    secret = register_station(hub.app, STATION_CODE, "东关村便民服务站")
    with app.app_context(), db.connection_context():
        HubLink(hub.url, STATION_CODE, secret).save()
        sync_state.set_interval_seconds(3600)  # only 立即同步 syncs during a journey
    server, thread, url = serve_app(app)
    runner = start_scheduler(app, station_hooks(app))
    runner.last_run = time.time()  # no scheduled round right at start either
    yield Stack(app, url, hub, runner)
    runner.shutdown()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    hub.stop()


# --- people --------------------------------------------------------------------------------------

def login_station(page: Any, stack: Stack, role: str) -> None:
    page.goto(f"{stack.url}/login")
    page.fill("#username", role)
    page.fill("#password", PASSWORDS[role])
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{stack.url}/")


def login_county(page: Any, stack: Stack) -> None:
    page.goto(f"{stack.hub.url}/login")
    page.fill("input[name=username]", COUNTY_USER)
    page.fill("input[name=password]", COUNTY_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/cases"))


@pytest.fixture
def person(new_context: Callable[..., Any], stack: Stack) -> Callable[[str], Any]:
    """A logged-in page for `agent`, `clerk`, `admin` (station) or `county` (hub clerk UI)."""

    def open_as(role: str) -> Any:
        page = new_context().new_page()
        if role == "county":
            login_county(page, stack)
        else:
            login_station(page, stack, role)
        return page

    return open_as


# --- the intake form, as an agent fills it -------------------------------------------------------

def valid_id_number(n: int, birth: str = "19560315") -> str:
    """A GB 11643 number with a correct checksum, distinct per `n`."""
    from stdnum.cn import ric

    body = f"141081{birth}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def item_id(stack: Stack, name: str) -> int:
    from tests.fixtures.intake import item_named

    with stack.app.app_context(), db.connection_context():
        return item_named(name).id


def deferral_limit(stack: Stack, name: str) -> dt.date:
    from station.services import intake
    from station.services.calendar import load_calendar
    from tests.fixtures.intake import item_named

    with stack.app.app_context(), db.connection_context():
        return intake.deferral_limit([item_named(name)], dt.date.today(), load_calendar())


def fill_intake(page: Any, applicant: dict[str, str], fields: dict[str, str], materials: dict[str, str],
                dues: dict[str, str] | None = None, proxy: dict[str, str] | None = None) -> None:
    """Fill the intake form on `page` the way an agent would, field by field."""
    if proxy is not None:
        page.check("input[name=mode][value=proxy]")
        for name, value in proxy.items():
            if name == "authorization":
                page.check(f"input[name=authorization][value={value}]")
            else:
                page.fill(f"#{name}", value)
    for name, value in applicant.items():
        page.fill(f"#{name}", value)
    for name, value in fields.items():
        selector = f"#field__{name}"
        if page.eval_on_selector(selector, "el => el.tagName") == "SELECT":
            page.select_option(selector, value)
        else:
            page.fill(selector, value)
    for key, status in materials.items():
        page.check(f"input[name=mat__{key}__status][value={status}]")
    for key, day in (dues or {}).items():
        page.fill(f"input[name=mat__{key}__due]", day)


def missing_on_screen(page: Any) -> list[str]:
    """Names of the materials the case page lists as missing (缺少), in screen order."""
    cells = page.locator("tr.mat-missing td:first-child")
    return [re.sub(r"（辅助）$", "", text.strip()) for text in cells.all_inner_texts()]


# --- paper ---------------------------------------------------------------------------------------

def pdf_text(pdf: bytes, tmp_path: Path, name: str) -> str:
    """The text of a printed document, extracted back with pdftotext (the PDF is kept beside the shots)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("!!! PDFTOTEXT NOT AVAILABLE (apt-get install poppler-utils) — the paper checks did NOT run !!!")
    out = tmp_path / "paper"
    out.mkdir(exist_ok=True)
    path = out / f"{name}.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          timeout=30).stdout.decode("utf-8")


def print_document(page: Any, title: str, tmp_path: Path, name: str) -> str:
    """Press a print button on the case page: fetch the PDF it opens and return its text."""
    href = page.get_by_role("link", name=f"打印{title}", exact=True).get_attribute("href")
    response = page.request.get(urljoin(page.url, href))
    assert response.ok and response.headers["content-type"] == "application/pdf", href
    return pdf_text(response.body(), tmp_path, name)


def squeeze(text: str) -> str:
    """Text without any whitespace, so a name wrapped across table lines still matches."""
    return re.sub(r"\s+", "", text)
