"""Each way a round can fail reaches the sync page under its own name, in Chinese.

Through the real client: a port nobody listens on, the real hub refusing a wrong secret, and a
small hub stand-in that signs its answers (as the hub does) with the status each case needs.
"""

from __future__ import annotations

import json
import re
import socket
import time

import pytest

from demo.loopback import register_station, serve_app
from station.extensions import db
from sync import protocol
from sync.transport import HubLink
from tests.fixtures.e2e import STATION_CODE, queue_cases, station_events, sync

pytestmark = pytest.mark.slow

SECRET = "k" * 40
ENGLISH_ERROR = re.compile(r"[A-Z][A-Za-z]*(Error|Exception|Refused|Unreachable|Fault|Large)\b")


def signed_answers(status: int, code: str, message: str):  # noqa: ANN201
    """A WSGI stand-in for the hub that answers every request with `status`, signed with the station's secret."""

    def app(environ, start_response):  # noqa: ANN001, ANN202
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        body = json.dumps({"error": code, "message": message, "server_time": time.time()},
                          ensure_ascii=False).encode()
        nonce = environ.get("HTTP_X_NONCE", "")
        start_response(f"{status} X", [("Content-Type", "application/json"),
                                       (protocol.H_HUB_SIGNATURE, protocol.sign_response(SECRET, nonce, status, body))])
        return [body]

    return app


def store_link(app, url: str, secret: str = SECRET) -> None:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        HubLink(url, STATION_CODE, secret).save()


def sync_page(clerk) -> str:  # noqa: ANN001
    return clerk.get("/sync/").get_data(as_text=True)


def link_state_cell(page: str) -> str:
    return re.search(r'<dd id="link-state"[^>]*>([^<]*)</dd>', page).group(1)


def assert_shown(page: str, label: str, error_words: str) -> None:
    assert label in link_state_cell(page)
    last_error = re.search(r'<dd id="last-error">([^<]*)', page).group(1)
    assert error_words in last_error
    assert not ENGLISH_ERROR.search(page), ENGLISH_ERROR.search(page).group(0)


def test_a_hub_nobody_answers_for_shows_as_unreachable(app, clerk):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store_link(app, f"http://127.0.0.1:{port}")
    queue_cases(app, 2)
    summary = sync(app)
    assert "无法连接县级平台" in summary.error
    page = sync_page(clerk)
    assert_shown(page, "县级平台连不上", "无法连接县级平台")
    assert "ConnectionError" not in page


def test_a_secret_the_hub_refuses_shows_as_credentials_refused(app, clerk, hub):
    register_station(hub.app, STATION_CODE, "东关村便民服务站")
    store_link(app, hub.url, secret="w" * 40)  # not the secret the county issued
    queue_cases(app, 2)
    summary = sync(app)
    assert summary.error
    assert_shown(sync_page(clerk), "县级平台不接受本站的凭据", "请求签名无效")
    assert all(state == "queued" for *_rest, state in station_events(app))


@pytest.mark.parametrize(("status", "label", "error_words"), [
    (413, "批次过大被县级平台拒收", "县级平台认为本批次过大"),
    (503, "县级平台暂时故障", "县级平台暂时故障（503）"),
    (422, "县级平台拒收本批次", "县级平台拒绝了本批次（422）"),
], ids=["413-too-large", "5xx-hub-fault", "4xx-batch-refused"])
def test_a_signed_refusal_of_the_batch_shows_under_its_own_name(app, clerk, status, label, error_words):
    server, thread, url = serve_app(signed_answers(status, "x", "县级平台的说明"))
    try:
        store_link(app, url)
        queue_cases(app, 2)
        summary = sync(app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert error_words in summary.error and "县级平台的说明" in summary.error
    assert_shown(sync_page(clerk), label, error_words)
    assert all(state == "queued" for *_rest, state in station_events(app))  # nothing counts as delivered


def test_a_push_the_network_delivers_twice_is_sent_again_not_shown_as_a_broken_link(linked, hub, faults, clerk):
    """The proxy delivers the batch twice and brings back the copy's answer (a replay refusal):
    the original was processed, so the station sends again under a fresh nonce — link up, queue
    empty, each event once at the hub, no frightening words on the sync page."""
    from tests.fixtures.e2e import assert_exactly_once, hub_events

    queue_cases(linked, 3)
    faults.duplicate = 1
    summary = sync(linked)
    assert faults.duplicate == 0  # the duplication did happen
    assert summary.error == "" and summary.queue_left == 0
    assert len(hub_events(hub)) == 3
    assert_exactly_once(linked, hub)
    page = sync_page(clerk)
    assert "连通" in link_state_cell(page)
    assert "凭据" not in page and "重复的请求" not in page


def test_a_network_that_duplicates_every_push_is_shown_calmly(linked, hub, faults, clerk):
    """Every copy answered as a replay: the round ends, but the page says the link is up and to wait."""
    queue_cases(linked, 2)
    faults.duplicate = 10
    summary = sync(linked)
    assert "重复发送" in summary.error
    page = sync_page(clerk)
    assert_shown(page, "连通（网络重复发送了请求", "无需处理")
    assert "凭据" not in page
