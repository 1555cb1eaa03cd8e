"""物料流转 across stations: a village's batch scanned at the village, at its township and at the county.

The paper goes where the data does not: the township and the county hold none of the village's
batch until they scan its barcode (a USB scanner types the number and Enter, sometimes with CR, LF
or a tab of its own). After each of the three handovers, "where is it" is asked where it was
scanned, at the county, and at the village once it synced.
"""

from __future__ import annotations

import re

import pytest

from demo.loopback import register_station
from station.extensions import db
from station.models import TransferItem
from station.services.station_info import update_profile
from sync import state
from sync.hub.extensions import db as hub_db
from sync.hub.services import stations
from tests.fixtures.e2e import queue_cases, sync
from tests.fixtures.hub import logged_in
from tests.fixtures.relay import TOWNSHIP_CODE, VILLAGE_CODE, linked_township, save_link
from tests.fixtures.station import StationClient

pytestmark = pytest.mark.slow


@pytest.fixture
def village(app, hub):
    with app.app_context(), db.connection_context():
        update_profile(code=VILLAGE_CODE, name="东关村便民服务站", area_code="141081102201", level="village")
    save_link(app, hub.url, VILLAGE_CODE, register_station(hub.app, VILLAGE_CODE, "东关村便民服务站"))
    with hub.app.app_context(), hub_db.connection_context():  # the county: its papers go up through 东关镇
        stations.update_settings(VILLAGE_CODE, {stations.TOWNSHIP_SETTING: TOWNSHIP_CODE}, clerk="县管理员")
    return app


@pytest.fixture
def township(tmp_path, station_template, hub):
    return linked_township(tmp_path / "township", station_template, hub)


def now_line(html: str) -> str:
    """The "现在：…" line of a batch page."""
    match = re.search(r'id="where-now"><strong>现在：</strong>([^<]*)<', html)
    assert match, html[:2000]
    return match.group(1)


def papers_of_case(user: StationClient, case_id: str) -> str:
    page = user.get(f"/cases/{case_id}").get_data(as_text=True)
    start = page.index('id="papers"')
    return page[start:page.index("</section>", start)]


def test_a_village_batch_through_village_township_and_county_says_where_it_is_after_each(village, township, hub):
    ids = queue_cases(village, 2)
    agent = StationClient(village.test_client()).login("agent")
    packed = agent.post("/transfers/new", data={"case": ids, "destination": "县政务服务中心", "direction": "up"})
    assert packed.status_code == 302
    batch_url = packed.headers["Location"]
    batch_no = re.search(r"物料流转批次 (WL-[0-9A-Z-]+)", agent.get(batch_url).get_data(as_text=True)).group(1)
    with village.app_context(), db.connection_context():
        first_line = TransferItem.select().where(TransferItem.case == ids[0]).first().material_name

    # 1. at the village: the agent hands the folder to the courier (scanner: code, CR, LF)
    found = agent.post("/transfers/scan", data={"code": batch_no + "\r\n"})
    assert found.headers["Location"].startswith(batch_url)
    agent.post(batch_url + "/handover", data={"giver": "王代办", "receiver": "赵送件", "place": "东关村便民服务站"})
    assert "在途：由 赵送件 保管（东关村便民服务站" in papers_of_case(agent, ids[0])
    assert not sync(village).error

    county = logged_in(hub.app, "county-clerk", "approver", "县级窗口")

    def county_scan(typed: str) -> str:
        found = county.csrf_post("/transfers/scan", {"code": typed}, token_page="/transfers/")
        assert found.status_code == 302 and "/transfers/" in found.headers["Location"], found.get_data(as_text=True)
        return found.headers["Location"].split("#")[0]  # the batch's page, opened as scanned

    county_batch = county_scan(batch_no.lower() + "\n")
    assert now_line(county.get(county_batch).get_data(as_text=True)).startswith("在途：由 赵送件 保管（东关村便民服务站")

    # 2. at the township: the courier hands it to the clerk, who finds one paper missing against the sheet;
    #    the township holds nothing of the batch: the scan opens the receipt form for another station's batch
    clerk = StationClient(township.test_client()).login("clerk")
    found = clerk.post("/transfers/scan", data={"code": "\t" + batch_no.lower() + "\r"})
    assert "/transfers/receive" in found.headers["Location"], found.headers
    form = clerk.get(found.headers["Location"].split("#")[0]).get_data(as_text=True)
    assert "已扫描批次" in form and 'id="handover-form"' in form
    received = clerk.post("/transfers/receive", data={"code": batch_no, "giver": "赵送件", "receiver": "李窗口",
                                                       "place": "东关镇便民服务中心", "missing_names": first_line},
                          follow_redirects=True)
    assert now_line(received.get_data(as_text=True)).startswith("在途：由 李窗口 保管（东关镇便民服务中心")
    assert not sync(township).error
    page = county.get(county_batch).get_data(as_text=True)
    assert now_line(page).startswith("在途：由 李窗口 保管（东关镇便民服务中心") and f"缺失：{first_line}" in page
    assert not sync(village).error  # the county's feed tells the village who holds its papers now
    papers = papers_of_case(agent, ids[0])
    assert "在途：由 李窗口 保管（东关镇便民服务中心" in papers and "缺失" in papers

    # 3. at the county: the township's courier hands it to the county clerk, who scans it on the hub page
    county_batch = county_scan(batch_no + "\r\n")
    detail = county.get(county_batch).get_data(as_text=True)
    assert 'id="handover-form"' in detail and "已扫描批次" in detail
    done = county.csrf_post(county_batch.split("?")[0] + "/receive", {"giver": "李窗口", "receiver": "县级窗口", "place": "县政务服务中心",
                                                        "arrived": "1"}, token_page=county_batch, follow_redirects=True)
    assert now_line(done.get_data(as_text=True)).startswith("已送达县政务服务中心，由 县级窗口 接收")
    assert not sync(village).error and not sync(township).error
    assert "已送达县政务服务中心，由 县级窗口 接收" in papers_of_case(agent, ids[1])
    listing = clerk.get("/transfers/").get_data(as_text=True)
    moving = listing[listing.index('id="in-transit"'):]
    assert batch_no in listing and batch_no not in moving[:moving.index("</section>")]  # no longer in transit there


@pytest.fixture
def village_alone(app, hub):
    """A village whose township centre the county has not set yet: its papers' route is itself and the county."""
    with app.app_context(), db.connection_context():
        update_profile(code=VILLAGE_CODE, name="东关村便民服务站", area_code="141081102201", level="village")
    save_link(app, hub.url, VILLAGE_CODE, register_station(hub.app, VILLAGE_CODE, "东关村便民服务站"))
    return app


def pack_unsynced(village) -> tuple[list[str], str]:  # noqa: ANN001
    """Two cases packed into a batch for the county; nothing of it synced yet."""
    ids = queue_cases(village, 2)
    agent = StationClient(village.test_client()).login("agent")
    packed = agent.post("/transfers/new", data={"case": ids, "destination": "县政务服务中心", "direction": "up"})
    assert packed.status_code == 302
    page = agent.get(packed.headers["Location"]).get_data(as_text=True)
    return ids, re.search(r"物料流转批次 (WL-[0-9A-Z-]+)", page).group(1)


def township_receives(township, batch_no: str) -> tuple[StationClient, str]:  # noqa: ANN001
    """The township's clerk scans the village's barcode and records the receipt; the batch's page there."""
    clerk = StationClient(township.test_client()).login("clerk")
    received = clerk.post("/transfers/receive", data={"code": batch_no, "giver": "赵送件", "receiver": "李窗口",
                                                       "place": "东关镇便民服务中心"})
    assert received.status_code == 302, received.get_data(as_text=True)[:2000]
    return clerk, received.headers["Location"].split("#")[0]


def cursor_of(app) -> int:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        return int(state.get_value(state.CURSOR) or 0)


def test_a_township_off_the_route_is_told_of_its_late_refusal_and_sends_it_again_once_the_county_sets_the_route(
        village_alone, township, hub):
    ids, batch_no = pack_unsynced(village_alone)
    clerk, batch_page = township_receives(township, batch_no)
    assert not sync(township).error  # the county does not know the batch yet: stored, pending
    assert now_line(clerk.get(batch_page).get_data(as_text=True)).startswith("在途：由 李窗口 保管")

    assert not sync(village_alone).error  # the batch is known now; the township is not on its route
    before_refusal = cursor_of(township)
    assert not sync(township).error
    page = clerk.get(batch_page).get_data(as_text=True)
    assert f"县级平台未接受：批次 {batch_no} 不经过本站" in page and "填写所属乡镇中心" in page
    assert "李窗口" not in now_line(page)  # no longer counted as where the papers are
    listing = clerk.get("/transfers/").get_data(as_text=True)
    assert "县级平台未接受 1 次交接" in listing
    agent = StationClient(village_alone.test_client()).login("agent")
    assert "李窗口" not in papers_of_case(agent, ids[0])

    # still refused while the route is unset: sent again, refused again, still shown so
    assert not sync(township).error
    assert page.count("县级平台未接受：") == 1 == clerk.get(batch_page).get_data(as_text=True).count("县级平台未接受：")

    with hub.app.app_context(), hub_db.connection_context():  # the county fills in the village's township
        stations.update_settings(VILLAGE_CODE, {stations.TOWNSHIP_SETTING: TOWNSHIP_CODE}, clerk="县管理员")
    assert not sync(township).error  # sent again, taken now
    page = clerk.get(batch_page).get_data(as_text=True)
    assert now_line(page).startswith("在途：由 李窗口 保管") and "县级平台未接受" not in page
    assert not sync(village_alone).error
    assert "在途：由 李窗口 保管（东关镇便民服务中心" in papers_of_case(agent, ids[0])

    # the feed read again from before the refusal: it was applied once, and does not come back
    with township.app_context(), db.connection_context():
        state.set_value(state.CURSOR, str(before_refusal))
    assert not sync(township).error
    page = clerk.get(batch_page).get_data(as_text=True)
    assert now_line(page).startswith("在途：由 李窗口 保管") and "县级平台未接受" not in page


def test_a_township_on_the_route_that_scanned_before_the_village_synced_has_its_handover_taken(
        village, township, hub):
    ids, batch_no = pack_unsynced(village)
    clerk, batch_page = township_receives(township, batch_no)
    assert not sync(township).error and not sync(village).error and not sync(township).error
    page = clerk.get(batch_page).get_data(as_text=True)
    assert now_line(page).startswith("在途：由 李窗口 保管") and "县级平台未接受" not in page
    assert not sync(village).error  # the county told the village who holds its papers
    agent = StationClient(village.test_client()).login("agent")
    assert "在途：由 李窗口 保管（东关镇便民服务中心" in papers_of_case(agent, ids[1])


def test_a_township_off_the_route_scanning_a_batch_the_county_knows_sees_why_it_was_refused(
        village_alone, township, hub):
    ids, batch_no = pack_unsynced(village_alone)
    assert not sync(village_alone).error
    clerk, batch_page = township_receives(township, batch_no)
    round_ = sync(township)
    assert not round_.error  # refused in the answer itself
    assert [d for d in round_.details if d.startswith(f"物料交接（批次 {batch_no}）县级未接受：批次 {batch_no} 不经过本站")]
    page = clerk.get(batch_page).get_data(as_text=True)
    assert f"县级平台未接受：批次 {batch_no} 不经过本站" in page and "李窗口" not in now_line(page)
