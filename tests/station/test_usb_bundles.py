"""USB bundles at the stations, without the county: each bad file refused with a clear message, nothing changed.

The village's return bundles are sealed here with the village's secret, as the county would;
forwarding through a real hub is in tests/e2e/test_usb_relay.py.
"""

from __future__ import annotations

import base64
import hashlib
import io

import pytest

from station.extensions import db
from station.models import Case
from sync import state
from sync.outbox import OutboxEvent
from sync.relay import RelayBundle, forward_waiting
from sync.summary import SyncSummary
from sync.usb_bundle import DIGEST_BYTES, BundleError, write_bundle
from sync.usb_export import USB_RETURN_SEQ
from tests.fixtures.e2e import queue_cases
from tests.fixtures.relay import (
    TOWNSHIP_AREA,
    VILLAGE_CODE,
    VILLAGE_SECRET,
    export_bytes,
    import_bytes,
    save_link,
    township_app,
)


@pytest.fixture
def village(app):
    save_link(app, "http://127.0.0.1:9", VILLAGE_CODE, VILLAGE_SECRET)  # a link that never answers
    return app


@pytest.fixture
def township(tmp_path, station_template):
    return township_app(tmp_path / "township", station_template)


def held_at(township) -> list[tuple[str, int, str]]:
    with township.app_context(), db.connection_context():
        return [(b.station_code, b.seq, b.state) for b in RelayBundle.select().order_by(RelayBundle.id)]


def outbox(app) -> list[tuple[str, str, int]]:
    with app.app_context(), db.connection_context():
        return [(e.event_id, e.state, e.attempts) for e in OutboxEvent.select().order_by(OutboxEvent.id)]


def refused(app, data: bytes, words: str) -> None:
    with pytest.raises(BundleError) as caught:
        import_bytes(app, data)
    assert words in caught.value.message, caught.value.message


def redigest(body: bytes) -> bytes:
    return body + hashlib.sha256(body).digest()


def county_answer(app, seq: int, *, status: str = "accepted", decided: str | None = None,
                  station: str = VILLAGE_CODE, secret: str = VILLAGE_SECRET, change_id: int | None = None) -> bytes:
    """A return bundle as the county seals it: an answer per queued event, a 受理 for one case."""
    with app.app_context(), db.connection_context():
        events = list(OutboxEvent.select())
    changes = []
    if decided:
        changes.append({"change_id": change_id or 7 + seq, "kind": "case.status", "case_id": decided,
                        "payload": {"status": "accepted", "hub_case_no": f"XJ-{seq}", "reason": ""}})
    out = io.BytesIO()
    write_bundle(out, secret, {"kind": "return", "bundle_id": f"01JRETURN{seq:017d}", "station": station,
                               "township": TOWNSHIP_AREA[:9], "seq": seq},
                 {"results": [{"event_id": e.event_id, "status": status} for e in events], "changes": changes,
                  "next_cursor": 7 + seq})
    return out.getvalue()


def test_the_township_holds_a_village_bundle_it_cannot_read(village, township):
    queue_cases(village, 3)
    data = export_bytes(village)
    done = import_bytes(township, data)
    assert "第 1 号离线包" in done.message() and "3 条事件" in done.message()
    assert held_at(township) == [(VILLAGE_CODE, 1, "waiting")]
    assert all(state == "queued" and attempts == 1 for _id, state, attempts in outbox(village))  # sent, by stick
    with village.app_context(), db.connection_context():
        name = Case.select().first().applicant_name
    assert name.encode() not in data and VILLAGE_CODE.encode() in data  # the header is plain, the rest is not


def test_the_same_bundle_twice_at_the_township_is_refused(village, township):
    queue_cases(village, 2)
    data = export_bytes(village)
    import_bytes(township, data)
    refused(township, data, "已于")
    assert held_at(township) == [(VILLAGE_CODE, 1, "waiting")]


def test_an_old_bundle_after_a_newer_one_is_refused_at_the_township(village, township):
    queue_cases(village, 2)
    first = export_bytes(village)
    queue_cases(village, 1)
    second = export_bytes(village)
    import_bytes(township, second)
    refused(township, first, "比本中心已导入的第 2 号旧")
    assert held_at(township) == [(VILLAGE_CODE, 2, "waiting")]


def test_a_truncated_bundle_is_refused_at_the_township(village, township):
    queue_cases(village, 2)
    data = export_bytes(village)
    refused(township, data[: len(data) // 2], "不完整")
    assert held_at(township) == []


def test_a_bundle_for_another_township_is_refused(village, tmp_path, station_template):
    other = township_app(tmp_path / "other", station_template, area_code="141081103000", code="ST141081103000")
    queue_cases(village, 1)
    refused(other, export_bytes(village), "属于区划 141081102 的乡镇")
    assert held_at(other) == []


def test_a_township_without_its_area_code_says_to_set_it(village, tmp_path, station_template):
    from station.models import Setting

    centre = township_app(tmp_path / "centre", station_template)
    with centre.app_context(), db.connection_context():
        Setting.set_value("station.area_code", "")  # as `init --level township` without --area-code leaves it
    queue_cases(village, 1)
    refused(centre, export_bytes(village), "请站长在“本站设置”中填写本中心的12位区划代码")
    assert held_at(centre) == []


def test_a_return_bundle_brought_to_the_township_is_refused(village, township):
    queue_cases(village, 1)
    export_bytes(village)
    refused(township, county_answer(village, 1), "应在对应的村站导入")
    assert held_at(township) == []


def test_the_village_takes_the_countys_answers_and_decisions_from_a_return_bundle(village):
    [case_id] = queue_cases(village, 1)
    export_bytes(village)
    done = import_bytes(village, county_answer(village, 1, decided=case_id))
    assert "县级确认 1 条" in done.message() and "接收县级更新 1 条" in done.message()
    assert [s for _i, s, _a in outbox(village)] == ["acked"]
    with village.app_context(), db.connection_context():
        assert Case.get_by_id(case_id).status == "accepted"
        assert state.get_value(state.CURSOR) == "8"


def test_the_same_return_bundle_twice_is_refused_and_changes_nothing(village):
    [case_id] = queue_cases(village, 1)
    export_bytes(village)
    data = county_answer(village, 1, decided=case_id)
    import_bytes(village, data)
    with village.app_context(), db.connection_context():
        Case.update(status="collected").where(Case.id == case_id).execute()  # would show if applied again
    refused(village, data, "已导入过")
    with village.app_context(), db.connection_context():
        assert Case.get_by_id(case_id).status == "collected"


def test_an_old_return_bundle_after_a_newer_one_is_refused(village):
    queue_cases(village, 1)
    export_bytes(village)
    queue_cases(village, 1)
    export_bytes(village)
    old = county_answer(village, 1, status="rejected")
    import_bytes(village, county_answer(village, 2))
    refused(village, old, "比已导入的（第 2 号）旧")
    assert {s for _i, s, _a in outbox(village)} == {"acked"}


@pytest.mark.parametrize("damage", ["truncated", "tampered"])
def test_a_damaged_return_bundle_is_refused_and_changes_nothing(village, damage):
    [case_id] = queue_cases(village, 1)
    export_bytes(village)
    data = county_answer(village, 1, decided=case_id)
    if damage == "truncated":
        bad, words = data[:-100], "不完整"
    else:
        body = bytearray(data[:-DIGEST_BYTES])
        body[-40] ^= 0x20
        bad, words = redigest(bytes(body)), "被改动"
    refused(village, bad, words)
    assert [s for _i, s, _a in outbox(village)] == ["queued"]
    with village.app_context(), db.connection_context():
        assert Case.get_by_id(case_id).status != "accepted" and state.get_value(USB_RETURN_SEQ) == ""


def test_a_return_bundle_for_another_village_is_refused(village):
    queue_cases(village, 1)
    export_bytes(village)
    refused(village, county_answer(village, 1, station="ST141081102202", secret="other-village-secret-000000"),
            "不是本站")
    assert [s for _i, s, _a in outbox(village)] == ["queued"]


def test_with_nothing_queued_a_bundle_still_fetches_the_countys_decisions(village, township):
    [case_id] = queue_cases(village, 1)
    export_bytes(village)
    import_bytes(village, county_answer(village, 1))
    empty = export_bytes(village)  # nothing queued now: it carries the cursor only
    assert "0 条事件" in import_bytes(township, empty).message()
    with village.app_context(), db.connection_context():
        OutboxEvent.delete().execute()  # so the county's answer carries no events, only the decision
    import_bytes(village, county_answer(village, 2, decided=case_id))
    with village.app_context(), db.connection_context():
        assert Case.get_by_id(case_id).status == "accepted"


def test_what_the_network_brought_first_is_not_applied_again_from_a_return_bundle(village):
    [case_id] = queue_cases(village, 1)
    export_bytes(village)
    with village.app_context(), db.connection_context():  # the link came back before the stick did
        OutboxEvent.update(state="acked").execute()
        state.set_value(state.CURSOR, "8")
        Case.update(status="supplement").where(Case.id == case_id).execute()  # the county's later word
    import_bytes(village, county_answer(village, 1, status="rejected", decided=case_id, change_id=8))
    assert [s for _i, s, _a in outbox(village)] == ["acked"]  # an ack stands; an old answer does not undo it
    with village.app_context(), db.connection_context():
        assert Case.get_by_id(case_id).status == "supplement" and state.get_value(state.CURSOR) == "8"


class CountyAnswers:
    """Stands for the township's hub client: answers the forwarded bundles in turn, keeps what it was sent."""

    def __init__(self, *answers: tuple[int, dict]) -> None:
        self.answers = list(answers)
        self.received: list[bytes] = []

    def call(self, method: str, path: str, body, headers: dict | None = None) -> tuple[int, dict]:  # noqa: ANN001
        self.received.append(body.read())
        return self.answers.pop(0)


def forwarded_answer(village, seq: int) -> tuple[int, dict]:
    return (200, {"counts": {"accepted": 1}, "results": [],
                  "return_bundle": base64.b64encode(county_answer(village, seq)).decode("ascii")})


def test_the_same_bundle_brought_twice_is_still_forwarded_whole(village, township):
    queue_cases(village, 2)
    data = export_bytes(village)
    import_bytes(township, data)
    refused(township, data, "已于")  # the clerk imports the stick again by mistake
    county = CountyAnswers(forwarded_answer(village, 1))
    with township.app_context(), db.connection_context():
        forward_waiting(county)
    assert county.received == [data]
    assert held_at(township) == [(VILLAGE_CODE, 1, "forwarded"), (VILLAGE_CODE, 1, "ready")]


def test_a_held_bundle_lost_from_disk_is_marked_and_the_next_still_goes(village, township):
    from pathlib import Path

    queue_cases(village, 1)
    import_bytes(township, export_bytes(village))
    queue_cases(village, 1)
    second = export_bytes(village)
    import_bytes(township, second)
    with township.app_context(), db.connection_context():
        Path(RelayBundle.get(RelayBundle.seq == 1).path).unlink()  # deleted by hand, or a restore without it
    county, summary = CountyAnswers(forwarded_answer(village, 2)), SyncSummary()
    with township.app_context(), db.connection_context():
        forward_waiting(county, summary)
        lost = RelayBundle.get(RelayBundle.seq == 1)
    assert county.received == [second]
    assert summary.details[0].startswith(f"离线包 {VILLAGE_CODE} 第 1 号未转发") and "重新导出" in summary.details[0]
    assert summary.details[1] == f"离线包 {VILLAGE_CODE} 第 2 号已转发县级，回执包可以导出了"
    assert held_at(township) == [(VILLAGE_CODE, 1, "lost"), (VILLAGE_CODE, 2, "forwarded"),
                                 (VILLAGE_CODE, 2, "ready")]
    assert lost.state_label == "文件缺失，未转发" and "请村站重新导出离线包" in lost.reason


def test_a_bundle_the_county_finds_too_large_is_refused_and_the_next_still_goes(village, township):
    queue_cases(village, 1)
    import_bytes(township, export_bytes(village))
    queue_cases(village, 1)
    import_bytes(township, export_bytes(village))
    county = CountyAnswers(
        (413, {"error": "too_large", "message": "本次上传的数据过大，请分批上传。"}),
        (200, {"counts": {"accepted": 2}, "results": [],
               "return_bundle": base64.b64encode(county_answer(village, 2)).decode("ascii")}))
    with township.app_context(), db.connection_context():
        forward_waiting(county)  # a signed 413 is the county's verdict on that bundle, not a broken link
        reason = RelayBundle.get(RelayBundle.seq == 1).reason
    assert held_at(township) == [(VILLAGE_CODE, 1, "refused"), (VILLAGE_CODE, 2, "forwarded"),
                                 (VILLAGE_CODE, 2, "ready")]
    assert reason == "本次上传的数据过大，请分批上传。"


def test_a_case_whose_scan_is_lost_stays_home_and_the_others_go_with_their_scans_whole(village):
    import os

    from station.models import User
    from station.services import usb_bundles
    from station.services.attachments import add_attachment, blob_path
    from station.sync_hooks import station_hooks
    from sync.usb_bundle import open_bundle

    ids = queue_cases(village, 2)
    scans = [b"%PDF-1.4\n" + os.urandom(600 * 1024).replace(b"/", b"_") for _ in ids]  # three upload chunks each
    with village.app_context(), db.connection_context():
        agent = User.get(User.username == "agent")
        for case_id, scan in zip(ids, scans, strict=True):
            add_attachment(Case.get_by_id(case_id), agent, "户口簿.pdf", scan, village.config["ATTACHMENT_DIR"],
                           10 * 1024 * 1024)
    blob_path(village.config["ATTACHMENT_DIR"], hashlib.sha256(scans[1]).hexdigest()).unlink()  # lost from disk
    out = io.BytesIO()
    with village.app_context(), db.connection_context():
        made = usb_bundles.export(out, station_hooks(village))
    assert (made.files, made.cases, made.held_back) == (1, 1, [ids[1]])
    opened = open_bundle(out.getvalue(), VILLAGE_SECRET)
    lengths = [b["length"] for b in opened.content["batches"]] + [f["length"] for f in opened.content["files"]]
    assert list(opened.iter_parts(lengths))[-1] == scans[0]  # the scan that went, byte for byte
