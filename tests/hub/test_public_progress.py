"""The resident's public progress page on the hub: plain words per state, nothing personal, look-alike
letters read as digits, a bundle's items together, and a per-address limit."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from rules import events
from sync.hub.china_time import china_today
from sync.hub.services import decisions
from tests.fixtures.hub import case_snapshot

CODE = "K7P20X1M"
ID_NUMBERS = ("110105194912310021", "110105198001010017")
PHONES = ("13800001234", "13900001111")
ADDRESS = "示范县示范村1号"


def _submit(station, make_event, code=CODE, **over):
    event = make_event(payload=case_snapshot(query_code=code, **over))
    assert station.results([event])[0]["status"] == "accepted"
    return event["case_id"]


def _decide(app, case_id, **kw):
    with app.app_context():
        decisions.decide(case_id, decisions.DecisionInput(**kw), clerk="clerk")


def _page(client, code=CODE, status=200):
    response = client.get(f"/q/{code}")
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def _nothing_personal(html: str) -> None:
    for secret in (*ID_NUMBERS, *PHONES, ADDRESS, "张三"):
        assert secret not in html
    assert not re.search(r"(?<![\d-])\d{17}[\dX](?![\d-])", html)  # no full ID number of anyone
    assert not re.search(r"(?<![\d-])1\d{10}(?![\d-])", html)  # no mobile number


def _states(app, station, make_event):
    """One case per state, each with its own code; yields (state, code, words the page must say)."""
    cases = {}
    cid = _submit(station, make_event, "C0KKECT1")
    cases["collected"] = ("C0KKECT1", ["已收件", "等待县级部门受理"])
    cid = _submit(station, make_event, "ACCEPT01")
    _decide(app, cid, kind="accepted", hub_case_no="HUB-2026-0001")
    cases["accepted"] = ("ACCEPT01", ["县级部门已受理", "HUB-2026-0001", "正在办理", "2026年11月27日"])
    cid = _submit(station, make_event, "SVPP0001")
    _decide(app, cid, kind="supplement", supplement_keys=("hukou_book",), reason="户口簿页不清晰")
    cases["supplement"] = ("SVPP0001", ["需要补正", "请把下面的材料交到甲村便民服务站", "居民户口簿", "户口簿页不清晰"])
    cid = _submit(station, make_event, "REJECT01")
    _decide(app, cid, kind="rejected", reason="不属于本部门职权范围")
    cases["rejected"] = ("REJECT01", ["不予受理", "不属于本部门职权范围"])
    cid = _submit(station, make_event, "APPR0VE1", pickup_method="window")
    _decide(app, cid, kind="accepted")
    _decide(app, cid, kind="completed", result="approved", result_text="准予参保，次月生效",
            certificate_no=ID_NUMBERS[0] + "42")  # a 残疾人证's number: its holder's ID number and two digits
    cases["approved"] = ("APPR0VE1", ["已办结：准予", "准予参保，次月生效", "证书编号：<span class=\"mono\">110105**********2142",
                                     "请带本人身份证件和回执到甲村便民服务站领取"])
    cid = _submit(station, make_event, "DENY0001")
    _decide(app, cid, kind="accepted")
    _decide(app, cid, kind="completed", result="denied", result_text="缴费年限不足")
    cases["denied"] = ("DENY0001", ["已办结：不予", "缴费年限不足"])
    cid = _submit(station, make_event, "DE11VER1", pickup_method="post")
    _decide(app, cid, kind="accepted")
    _decide(app, cid, kind="completed", result="approved")
    delivered = make_event(case_id=cid, seq=2, kind=events.DELIVERED, payload={
        "method": "post", "delivered_on": "2026-11-30", "ems_no": "EA123456789CN",
        "address": ADDRESS, "receiver": "张三", "collector": {"name": "张三", "id_masked": "110105********0021"}})
    assert station.results([delivered])[0]["status"] == "accepted"
    cases["delivered"] = ("DE11VER1", ["已送达", "结果已送达（免费邮寄）", "2026年11月30日", "EA123456789CN"])
    return cases


def test_every_state_in_plain_words_and_nothing_personal(hub_app, hub_client, station_a, make_event):
    for state, (code, words) in _states(hub_app, station_a, make_event).items():
        html = _page(hub_client, code)
        for word in words:
            assert word in html, f"{state}: {word!r} missing"
        assert "张*" in html  # the applicant's name, masked
        assert "2026年11月20日 09:30" in html  # 收件 at the station, with its date
        _nothing_personal(html)


def test_supplement_answered_shows_it_and_waits(hub_app, hub_client, station_a, make_event):
    cid = _submit(station_a, make_event)
    _decide(hub_app, cid, kind="supplement", supplement_keys=("hukou_book",))
    answer = make_event(case_id=cid, seq=2, kind=events.SUPPLEMENTED, payload={
        "supplied": [{"key": "hukou_book", "name": "居民户口簿", "supplied_as": "original_seen", "note": ""}],
        "materials": case_snapshot()["materials"], "supplied_at": "2026-11-22T10:00:00+08:00"})
    assert station_a.results([answer])[0]["status"] == "accepted"
    html = _page(hub_client)
    assert "已补交补正材料" in html and "2026年11月22日 10:00" in html
    assert "交到甲村便民服务站，等待县级部门审核，无需再跑" in html
    # nothing on the page reads as still owed: not the current state, not the history's line
    assert "当前：<strong>补正材料已交，等待审核</strong>" in html
    assert "需补正" not in html and "需要补正</strong>" not in html and "请把下面的材料交到" not in html
    assert "要求补交：居民户口簿" in html  # what the county asked stays in the history


def test_a_decided_case_lists_no_material_still_to_bring(hub_app, hub_client, station_a, make_event):
    """A 容缺 material still open on a case the county has decided is not asked of the resident."""
    materials = [*case_snapshot()["materials"],
                 {"key": "photo", "name": "一寸照片", "status": "deferred", "due_date": "2099-01-10"}]
    for code, decide in (("DEC1DED1", [{"kind": "accepted"}, {"kind": "completed", "result": "approved"}]),
                         ("DEC1DED2", [{"kind": "rejected", "reason": "不属于本部门职权范围"}])):
        cid = _submit(station_a, make_event, code, materials=materials)
        assert "还需补交：一寸照片" in _page(hub_client, code)  # asked while the case is open …
        for kw in decide:
            _decide(hub_app, cid, **kw)
        html = _page(hub_client, code)
        assert "一寸照片" not in html and "补交" not in html, code  # … and no longer once decided


def test_look_alike_letters_and_dashes_still_find_the_case(hub_app, hub_client, station_a, make_event):
    _submit(station_a, make_event)
    assert "城乡居民基本养老保险参保登记" in _page(hub_client, "k7p2-oxim")  # O→0, I→1, lower case, dash
    assert "城乡居民基本养老保险参保登记" in _page(hub_client, "K7P20XLM")  # L→1
    response = hub_client.get("/q?code=k7p2+0xlm")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/q/{CODE}?via=typed")  # 移动端/PC, not 二维码
    full_width = hub_client.get("/q?code=ｋ７ｐ２　０Ｘ１Ｍ")  # a phone's input method in full-width mode
    assert full_width.status_code == 302 and full_width.headers["Location"].endswith(f"/q/{CODE}?via=typed")


def test_unknown_code_says_not_found_only(hub_client, station_a):
    html = _page(hub_client, "ZZZZZZZZ", status=404)
    assert "未找到该查询码" in html


def test_a_bundle_code_shows_every_item(hub_app, hub_client, station_a, make_event):
    _submit(station_a, make_event, "BVND1E01", bundle_group="01JBUNDLE0000000000000000A", item_name="出生医学证明")
    _submit(station_a, make_event, "BVND1E02", bundle_group="01JBUNDLE0000000000000000A", item_name="户口登记")
    _submit(station_a, make_event, "OTHER001", item_name="别人的事项")
    html = _page(hub_client, "BVND1E02")
    assert "出生医学证明" in html and "户口登记" in html and "共 2 项" in html
    assert "别人的事项" not in html


def test_the_bundles_one_code_lists_its_items_in_the_receipts_order_and_the_county_sees_the_bundle(
        hub_app, hub_client, station_a, approver, make_event):
    """Issue 19: the station sends each item's place in the bundle; the second item may arrive first."""
    group = "01JBUNDLE0000000000000000B"

    def member(code, name, position):
        bundle = {"code": "B001", "name": "新生儿出生一件事", "group": group, "query_code": "BVND2E01",
                  "position": position, "size": 2}
        return _submit(station_a, make_event, code, bundle_group=group, item_name=name, bundle=bundle)

    member("BVND2E02", "出生登记（户口登记）", 2)
    first = member("BVND2E01", "出生医学证明首次签发", 1)
    html = _page(hub_client, "BVND2E01")
    assert html.index("出生医学证明首次签发") < html.index("出生登记（户口登记）")
    county = approver.client.get(f"/cases/{first}").get_data(as_text=True)
    assert "一件事：新生儿出生一件事（本件为第 1 / 2 项）" in county and "出生登记（户口登记）" in county


def test_station_phone_is_a_tel_link_when_the_county_set_one(hub_app, hub_client, station_a, make_event,
                                                              county_admin):
    """The county admin sets it on the station's page (there was no field for it: the page said 请见回执 for good)."""
    _submit(station_a, make_event)
    assert "服务站电话请见回执" in _page(hub_client)
    refused = county_admin.csrf_post("/stations/ST-A", {"public_phone": "找村委会"}).get_data(as_text=True)
    assert "服务站电话（群众查询办件进度时可一键拨打）：请填写数字电话号码" in refused
    assert station_a.changes().json["changes"] == [] and "服务站电话请见回执" in _page(hub_client)
    county_admin.csrf_post("/stations/ST-A", {"public_phone": "0351 1234567"})
    assert 'href="tel:03511234567"' in _page(hub_client)
    [change] = station_a.changes().json["changes"]
    assert change["payload"]["settings"] == {"public_phone": "03511234567"}


def test_page_passes_the_csp_and_needs_no_login(hub_client, station_a, make_event):
    _submit(station_a, make_event)
    response = hub_client.get(f"/q/{CODE}")
    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    html = response.get_data(as_text=True)
    assert "style=" not in html and "<script" not in html and "http" not in html.replace("https://", "")


@pytest.fixture
def limited_hub(tmp_path):
    from sync.hub import create_app
    from tests.fixtures.config import hub_test_config

    return create_app(hub_test_config(PUBLIC_LOOKUP_LIMIT=5), tmp_path / "limited")


def test_lookups_are_limited_per_address(limited_hub):
    client = limited_hub.test_client()
    for i in range(5):
        assert client.get(f"/q/GUESS{i:03d}").status_code == 404
    refused = client.get("/q/GUESS999")
    assert refused.status_code == 429
    assert "查询过于频繁" in refused.get_data(as_text=True)
    other = limited_hub.test_client()
    assert other.get("/q/GUESS000", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 404


def _broadcasts(app):
    from sync import protocol
    from sync.hub.models import Change

    with app.app_context():
        return [c.payload["settings"] for c in Change.select().where(
            Change.station.is_null() & (Change.kind == protocol.CHANGE_STATION_SETTINGS)).order_by(Change.id)]


def test_public_url_goes_down_to_stations_once_per_value(tmp_path):
    from sync.hub import create_app
    from tests.fixtures.config import hub_test_config

    folder = tmp_path / "hub"
    app = create_app(hub_test_config(PUBLIC_URL="https://zwfw.example.gov.cn"), folder)
    assert _broadcasts(app) == [{"public_url": "https://zwfw.example.gov.cn"}]
    app = create_app(hub_test_config(PUBLIC_URL="https://zwfw.example.gov.cn"), folder)  # a restart
    assert len(_broadcasts(app)) == 1
    app = create_app(hub_test_config(PUBLIC_URL=""), folder)  # withdrawn
    assert _broadcasts(app)[-1] == {"public_url": ""}
    with pytest.raises(Exception, match="PUBLIC_URL"):
        create_app(hub_test_config(PUBLIC_URL="javascript:alert(1)"), folder)


def test_the_page_and_its_limit_on_both_backends(any_hub_app, make_station, make_event):
    station = make_station(any_hub_app, "ST-P", "丙村便民服务站")
    _submit(station, make_event)
    any_hub_app.config["PUBLIC_LOOKUP_LIMIT"] = 3
    client = any_hub_app.test_client()
    assert "丙村便民服务站已收件" in _page(client, "k7p2oxim")
    assert client.get("/q/ZZZZZZZZ").status_code == 404
    assert client.get(f"/q/{CODE}").status_code == 200
    assert client.get(f"/q/{CODE}").status_code == 429  # the fourth lookup from this address


def test_cases_held_before_the_upgrade_find_their_bundle(hub_app, hub_client, station_a, make_event):
    import importlib

    from sync.hub.extensions import db
    from sync.hub.models import HubCase

    _submit(station_a, make_event, "BVND1E01", bundle_group="01JBUNDLE0000000000000000A", item_name="出生医学证明")
    _submit(station_a, make_event, "BVND1E02", bundle_group="01JBUNDLE0000000000000000A", item_name="户口登记")
    migration = importlib.import_module("sync.hub.migrations.0007_public_progress")
    with hub_app.app_context():
        HubCase.update(bundle_group=None).execute()  # as the cases stood before 0007
        migration.backfill(db)
    assert "出生医学证明" in _page(hub_client, "BVND1E02")


def test_a_case_turned_away_points_the_resident_to_the_one_time_notice_by_its_name(
        hub_app, hub_client, station_a, make_event):
    _submit(station_a, make_event, decision="not_collected")
    html = _page(hub_client)
    assert "未收件" in html
    assert "一次性告知书" in html  # the paper's title (GLOSSARY), so the resident knows which paper to bring
    assert "告知单" not in html


def test_a_result_delivered_the_day_it_was_decided_is_the_last_step(hub_app, hub_client, station_a, make_event):
    cid = _submit(station_a, make_event, pickup_method="window")
    _decide(hub_app, cid, kind="accepted")
    _decide(hub_app, cid, kind="completed", result="approved")
    today = china_today().isoformat()  # the county decided today; the station hands the result over today
    delivered = make_event(case_id=cid, seq=2, kind=events.DELIVERED, payload={
        "method": "window", "delivered_on": today, "collector": {"name": "张三", "id_masked": "110105********0021"}})
    assert station_a.results([delivered])[0]["status"] == "accepted"
    html = _page(hub_client)
    steps = [html.index(word) for word in ("已收件", "县级部门已受理", "已办结：准予", "结果已送达（窗口领取）")]
    assert steps == sorted(steps), "the steps are not in the order they happened"


def test_a_resident_who_still_owes_a_material_is_told_so_and_when_it_is_overdue(hub_app, hub_client, station_a,
                                                                             make_event):
    """容缺: the page never says "nothing for you to do" above what the resident still has to bring."""
    materials = [*case_snapshot()["materials"],
                 {"key": "photo", "name": "一寸照片", "status": "deferred", "due_date": "2020-01-10"},
                 {"key": "auth", "name": "核对授权书", "status": "deferred", "due_date": "2099-01-05"}]
    _submit(station_a, make_event, materials=materials)
    html = _page(hub_client)
    assert "暂不需要您做什么" not in html
    assert "下面的材料还请按期补交到甲村便民服务站" in html
    assert "还需补交：一寸照片（应于2020年01月10日前补交，已逾期，请尽快补交）" in html
    assert "还需补交：核对授权书（2099年01月05日前）" in html
    _submit(station_a, make_event, "NQTHKNG2")
    assert "请耐心等待受理，暂不需要您做什么" in _page(hub_client, "NQTHKNG2")  # nothing owed: nothing to do


def test_a_case_with_no_promised_date_is_not_said_to_have_one(hub_app, hub_client, station_a, make_event):
    cid = _submit(station_a, make_event, committed_due=None)
    _decide(hub_app, cid, kind="accepted")
    html = _page(hub_client)
    assert "依法应于 2026年12月18日 前办结" in html and "承诺 2026年12月18日" not in html


def test_a_number_a_county_clerk_typed_is_masked_on_the_public_page(hub_app, hub_client, station_a, make_event):
    """A clerk writes the ID number or a phone into a reason, or a 残疾人证 number (the holder's ID number and
    two digits) as the certificate: whoever holds the code reads the words, never the number."""
    typed = f"申请人身份证号{ID_NUMBERS[0]}与户口簿不一致，请致电{PHONES[0]}"
    cid = _submit(station_a, make_event, "REJECT02")
    _decide(hub_app, cid, kind="rejected", reason=typed)
    cid = _submit(station_a, make_event, "SVPP0002")
    _decide(hub_app, cid, kind="supplement", supplement_keys=("hukou_book",), reason=typed)
    cid = _submit(station_a, make_event, "APPR0VE2")
    _decide(hub_app, cid, kind="accepted")
    _decide(hub_app, cid, kind="completed", result="approved", result_text=f"已发证，咨询电话{PHONES[1]}",
            certificate_no=ID_NUMBERS[0] + "21")
    for code in ("REJECT02", "SVPP0002", "APPR0VE2"):
        html = _page(hub_client, code)
        _nothing_personal(html)
        assert ID_NUMBERS[0] + "21" not in html
    assert "申请人身份证号110105********0021与户口簿不一致，请致电138****1234" in _page(hub_client, "REJECT02")
    assert "说明：申请人身份证号110105********0021" in _page(hub_client, "SVPP0002")
    approved = _page(hub_client, "APPR0VE2")
    assert "已发证，咨询电话139****1111" in approved and "110105**********2121" in approved


def test_a_case_still_handled_after_its_promised_day_says_so_and_whom_to_ask(hub_app, hub_client, station_a,
                                                                             make_event):
    today = china_today()
    for code, committed, statutory in (("PAST0001", today - dt.timedelta(days=3), today + dt.timedelta(days=20)),
                                       ("PAST0002", None, today - dt.timedelta(days=1)),
                                       ("D7E70DAY", today, today + dt.timedelta(days=20))):
        cid = _submit(station_a, make_event, code, committed_due=committed and committed.isoformat(),
                      statutory_due=statutory.isoformat())
        _decide(hub_app, cid, kind="accepted")
    late = _page(hub_client, "PAST0001")
    assert f"承诺 {today - dt.timedelta(days=3):%Y年%m月%d日} 前办结。这个日期已经过了，县级部门仍在办理。如需催问，请联系服务站。" in late
    assert "这个日期已经过了" in _page(hub_client, "PAST0002")  # the law's limit, when no promise was made
    due_today = _page(hub_client, "D7E70DAY")
    assert f"承诺 {today:%Y年%m月%d日} 前办结。" in due_today and "这个日期已经过了" not in due_today


def test_a_promised_date_in_a_year_without_holiday_data_is_told_as_provisional(hub_app, hub_client, station_a,
                                                                               make_event):
    """The clerk's pages mark such a date （暂定）; the resident read it as firm."""
    cid = _submit(station_a, make_event, "PR0V1S10", committed_due="2099-01-05", statutory_due="2099-01-20")
    _decide(hub_app, cid, kind="accepted")
    html = _page(hub_client, "PR0V1S10")
    assert "承诺 2099年01月05日 前办结。（这个日期是按周一至周五推算的，2099年节假日安排公布后可能顺延。）" in html
    cid = _submit(station_a, make_event, "KN0WNYR1")  # a year the calendar knows: said as it is
    _decide(hub_app, cid, kind="accepted")
    assert "推算" not in _page(hub_client, "KN0WNYR1")


def test_a_cross_area_case_at_the_handling_county_sends_her_to_her_own_station(hub_app, hub_client, make_event):
    """跨域办 at county B: the case came through county A's hub, registered at B as a peer "station".
    The page told her to bring the 补正 material to "示范县县级平台" — another county's platform —
    and offered that platform's phone as her station's."""
    from sync.hub.models import Station
    from tests.fixtures.hub import _make_station, logged_in

    peer = _make_station(hub_app, "HUB141081", "示范县县级平台")
    with hub_app.app_context():
        Station.update(is_peer=True, settings={"public_phone": "0351-5550000"}).where(
            Station.code == peer.code).execute()
    cross = {"received_area": "141081102201", "handling_area": "141082", "handling_area_name": "邻县民政局"}
    case_id = _submit(peer, make_event, received_station_name="东关村便民服务站", **cross)
    _decide(hub_app, case_id, kind="supplement", supplement_keys=("hukou_book",), reason="户口簿页不清晰")
    page = _page(hub_client)
    assert "请把下面的材料交到东关村便民服务站" in page and "东关村便民服务站已收件" in page
    assert "示范县县级平台" not in page and "0351-5550000" not in page
    clerk_page = logged_in(hub_app, "b-clerk", "approver", "王五").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "申报地 141081102201（东关村便民服务站）" in clerk_page
    assert "本县办理（东关村便民服务站跨域收件，经示范县县级平台转来）" in clerk_page
    # a case forwarded before stations sent their name: no county platform named as her station
    _submit(peer, make_event, "K7P20X2N", **cross)
    assert "原收件的便民服务站已收件" in _page(hub_client, "K7P20X2N")
