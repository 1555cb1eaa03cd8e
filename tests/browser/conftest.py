"""Browser journeys: Debian's Chromium, driven by Playwright, against a real station and a real hub.

Both apps are served by real threaded HTTP servers on 127.0.0.1, the station runs its sync
scheduler, and every browser context goes through a network guard: a request to any host but
the station's and the hub's is blocked, recorded, and fails the test.

Screenshots of every step land in the test's own tmp directory (`…/screens/`); with
`UPDATE_SCREENS=1` the committed set under `docs/screens/` is rewritten too.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from demo.loopback import register_station, serve_app
from station.extensions import db
from sync import state as sync_state
from tests.fixtures.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    COUNTY_PASSWORD,
    COUNTY_USER,
    DOCS_SCREENS,
    TIMEOUT_MS,
    VIEWPORT,
    Hub,
    NetworkGuard,
    Shots,
    Stack,
    login_county,
    login_station,
)
from tests.fixtures.e2e import STATION_CODE

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


@pytest.fixture
def guard() -> NetworkGuard:
    return NetworkGuard()


@pytest.fixture
def new_context(browser: Any, guard: NetworkGuard) -> Iterator[Callable[..., Any]]:
    """Open guarded browser contexts (one per person); fail the test on any non-local request."""
    contexts: list[Any] = []

    def open_context(**options: Any) -> Any:
        context = browser.new_context(**{"viewport": VIEWPORT, "locale": "zh-CN", "timezone_id": "Asia/Shanghai",
                                         "accept_downloads": False, **options})  # a phone may set its own viewport
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


# --- paper ---------------------------------------------------------------------------------------


