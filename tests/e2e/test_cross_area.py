"""跨域办 between two county platforms: a station of county A takes cases that county B handles.

Station → hub A (its own county) → hub B (the handling county, where A is a peer "station") → B's
decisions back through A → the station. Each event at B exactly once, through lost answers, a
network that delivers requests twice, and hub B killed with kill -9 in the middle of forwarding.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from bench.common import free_port, spawn, stop, wait_for_port
from bench.hubs import register
from demo.loopback import serve_app
from station.catalog_data import load_demo_catalog
from station.extensions import db
from station.models import Case, TimelineEntry
from station.services import catalog
from station.services.station_info import get_profile
from sync.hub import create_app
from sync.hub.config import Config
from sync.hub.extensions import db as hub_db
from sync.hub.models import Event, HubCase, HubUser, Peer, PeerForward, PeerHandover, Station
from sync.hub.services import decisions, peers, stations, users
from sync.hub.services.errors import InvalidTransition, ValidationError
from tests.fixtures.e2e import queue_cases, sync
from tests.fixtures.hub import logged_in
from tests.fixtures.pdf import flat, pdftotext

pytestmark = pytest.mark.slow

A_AREA, B_AREA = "141081", "141082"
PEER_CODE = "HUB141081"
ID_NUMBER = "141081199001011234"  # a scanner that names its files after the resident
ITEM = "高龄津贴申领（户籍在邻县）"


def take_cross_area_item(app) -> None:  # noqa: ANN001
    """Import (through the station's own catalog import) the demo catalog plus one item county B handles."""
    data = load_demo_catalog()
    base = next(i for i in data["items"] if i["name"] == "高龄津贴申领")
    item = {**base, "name": ITEM, "item_code": "000113005001", "impl_code": base["impl_code"][:-1] + "1",
            "cross_area": True, "handling_area": B_AREA, "handling_area_name": "示范市邻县民政局",
            "department": "示范市邻县民政局"}
    data["items"].append(item)
    data["catalog_version"] = data["catalog_version"] + "-x"
    with app.app_context(), db.connection_context():
        catalog.import_catalog(data, source="file")


def link_hubs(hub_a_app, hub_b: HubBProcess) -> None:  # noqa: ANN001
    """A registers B (where A is the peer "station" PEER_CODE) as the hub handling B_AREA's items."""
    with hub_a_app.app_context(), hub_db.connection_context():
        peers.add_peer(B_AREA, "邻县县级平台", hub_b.url, PEER_CODE, hub_b.secret)


def peer_round(hub_a_app) -> list[peers.ForwardReport]:  # noqa: ANN001
    with hub_a_app.app_context(), hub_db.connection_context():
        return peers.sync_all()


def events_of(app, case_ids: set[str] | None = None) -> list[str]:  # noqa: ANN001
    if isinstance(app, HubBProcess):
        with app.app() as b_app:
            return events_of(b_app, case_ids)
    with app.app_context(), hub_db.connection_context():
        rows = [(e.event_id, e.case_id) for e in Event.select(Event.event_id, Event.case_id)]
    return [event_id for event_id, case_id in rows if case_ids is None or case_id in case_ids]


def decide_all_at(hub_b: HubBProcess, case_ids: list[str]) -> None:
    """County B's 王五 accepts every case, then completes all but every tenth, which he refuses with a reason."""
    with hub_b.app() as app, app.app_context(), hub_db.connection_context():
        if not HubUser.get_or_none(HubUser.username == "b-clerk"):
            users.create_user("b-clerk", "b-clerk-pass-1a", name="王五")
        for n, case_id in enumerate(case_ids):
            if n % 10 == 9:
                decisions.decide(case_id, decisions.DecisionInput(kind="rejected", reason="户籍不在本县，材料不符"),
                                 clerk="b-clerk")
                continue
            decisions.decide(case_id, decisions.DecisionInput(kind="accepted"), clerk="b-clerk")
            decisions.decide(case_id, decisions.DecisionInput(kind="completed", result="approved",
                                                               result_text="核准发放"), clerk="b-clerk")


class HubBProcess:
    """County B's hub as its own process (two hubs cannot share one interpreter: the model proxy is
    process-wide), behind a chaos proxy in this process that can deliver a request twice or drop an
    answer after B has processed it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.instance = folder / "hub-b"
        self.secret = register(self.instance, [PEER_CODE])[PEER_CODE]
        with self.app() as app, app.app_context(), hub_db.connection_context():
            Station.update(is_peer=True).where(Station.code == PEER_CODE).execute()
        self.port = free_port()
        self.proc = None
        self.duplicate = 0
        self.drop_after = 0
        self.chaos_path = "/api/v1/events"  # the requests the network delivers twice or loses the answer of
        self.uploads: list[tuple[str, int]] = []  # (Content-Range, bytes) of each file chunk B was sent
        self.server, self.thread, self.url = serve_app(self._proxy)

    def start(self):  # noqa: ANN201
        env = {"HUB_INSTANCE_PATH": str(self.instance), "HUB_AREA_CODE": B_AREA, "HUB_PEER_SYNC_INTERVAL_S": "0"}
        self.proc = spawn(["-m", "sync.hub", "run", "--port", str(self.port)], env=env,
                          log_path=self.folder / "hub-b.log")
        wait_for_port(self.port, 30, self.proc)
        return self.proc

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
        self.server.shutdown()
        self.server.server_close()

    @contextmanager
    def app(self):  # noqa: ANN201
        """B's database read from this process, between rounds (never while A serves a request)."""
        app = create_app(Config.with_overrides(READ_INSTANCE_CONFIG=False, AREA_CODE=B_AREA), self.instance)
        try:
            yield app
        finally:
            app.extensions["hub_db"].close_all()

    def _proxy(self, environ, start_response):  # noqa: ANN001, ANN202
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers.pop("Host", None)
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        url = f"http://127.0.0.1:{self.port}{environ.get('PATH_INFO', '')}"
        if environ.get("QUERY_STRING"):
            url += "?" + environ["QUERY_STRING"]

        def send():  # noqa: ANN202
            return requests.request(environ["REQUEST_METHOD"], url, data=body or None, headers=headers, timeout=60)

        is_batch = environ.get("PATH_INFO") == self.chaos_path
        if environ["REQUEST_METHOD"] == "PUT" and environ.get("PATH_INFO", "").startswith("/api/v1/attachments/"):
            self.uploads.append((environ.get("HTTP_CONTENT_RANGE", ""), len(body)))
        if is_batch and self.duplicate:
            self.duplicate -= 1
            send()  # the network delivers the request twice; the answer to the copy comes back
        answer = send()
        if is_batch and self.drop_after:
            self.drop_after -= 1
            start_response("502 Bad Gateway", [("Content-Type", "text/plain")])
            return [b"answer lost"]  # B committed; its answer never arrives
        keep = [(k, v) for k, v in answer.headers.items()
                if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding")]
        start_response(f"{answer.status_code} X", keep)
        return [answer.content]


@pytest.fixture
def hub_b(tmp_path: Path):  # noqa: ANN201
    b = HubBProcess(tmp_path)
    b.start()
    yield b
    b.stop()


def test_cross_area_cases_go_to_the_handling_county_and_its_decisions_come_back(linked, hub, hub_b):
    app = linked
    take_cross_area_item(app)
    cross = queue_cases(app, 100, item_name=ITEM)
    local = queue_cases(app, 2)
    link_hubs(hub.app, hub_b)
    assert sync(app).queue_left == 0
    [report] = peer_round(hub.app)
    forwarded = events_of(hub.app, set(cross))
    assert report.error == "" and report.acked == len(forwarded) == 100
    # at B: exactly the cross-area cases, each event once, filed under A as a peer, marked 收件地/办理地
    at_b = events_of(hub_b)
    assert sorted(at_b) == sorted(forwarded)
    with hub_b.app() as b_app, b_app.app_context(), hub_db.connection_context():
        cases = {c.case_id: c for c in HubCase.select()}
        assert set(cases) == set(cross) and not set(local) & set(cases)
        assert {c.handling_area for c in cases.values()} == {B_AREA}
        assert {c.station.code for c in cases.values()} == {PEER_CODE}
        assert all(c.received_area and c.received_area.startswith("1410") for c in cases.values())
        # B's provincial export names the village station that took each case, by its own code, not A's platform
        taken_by = {stations.receiving_station_code(c.station, c.snapshot or {}) for c in cases.values()}
    with app.app_context(), db.connection_context():
        assert taken_by == {get_profile().code}
    # county A may not decide a case county B handles; its own cases it decides as ever
    with hub.app.app_context(), hub_db.connection_context():
        with pytest.raises(InvalidTransition, match="跨域办"):
            decisions.decide(cross[0], decisions.DecisionInput(kind="accepted"), clerk="a-clerk")
        decisions.decide(local[0], decisions.DecisionInput(kind="accepted"), clerk="a-clerk")
    # the county's case page says where the case went and offers no decision of its own
    page = logged_in(hub.app, "a-clerk", "approver", "示范县窗口").get(f"/cases/{cross[0]}").get_data(as_text=True)
    assert "已转 邻县县级平台 办理：1 / 1 条已送达" in page and 'name="kind" value="accepted"' not in page
    assert "受理地 / 办结地 示范市邻县民政局（141082）" in page
    decide_all_at(hub_b, cross)
    [report] = peer_round(hub.app)
    assert report.error == "" and report.decisions_applied == 190  # 90 × (accepted, completed) + 10 refused
    again = peer_round(hub.app)[0]  # nothing forwarded or applied twice
    assert (again.forwarded, again.decisions_applied) == (0, 0)
    sync(app)
    with app.app_context(), db.connection_context():
        by_id = {c.id: c for c in Case.select().where(Case.id.in_(cross))}
        refused = [by_id[c] for n, c in enumerate(cross) if n % 10 == 9]
        done = [by_id[c] for n, c in enumerate(cross) if n % 10 != 9]
        assert {c.status for c in done} == {"completed"} and {c.result for c in done} == {"approved"}
        assert {c.status for c in refused} == {"rejected"}
        assert all("户籍不在本县" in (c.status_reason or "") for c in refused)
        code = by_id[cross[0]].query_code
        # the village's timeline names the person at the handling county who decided, not their login
        actors = {e.actor for e in TimelineEntry.select().where(TimelineEntry.case == cross[0])}
        assert {a for a in actors if a.startswith("县级平台")} == {"县级平台 邻县县级平台·王五"}, actors
    # the resident's page answers from either county with B's result; county A's names B as the handling county
    done = "当前：<strong>已办结</strong>"
    at_a = hub.app.test_client().get(f"/q/{code}").get_data(as_text=True)
    assert done in at_a and "办理结果：<strong>准予</strong>" in at_a and "由示范市邻县民政局受理、办结" in at_a
    at_b = requests.get(f"http://127.0.0.1:{hub_b.port}/q/{code}", timeout=30).text
    assert done in at_b and "办理结果：<strong>准予</strong>" in at_b


def test_the_receipt_says_where_the_case_is_handled(linked, hub, agent):
    app = linked
    take_cross_area_item(app)
    [case_id] = queue_cases(app, 1, item_name=ITEM)
    response = agent.get(f"/cases/{case_id}/print/receipt")
    assert response.status_code == 200
    text = flat(pdftotext(response.data))
    assert "跨域办理" in text and "办理地：示范市邻县民政局" in text


def _waiting(app) -> int:  # noqa: ANN001
    with app.app_context(), hub_db.connection_context():
        return sum(peers.queue_for(p)["waiting"] for p in Peer.select())


def test_lost_answers_and_duplicated_requests_between_hubs_store_each_event_once(linked, hub, hub_b, monkeypatch):
    app = linked
    take_cross_area_item(app)
    cross = queue_cases(app, 30, item_name=ITEM)
    link_hubs(hub.app, hub_b)
    sync(app)
    monkeypatch.setattr(peers, "BATCH_EVENTS", 7)
    hub_b.duplicate = 2  # the network delivers two batches twice
    hub_b.drop_after = 2  # B commits two batches whose answers never arrive
    errors = []
    for _ in range(6):
        report = peer_round(hub.app)[0]
        errors.append(report.error)
        if not report.error and not _waiting(hub.app):
            break
    assert any(errors), "the dropped answers were never noticed"
    assert sorted(events_of(hub_b)) == sorted(events_of(hub.app, set(cross)))
    assert not _waiting(hub.app)


def test_hub_b_killed_mid_forward_then_restarted_stores_each_event_once(linked, hub, hub_b, monkeypatch):
    app = linked
    take_cross_area_item(app)
    cross = queue_cases(app, 60, item_name=ITEM)
    sync(app)
    link_hubs(hub.app, hub_b)
    monkeypatch.setattr(peers, "BATCH_EVENTS", 5)
    rng = random.Random(17)
    kills = 0
    for _attempt in range(3):  # kill B with SIGKILL at a random moment of forwarding, three times
        proc = hub_b.proc
        killer = threading.Timer(rng.uniform(0.05, 0.5), lambda p=proc: p.send_signal(signal.SIGKILL))
        killer.start()
        peer_round(hub.app)
        killer.join()
        proc.wait(timeout=10)
        kills += proc.returncode == -signal.SIGKILL
        hub_b.start()
    for _ in range(5):
        if not peer_round(hub.app)[0].error and not _waiting(hub.app):
            break
        time.sleep(0.2)
    assert kills == 3
    assert sorted(events_of(hub_b)) == sorted(events_of(hub.app, set(cross)))
    with hub.app.app_context(), hub_db.connection_context():
        assert PeerForward.select().where(PeerForward.state == "acked").count() == len(cross)


class LinkDyingAfter(requests.Session):
    """Hub A's side of a link between the hubs that dies after ``chunks`` file chunks went through."""

    def __init__(self, chunks: int) -> None:
        super().__init__()
        self.chunks_left = chunks

    def send(self, request, **kwargs):  # noqa: ANN001, ANN003, ANN201
        if request.method == "PUT":
            if self.chunks_left <= 0:
                raise requests.ConnectionError("the link between the counties went down")
            self.chunks_left -= 1
        return super().send(request, **kwargs)


def test_a_scan_cut_mid_forward_resumes_where_it_stopped_at_the_next_round(linked, hub, hub_b):
    from station.models import User
    from station.services.attachments import add_attachment
    from sync.file_upload import CHUNK_BYTES
    from sync.hub.services.attachments import blob_path, read_plain

    app = linked
    take_cross_area_item(app)
    [case_id] = queue_cases(app, 1, item_name=ITEM)
    scan = b"%PDF-1.4\n" + random.Random(5).randbytes(2 * CHUNK_BYTES + 1000)  # three chunks
    total = len(scan)
    with app.app_context(), db.connection_context():
        add_attachment(Case.get_by_id(case_id), User.get(User.username == "agent"), f"户口簿_{ID_NUMBER}.pdf", scan,
                       app.config["ATTACHMENT_DIR"], 10 * 1024 * 1024)
    assert sync(app).queue_left == 0
    link_hubs(hub.app, hub_b)
    with hub.app.app_context(), hub_db.connection_context():
        cut = peers.sync_all(LinkDyingAfter(chunks=1))[0]
        case_no = HubCase.get(HubCase.case_id == case_id).case_no
    assert "无法连接对端县级平台" in cut.error
    assert hub_b.uploads == [(f"bytes 0-{CHUNK_BYTES - 1}/{total}", CHUNK_BYTES)]
    assert events_of(hub_b) == [] and _waiting(hub.app) == len(events_of(hub.app, {case_id}))  # events wait
    # the county admin sees how far the file got: B holds its first chunk
    admin = logged_in(hub.app, "a-admin", "admin", "示范县管理员")
    page = admin.get("/peers").get_data(as_text=True)
    assert _file_rows(page) == [(case_no, "户口簿_141081********1234.pdf", "partial", CHUNK_BYTES)]
    assert ID_NUMBER not in page and _counts(page)["files_done"] == 0
    hub_b.uploads = []
    report = peer_round(hub.app)[0]
    assert report.error == "" and report.files_uploaded == 1
    page = admin.get("/peers").get_data(as_text=True)
    assert _file_rows(page) == [] and _counts(page)["files"] == 0 and _counts(page)["files_done"] == 1
    # only what B did not hold yet went the second time
    assert hub_b.uploads == [(f"bytes {CHUNK_BYTES}-{2 * CHUNK_BYTES - 1}/{total}", CHUNK_BYTES),
                             (f"bytes {2 * CHUNK_BYTES}-{total - 1}/{total}", total - 2 * CHUNK_BYTES)]
    assert report.file_bytes_sent == total - CHUNK_BYTES
    assert sorted(events_of(hub_b)) == sorted(events_of(hub.app, {case_id})) and not _waiting(hub.app)
    sha = hashlib.sha256(scan).hexdigest()
    with hub_b.app() as b_app, b_app.app_context(), hub_db.connection_context():
        assert read_plain(blob_path(b_app.config["ATTACHMENT_DIR"], sha)) == scan  # whole, sealed at B
        [case] = HubCase.select().where(HubCase.case_id == case_id)
        assert [a["filename"] for a in case.snapshot["attachments"]] == [f"户口簿_{ID_NUMBER}.pdf"]


def _counts(page: str) -> dict[str, int]:
    return {name: int(value) for name, value in re.findall(r'data-count="(\w+)">(\d+)<', page)}


def _file_rows(page: str) -> list[tuple[str, str, str, int]]:
    """The peers page's files still to forward: (case number, file name, state, bytes the peer holds)."""
    rows = re.findall(r'<tr data-file-state="(\w+)">\s*<td><a [^>]*>([^<]*)</a></td>\s*<td>([^<]*)</td>'
                      r'<td>[^<]*</td>\s*<td data-held="(\d+)">', page)
    return [(case_no, name, state, int(held)) for state, case_no, name, held in rows]


def test_the_peers_page_shows_the_link_its_queue_and_decisions_and_syncs_at_the_press_of_a_button(
        linked, hub, hub_b):
    from station.models import User
    from station.services.attachments import add_attachment
    from sync.hub.services.attachments import blob_path

    app = linked
    take_cross_area_item(app)
    cross = queue_cases(app, 3, item_name=ITEM)
    scans = [b"%PDF-1.4\n" + random.Random(n).randbytes(3000) for n in range(2)]
    with app.app_context(), db.connection_context():
        agent = User.get(User.username == "agent")
        for case_id, scan in zip(cross, scans, strict=False):  # two cases with a scan each
            add_attachment(Case.get_by_id(case_id), agent, "户口簿.pdf", scan, app.config["ATTACHMENT_DIR"],
                           10 * 1024 * 1024)
    assert sync(app).queue_left == 0
    # the second scan is lost from county A's disk: B will refuse the event that names it
    blob_path(hub.app.config["ATTACHMENT_DIR"], hashlib.sha256(scans[1]).hexdigest()).unlink()
    with hub.app.app_context(), hub_db.connection_context():
        with pytest.raises(ValidationError, match="不能带"):
            peers.add_peer(B_AREA, "邻县县级平台", f"{hub_b.url}/?token=t0k3n", PEER_CODE, hub_b.secret)
        peers.add_peer(B_AREA, "邻县县级平台", f"http://ops:s3cret@{hub_b.url[7:]}/", PEER_CODE, hub_b.secret)
    admin = logged_in(hub.app, "a-admin", "admin", "示范县管理员")
    page = admin.get("/peers").get_data(as_text=True)
    assert _counts(page) == {"cases": 3, "waiting": 5, "files": 2, "files_done": 0, "acked": 0, "set_aside": 0,
                             "held_back": 0, "decisions": 0}
    assert "尚未成功同步" in page and "s3cret" not in page
    assert f"<code>http://***@{hub_b.url[7:]}</code>" in page

    pressed = admin.csrf_post(f"/peers/{B_AREA}/sync", {}, token_page="/peers", follow_redirects=True)
    assert "已开始与“邻县县级平台”同步" in pressed.get_data(as_text=True)
    assert hub.app.extensions["peer_rounds"].wait(60)
    page = admin.get("/peers").get_data(as_text=True)
    assert _counts(page) == {"cases": 3, "waiting": 0, "files": 0, "files_done": 1, "acked": 4, "set_aside": 1,
                             "held_back": 0, "decisions": 0}
    assert "不是本站上传的" in page and "尚未成功同步" not in page  # the reason B gave, from B
    # … after what county A itself lacks: B's words are for a station, which would have to scan again
    assert "本平台未能转送：本平台存储中缺少附件“户口簿.pdf”。请先核查本平台的附件存储" in page
    with hub.app.app_context(), hub_db.connection_context():
        delivered = [f.event_id for f in PeerForward.select().where(PeerForward.state == "acked")]
    assert sorted(events_of(hub_b)) == sorted(delivered)  # the page counts what B holds

    decide_all_at(hub_b, cross[:1])  # B accepts and completes the first case
    admin.csrf_post(f"/peers/{B_AREA}/sync", {}, token_page="/peers")
    assert hub.app.extensions["peer_rounds"].wait(60)
    page = admin.get("/peers").get_data(as_text=True)
    assert _counts(page)["decisions"] == 2 and "最近一次收到决定" in page

    approver = logged_in(hub.app, "a-clerk", "approver", "示范县窗口")
    assert approver.get("/peers").status_code == 403
    assert approver.csrf_post(f"/peers/{B_AREA}/sync", {}, token_page="/cases").status_code == 403
    assert "跨域办</a>" not in approver.get("/cases").get_data(as_text=True)


def test_the_village_sees_its_case_held_at_the_handling_county_until_the_county_sends_it_again(linked, hub, agent):
    """A case county B refused waited at county A, held back, while the village's case page read like any
    case slow at B: nobody there knew to tell the resident, nor that county A was on it."""
    from sync import protocol
    from tests.hub.test_peer_forward import SECRET, PeerB

    app = linked
    take_cross_area_item(app)
    [case_id] = queue_cases(app, 1, item_name=ITEM)
    assert sync(app).queue_left == 0
    with hub.app.app_context(), hub_db.connection_context():
        peers.add_peer(B_AREA, "邻县县级平台", "http://county-b.example", PEER_CODE, SECRET)
    county_b = PeerB()
    county_b.refuse[case_id] = (protocol.CODE_BAD_EVENT, "事项实施编码在本县目录中不存在")
    with hub.app.app_context(), hub_db.connection_context():
        assert peers.sync_all(county_b)[0].set_aside == 1
        event_id = PeerForward.get(PeerForward.case_id == case_id).event_id
    sync(app)
    page = agent.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="forward-held"' in page and "转送办理地（邻县县级平台）暂未成功，县级平台正在处理" in page
    # county A's admin has B's catalog fixed and sends it again; B takes it
    del county_b.refuse[case_id]
    admin = logged_in(hub.app, "a-admin", "admin", "示范县管理员")
    assert "已安排重新转送" in admin.csrf_post(f"/peers/{B_AREA}/events/{event_id}/resend", {}, token_page="/peers",
                                          follow_redirects=True).get_data(as_text=True)
    with hub.app.app_context(), hub_db.connection_context():
        assert peers.sync_all(county_b)[0].acked == 1
    sync(app)
    page = agent.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="forward-held"' not in page and "转送办理地（邻县县级平台）已恢复" in page


def test_the_custody_of_a_batch_of_bs_cases_reaches_b_once_through_a_duplicated_and_a_lost_answer(
        linked, hub, hub_b, agent):
    """Hub B's copy of a 跨域办 batch showed it appearing from nowhere: the township's scan and county A's
    receipt are no case events and never went; B's clerk could not see who held the originals on the way."""
    from station.models import User
    from station.services import transfers as station_transfers
    from sync.hub.models import HubTransfer, HubTransferHandover
    from sync.hub.services import transfers
    from tests.fixtures.hub import SignedStation

    app = linked
    take_cross_area_item(app)
    [case_id] = queue_cases(app, 1, item_name=ITEM)
    with app.app_context(), db.connection_context():  # the village packs the originals and hands them on
        clerk = User.get(User.username == "agent")
        batch = station_transfers.create_transfer([case_id], destination="东关镇便民服务中心", direction="up",
                                                  user=clerk)
        station_transfers.record_handover(batch, giver="王代办", receiver="赵送件", place="", user=clerk,
                                          at=dt.datetime.now() - dt.timedelta(hours=2))
        batch_no, village = batch.batch_no, get_profile().name
    assert sync(app).queue_left == 0
    with hub.app.app_context(), hub_db.connection_context():
        _station, secret = stations.create_station("ST-T", "东关镇便民服务中心")
    township = SignedStation(hub.app, "ST-T", secret)  # the township scans the barcode: its signed push
    scanned = township.post_json("/api/v1/transfers/handovers", {"handovers": [{
        "handover_id": protocol_id(), "batch_no": batch_no, "giver": "赵送件", "receiver": "李乡镇",
        "place": "东关镇便民服务中心", "missing": [], "extra": [],
        "at": (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(),
        "recorded_by": "李乡镇"}]})
    assert scanned.json["stored"] == 1
    with hub.app.app_context(), hub_db.connection_context(), hub_db.atomic():  # county A receives it for B
        transfers.record_at_county(HubTransfer.get(HubTransfer.batch_no == batch_no), giver="李乡镇",
                                   receiver="孙窗口", place="示范县政务服务中心", recorded_by="孙窗口")
    with hub_b.app() as b_app, b_app.app_context(), hub_db.connection_context():
        Station.update(name="示范县县级平台").where(Station.code == PEER_CODE).execute()
    link_hubs(hub.app, hub_b)
    hub_b.chaos_path = "/api/v1/transfers/handovers"
    hub_b.duplicate = 1  # the handovers go twice
    hub_b.drop_after = 1  # and B's answer to them is lost
    errors = []
    for _ in range(4):
        report = peer_round(hub.app)[0]
        errors.append(report.error)
        if not report.error:
            break
    assert errors[0] and not errors[-1], errors
    with hub_b.app() as b_app, b_app.app_context(), hub_db.connection_context():
        [at_b] = list(HubTransfer.select())
        chain = [(h.where, h.giver, h.receiver) for h in HubTransferHandover.select()
                 .where(HubTransferHandover.transfer == at_b).order_by(HubTransferHandover.at)]
    assert at_b.batch_no == batch_no and at_b.state == "in_transit"
    assert chain == [(village, "王代办", "赵送件"), ("东关镇便民服务中心", "赵送件", "李乡镇"),
                     ("示范县县级平台", "李乡镇", "孙窗口")]
    with hub.app.app_context(), hub_db.connection_context():
        assert peers.handovers_to_forward(Peer.get()).count() == 0
        assert PeerHandover.select().where(PeerHandover.state == "acked").count() == 2


def protocol_id() -> str:
    from sync import protocol

    return protocol.new_id()


def test_a_withdrawal_at_the_village_and_the_handling_countys_completion_taken_first_agree_everywhere(
        linked, hub, hub_b):
    """Two cases B handles, withdrawn at the village: one B completed before the withdrawal reached it
    (办结 stands at B, at A and at the station, whose timeline says the withdrawal did not take effect),
    one B had not decided (已撤回 at B too, where no decision is possible any more)."""
    from station.models import User
    from station.services import cases as station_cases
    from station.services import withdrawal
    from station.services.cases import DECIDED_FIRST

    app = linked
    take_cross_area_item(app)
    decided_first, still_open = queue_cases(app, 2, item_name=ITEM)
    link_hubs(hub.app, hub_b)
    assert sync(app).queue_left == 0
    assert peer_round(hub.app)[0].error == ""
    decide_all_at(hub_b, [decided_first])  # 受理 and 办结 at B, before anything more reaches it
    with app.app_context(), db.connection_context():
        agent = User.get(User.username == "agent")
        for case_id in (decided_first, still_open):
            withdrawal.withdraw(station_cases.get_case(case_id), agent, "儿子已在市里办好了", "applicant")
    assert not sync(app).error
    [report] = peer_round(hub.app)
    assert report.error == "" and report.decisions_applied == 1, report.details
    peer_round(hub.app)
    with hub_b.app() as b_app, b_app.app_context(), hub_db.connection_context():
        at_b = {c.case_id: c.status for c in HubCase.select()}
        with pytest.raises(InvalidTransition, match="申请人已撤回申请"):
            decisions.decide(still_open, decisions.DecisionInput(kind="accepted"), clerk="b-clerk")
    with hub.app.app_context(), hub_db.connection_context():
        at_a = {c.case_id: c.status for c in HubCase.select()}
    assert not sync(app).error
    with app.app_context(), db.connection_context():
        at_station = {c.id: c.status for c in Case.select()}
        lines = [e.message for e in TimelineEntry.select().where(TimelineEntry.case == decided_first)]
    assert at_b == at_a == at_station == {decided_first: "completed", still_open: "withdrawn"}
    assert any(DECIDED_FIRST in line for line in lines), lines
