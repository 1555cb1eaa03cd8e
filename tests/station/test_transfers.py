"""物料流转: a batch of paper originals through three handovers, each scanned as a keyboard types it.

A USB barcode scanner types the batch number and then Enter (some add a carriage return or line
feed of their own); the scan box must find the batch from exactly that.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from rules import events
from station.extensions import db
from station.models import Case, Transfer, TransferHandover
from sync.outbox import OutboxEvent
from tests.fixtures.e2e import queue_cases
from tests.fixtures.intake import form_for, item_named
from tests.fixtures.pdf import flat, pdftotext


@pytest.fixture
def batch(app, agent):
    ids = queue_cases(app, 3)
    response = agent.post("/transfers/new", data={"case": ids, "destination": "东关镇便民服务中心", "direction": "up"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        transfer = Transfer.get()
        return {"ids": ids, "id": transfer.id, "no": transfer.batch_no}


def scan(user, typed: str):
    """What the scan box submits: the characters the scanner typed, Enter having submitted the form."""
    return user.post("/transfers/scan", data={"code": typed})


def hand_over(user, batch, typed: str, **fields):  # noqa: ANN001, ANN003, ANN201
    found = scan(user, typed)
    assert found.status_code == 302 and f"/transfers/{batch['id']}" in found.headers["Location"], found.headers
    page = user.get(found.headers["Location"]).get_data(as_text=True)
    assert "已扫描批次" in page and 'id="handover-form"' in page
    return user.post(f"/transfers/{batch['id']}/handover", data=fields, follow_redirects=True)


def where_is(user, case_id: str) -> str:
    page = user.get(f"/cases/{case_id}").get_data(as_text=True)
    start = page.index('id="papers"')
    return page[start:page.index("</section>", start)]


def test_a_batch_through_three_handovers_answers_where_it_is_after_each(app, agent, clerk, batch):
    case_id = batch["ids"][0]
    assert "在途：由 王代办 保管" in where_is(agent, case_id)  # packed at the village, not yet handed over

    # 1. the village agent hands the folder to the township's courier; the scanner adds CR LF
    hand_over(agent, batch, batch["no"] + "\r\n", giver="王代办", receiver="赵送件", place="东关村便民服务站")
    assert "在途：由 赵送件 保管（东关村便民服务站" in where_is(agent, case_id)

    # 2. the township clerk receives it and finds one line missing; the scanner sent a lower-case code with a tab
    with app.app_context(), db.connection_context():
        from station.models import TransferItem

        line = TransferItem.select().where(TransferItem.case == case_id).first()
    page = hand_over(clerk, batch, batch["no"].lower() + "\t", giver="赵送件", receiver="李窗口",
                     place="东关镇便民服务中心", missing=[str(line.id)], extra="多一份户口簿复印件")
    assert "已登记第 2 次交接" in page.get_data(as_text=True)
    here = where_is(clerk, case_id)
    assert "在途：由 李窗口 保管（东关镇便民服务中心" in here and "交接时缺失" in here
    moving = clerk.get("/transfers/").get_data(as_text=True)
    assert batch["no"] in moving.split('id="in-transit"')[1].split("</section>")[0] and "李窗口" in moving

    # 3. the county signs for it: it has arrived
    hand_over(clerk, batch, batch["no"], giver="李窗口", receiver="县级张", place="县政务服务中心", arrived="1")
    assert "已送达县政务服务中心，由 县级张 接收" in where_is(agent, case_id)
    moving = clerk.get("/transfers/").get_data(as_text=True)
    assert batch["no"] not in moving.split('id="in-transit"')[1].split("</section>")[0]

    # every handover reaches the county once per case, in the handover's own order
    with app.app_context(), db.connection_context():
        for cid in batch["ids"]:
            sent = [e.payload for e in OutboxEvent.select().where(
                (OutboxEvent.case_id == cid) & (OutboxEvent.kind == events.ORIGINALS_HANDOVER)).order_by(OutboxEvent.seq)]
            assert [(p["handover"], p["receiver"]) for p in sent] == [(1, "赵送件"), (2, "李窗口"), (3, "县级张")]
            assert sent[-1]["arrived"] is True
        assert sent[1]["extra"] == ["多一份户口簿复印件"]


def test_the_transfer_sheet_prints_the_batch_and_its_handovers(app, agent, batch):
    hand_over(agent, batch, batch["no"], giver="王代办", receiver="赵送件", place="东关村便民服务站")
    response = agent.get(f"/transfers/{batch['id']}/sheet.pdf")
    assert response.mimetype == "application/pdf"
    text = flat(pdftotext(response.data))
    assert "物料流转单" in text and batch["no"] in text and "赵送件" in text and "东关镇便民服务中心" in text


def test_the_sheet_says_which_originals_go_on_to_the_county_that_handles_their_case(app, agent):
    """跨域办: the receipt tells the resident her originals go to the handling county, but the sheet the
    township and the county sign said nothing of it — they were filed with this county's papers."""
    from tests.e2e.test_cross_area import ITEM, take_cross_area_item

    take_cross_area_item(app)
    [cross] = queue_cases(app, 1, item_name=ITEM)
    [local] = queue_cases(app, 1)
    form = agent.get("/transfers/new").get_data(as_text=True)
    assert "请为它们单独建立批次" in form
    row = form[form.index(f'value="{cross}"'):]
    assert "跨域办 · 原件转交示范市邻县民政局" in row[:row.index("</tr>")]
    agent.post("/transfers/new", data={"case": [cross, local], "destination": "东关镇便民服务中心", "direction": "up"})
    with app.app_context(), db.connection_context():
        from station.models import TransferItem

        transfer = Transfer.get()
        lines = {case_id: TransferItem.select().where(TransferItem.case == case_id).count()
                 for case_id in (cross, local)}
    assert lines[cross] and lines[local]
    text = flat(pdftotext(agent.get(f"/transfers/{transfer.id}/sheet.pdf").data))
    # each paper of the cross-area case is marked (its cell wraps: the words' start), none of the local one's
    assert text.count("（跨域办，") == lines[cross]
    assert "标“跨域办”的材料由示范市邻县民政局办理：县级收到后须将这些原件转交办理地" in text


def test_an_unknown_code_says_so_and_a_bad_handover_changes_nothing(app, agent, batch):
    page = agent.client.post("/transfers/scan", data={"code": "6901234567892\r", "csrf_token": agent.token},
                             follow_redirects=True).get_data(as_text=True)
    assert "没有找到批次 6901234567892" in page and "是否扫了别的条码" in page
    bad = agent.post(f"/transfers/{batch['id']}/handover", data={"giver": "王代办", "receiver": "王代办"})
    assert bad.status_code == 400 and "交出人和接收人不能是同一人" in bad.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        assert TransferHandover.select().count() == 0
        assert not OutboxEvent.select().where(OutboxEvent.kind == events.ORIGINALS_HANDOVER).exists()


def test_papers_given_back_to_the_resident_name_them_masked(app, agent, batch):
    hand_over(agent, batch, batch["no"], giver="王代办", receiver="张三丰", place="东关村便民服务站",
              receiver_kind="resident")
    here = where_is(agent, batch["ids"][0])
    assert "张*丰" in here and "张三丰" not in here
    with app.app_context(), db.connection_context():
        stored = TransferHandover.select(TransferHandover.receiver).tuples()
        raw = db.execute_sql("SELECT receiver FROM transfer_handover").fetchone()[0]
        assert raw.startswith("enc1:") and "张三丰" not in raw and stored
        payload = OutboxEvent.select().where(OutboxEvent.kind == events.ORIGINALS_HANDOVER).first().payload
        assert payload["receiver"] == "张*丰"
        assert Case.select().count() == 3


def test_a_laptops_batch_never_takes_the_station_pcs_number(app, agent, batch):
    """A laptop on a home visit numbers its batches in its own database: its device suffix keeps them apart."""
    from rules.transfers import origin_of
    from station.services.station_info import get_profile
    from sync import state

    with app.app_context(), db.connection_context():
        state.set_value(state.DEVICE, "2")  # as linking the PC as the station's second device leaves it
        code = get_profile().code
    ids = queue_cases(app, 1)
    response = agent.post("/transfers/new", data={"case": ids, "destination": "东关镇便民服务中心", "direction": "up"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        laptop = Transfer.select().order_by(Transfer.id.desc()).get().batch_no
    assert batch["no"].endswith("-01")  # the PC's first batch of the day …
    assert laptop == batch["no"] + "-02"  # … and the laptop's own first, device 2: never the same number
    assert origin_of(laptop) == origin_of(batch["no"]) == code.upper()
    found = scan(agent, laptop.lower() + "\r\n")  # the scanner finds the laptop's batch, not the PC's
    assert found.status_code == 302
    page = agent.get(found.headers["Location"]).get_data(as_text=True)
    assert laptop in page


def test_a_case_turned_away_has_no_papers_here_to_send_up(app, agent):
    # the resident took everything home with the 一次性告知书; only what a collected case left here travels
    with app.app_context(), db.connection_context():
        item = item_named("高龄津贴申领")
        data = form_for([item], **{"mat__id_card__status": "missing"})  # the 户口簿 and bank card were shown
    response = agent.post(f"/intake/item/{item.id}", data)
    assert response.status_code == 302
    case_id = response.headers["Location"].split("/cases/")[1].split("?")[0]
    with app.app_context(), db.connection_context():
        turned_away = Case.get_by_id(case_id)
        assert turned_away.status == "not_collected"
    assert turned_away.case_no not in agent.get("/transfers/new").get_data(as_text=True)
    refused = agent.post("/transfers/new", data={"case": [case_id], "destination": "东关镇便民服务中心",
                                                 "direction": "up"})
    assert refused.status_code == 200 and "所选办件在本站没有纸质材料" in refused.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        assert Transfer.select().count() == 0


def test_a_case_with_papers_is_listed_however_many_older_cases_hold_none(app):
    """Older cases kept wholly without paper (容缺, 电子证照) must not push a case with papers off the list."""
    from station.models import CaseMaterial
    from station.services import transfers

    ids = queue_cases(app, 6)
    with app.app_context(), db.connection_context():
        CaseMaterial.update(status="deferred").where(CaseMaterial.case.in_(ids[:5])).execute()  # the five oldest: 容缺
        listed = [c.id for c in transfers.cases_awaiting_transfer(limit=3)]
        assert listed == [ids[5]]
        assert transfers.papers_of(Case.get_by_id(ids[5])) and not transfers.papers_of(Case.get_by_id(ids[0]))


def test_a_second_click_on_create_makes_no_second_batch_of_the_same_papers(app, agent, batch):
    """A double click on 建立 packed the same originals into two batches, each reported to the county."""
    with app.app_context(), db.connection_context():
        packed_events = OutboxEvent.select().where(OutboxEvent.kind == events.ORIGINALS_PACKED).count()
        case_no = Case.get_by_id(batch["ids"][0]).case_no
    again = agent.post("/transfers/new", data={"case": batch["ids"][:1], "destination": "东关镇便民服务中心",
                                               "direction": "up"})
    page = again.get_data(as_text=True)
    assert again.status_code == 200 and f"{batch['no']} 已装 {case_no}" in page and "不能重复装入" in page
    with app.app_context(), db.connection_context():
        assert Transfer.select().count() == 1
        assert OutboxEvent.select().where(OutboxEvent.kind == events.ORIGINALS_PACKED).count() == packed_events


def test_a_second_click_on_record_handover_records_it_once(app, agent, clerk, batch):
    """A double click on 登记交接 recorded the same change of hands twice, each told to the county."""
    page = agent.get(f"/transfers/{batch['id']}").get_data(as_text=True)
    seen = re.search(r'name="seen_handovers" value="(\d+)"', page).group(1)
    form = {"giver": "王代办", "receiver": "李窗口", "place": "东关镇便民服务中心", "seen_handovers": seen}
    assert agent.post(f"/transfers/{batch['id']}/handover", form).status_code == 302
    with app.app_context(), db.connection_context():
        handover_events = OutboxEvent.select().where(OutboxEvent.kind == events.ORIGINALS_HANDOVER).count()
    again = agent.post(f"/transfers/{batch['id']}/handover", form, follow_redirects=True).get_data(as_text=True)
    assert f"批次 {batch['no']} 在本页打开后已登记了第 1 次交接" in again and "这次未重复登记" in again
    with app.app_context(), db.connection_context():
        assert TransferHandover.select().count() == 1
        assert OutboxEvent.select().where(OutboxEvent.kind == events.ORIGINALS_HANDOVER).count() == handover_events
    fresh = clerk.get(f"/transfers/{batch['id']}").get_data(as_text=True)  # the next holder hands it on
    form = {"giver": "李窗口", "receiver": "张站长", "place": "东关镇便民服务中心",
            "seen_handovers": re.search(r'name="seen_handovers" value="(\d+)"', fresh).group(1)}
    assert clerk.post(f"/transfers/{batch['id']}/handover", form).status_code == 302
    with app.app_context(), db.connection_context():
        assert TransferHandover.select().count() == 2


def test_an_id_card_scanned_into_the_batch_box_is_not_echoed_in_full(clerk):
    """A scanner that reads the resident's ID card types her number where a batch number was expected: the refusal
    names it masked, in the page and in the session cookie that carries the message to it."""
    from tests.fixtures.intake import GOOD_ID

    response = clerk.get(f"/transfers/receive?code={GOOD_ID}")
    cookies = " ".join(response.headers.getlist("Set-Cookie"))
    page = clerk.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{GOOD_ID[:6]}********{GOOD_ID[-4:]} 不是流转单的批次号，请重新扫描。" in page
    assert f"{GOOD_ID[:6]}********" in _session_text(cookies)  # the message rides in the cookie …
    assert GOOD_ID not in page and GOOD_ID not in _session_text(cookies)  # … with the number masked


def _session_text(cookies: str) -> str:
    """What Flask's session cookie holds, decoded (it is signed, not encrypted)."""
    import base64
    import zlib

    match = re.search(r"session=(\.?)([^.;]+)", cookies)
    if not match:
        return ""
    data = base64.urlsafe_b64decode(match.group(2) + "=" * (-len(match.group(2)) % 4))
    return (zlib.decompress(data) if match.group(1) else data).decode("utf-8", "replace")


def test_a_batch_is_late_after_three_working_days_in_one_hand_not_after_72_hours(app, agent, batch):
    import dataclasses

    from station.services import transfers
    from station.services.calendar import load_calendar

    with app.app_context(), db.connection_context():
        calendar = load_calendar()
        friday = dataclasses.replace(transfers.custody_of(Transfer.get_by_id(batch["id"])),
                                     since=dt.datetime(2026, 11, 27, 9, 0))  # handed over on a Friday morning
        assert not friday.late(dt.date(2026, 11, 30), calendar)  # Monday: 72 hours, one working day
        assert not friday.late(dt.date(2026, 12, 2), calendar)  # Wednesday: the third working day
        assert friday.late(dt.date(2026, 12, 3), calendar)
    page = agent.get("/transfers/").get_data(as_text=True)
    assert "超过3个工作日" not in page  # packed just now
    with app.app_context(), db.connection_context():  # the batch has lain at the station a month
        Transfer.update(created_at=dt.datetime.now() - dt.timedelta(days=30)).where(Transfer.id == batch["id"]).execute()
    assert "超过3个工作日" in agent.get("/transfers/").get_data(as_text=True)
