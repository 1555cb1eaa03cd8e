"""The 离线包 page: what an agent and a clerk do with the stick, through the browser's forms."""

from __future__ import annotations

import io

import pytest

from station.extensions import db
from station.models import AccessLog
from sync.outbox import OutboxEvent
from sync.relay import RelayBundle
from tests.fixtures.e2e import queue_cases
from tests.fixtures.relay import VILLAGE_CODE, VILLAGE_SECRET, save_link, township_app
from tests.fixtures.station import StationClient
from tests.station.test_usb_bundles import county_answer


@pytest.fixture
def village(app):
    save_link(app, "http://127.0.0.1:9", VILLAGE_CODE, VILLAGE_SECRET)
    return app


@pytest.fixture
def township(tmp_path, station_template):
    return township_app(tmp_path / "township", station_template)


def upload(user: StationClient, data: bytes, name: str = "bundle.bmz"):
    return user.post("/sync/usb/import", data={"bundle": (io.BytesIO(data), name)},
                     content_type="multipart/form-data", follow_redirects=True)


def test_an_agent_exports_the_bundle_as_a_download_and_the_page_says_what_it_held(village, agent):
    queue_cases(village, 2)
    response = agent.post("/sync/usb/export")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.data.startswith(b"BMZUSB1\n")
    assert agent.get("/sync/usb/progress.json").json["message"].startswith("已导出第 1 号离线包")
    page = agent.get("/sync/usb/").get_data(as_text=True)
    assert "上次导出：第 1 号" in page and "2 件办件" in page
    with village.app_context(), db.connection_context():
        assert {e.attempts for e in OutboxEvent.select()} == {1}
        assert AccessLog.select().where(AccessLog.action == "usb_export").count() == 1


def test_the_village_imports_the_return_bundle_on_the_page_and_a_bad_file_changes_nothing(village, agent):
    queue_cases(village, 1)
    agent.post("/sync/usb/export")
    answer = county_answer(village, 1)
    bad = upload(agent, answer[:-5]).get_data(as_text=True)
    assert "未导入：" in bad and "不完整" in bad
    with village.app_context(), db.connection_context():
        assert {e.state for e in OutboxEvent.select()} == {"queued"}
    page = upload(agent, answer).get_data(as_text=True)
    assert "已导入县级回执包" in page and "县级确认 1 条" in page
    assert "已导入过" in upload(agent, answer).get_data(as_text=True)


def test_no_file_chosen_says_so(village, agent):
    page = agent.post("/sync/usb/import", data={}, follow_redirects=True).get_data(as_text=True)
    assert "请选择要导入的离线包文件" in page


def test_the_township_clerk_imports_and_exports_the_return_bundle_an_agent_may_not(village, agent, township):
    queue_cases(village, 1)
    data = agent.post("/sync/usb/export").data
    clerk = StationClient(township.test_client()).login("clerk")
    town_agent = StationClient(township.test_client()).login("agent")
    assert upload(town_agent, data).status_code == 403
    page = upload(clerk, data).get_data(as_text=True)
    assert f"已导入 {VILLAGE_CODE} 的第 1 号离线包" in page and "待转发县级" in page
    refused = clerk.post("/sync/usb/return", data={"station": VILLAGE_CODE}, follow_redirects=True)
    assert "还没有" in refused.get_data(as_text=True)  # not forwarded yet
    with township.app_context(), db.connection_context():
        assert RelayBundle.select().count() == 1


def test_the_page_offers_each_side_its_own_upload_form(village, agent, township):
    village_page = agent.get("/sync/usb/").get_data(as_text=True)
    form = village_page[village_page.index('class="usb-upload"'):]
    assert '<input type="hidden" name="csrf_token"' in form[:form.index("</form>")]
    assert 'class="usb-upload"' in village_page and '<label for="bundle">回执包文件</label>' in village_page
    clerk_page = StationClient(township.test_client()).login("clerk").get("/sync/usb/").get_data(as_text=True)
    assert 'class="usb-upload"' in clerk_page and '<label for="bundle">离线包文件</label>' in clerk_page
    agent_page = StationClient(township.test_client()).login("agent").get("/sync/usb/").get_data(as_text=True)
    assert 'class="usb-upload"' not in agent_page and "由窗口人员或站长操作" in agent_page


@pytest.mark.parametrize("device", ["²", "-1", "100", "abc"])
def test_a_return_bundle_asked_for_a_device_number_that_is_none_is_refused_with_a_message(township, device):
    clerk = StationClient(township.test_client()).login("clerk")
    page = clerk.post("/sync/usb/return", data={"station": VILLAGE_CODE, "device": device}, follow_redirects=True)
    assert page.status_code == 200
    assert "未导出：设备编号不对" in page.get_data(as_text=True)


def test_a_bundle_larger_than_the_apps_request_limit_is_imported_on_the_townships_page(village, township):
    """A few scans make a bundle larger than any other request (MAX_CONTENT_LENGTH is sized for one scan)."""
    import os

    from station.models import Case, User
    from station.services.attachments import add_attachment
    from tests.fixtures.relay import export_bytes

    [case_id] = queue_cases(village, 1)
    with village.app_context(), db.connection_context():
        add_attachment(Case.get_by_id(case_id), User.get(User.username == "agent"), "户口簿.pdf",
                       b"%PDF-1.4\n" + os.urandom(300 * 1024).replace(b"/", b"_"), village.config["ATTACHMENT_DIR"],
                       10 * 1024 * 1024)
    data = export_bytes(village)
    township.config["MAX_CONTENT_LENGTH"] = 100 * 1024  # as 12 MiB is to a bundle of twenty scans
    assert len(data) > township.config["MAX_CONTENT_LENGTH"]
    stranger = township.test_client()  # not logged in: the app's limit stands for it
    assert stranger.post("/sync/usb/import", data={"bundle": (io.BytesIO(data), "x.bmz")},
                         content_type="multipart/form-data").status_code == 413
    clerk = StationClient(township.test_client()).login("clerk")
    page = upload(clerk, data).get_data(as_text=True)
    assert "已导入 ST141081102201 的第 1 号离线包（2 条事件、1 个扫描件）" in page  # taken, and the scan
    with township.app_context(), db.connection_context():
        assert RelayBundle.select().count() == 1


def test_the_townships_sync_page_counts_the_villages_bundles_waiting(village, township):
    from tests.fixtures.relay import export_bytes, import_bytes

    queue_cases(village, 1)
    import_bytes(township, export_bytes(village))
    clerk = StationClient(township.test_client()).login("clerk")
    page = clerk.get("/sync/").get_data(as_text=True)
    assert '<dd id="relay-counts">待转发县级 1 个' in page and "回执包待导出 0 个" in page
    village_clerk = StationClient(village.test_client()).login("clerk")
    assert 'id="relay-counts"' not in village_clerk.get("/sync/").get_data(as_text=True)  # a village relays nothing
