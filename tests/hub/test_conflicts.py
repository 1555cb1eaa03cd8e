"""Conflicts that end: the county settles a conflict, the decision goes down the feed, and until
then later events of the case wait instead of being applied on a copy the station does not share."""

from __future__ import annotations

from rules import events
from sync import protocol
from sync.hub.models import Conflict, Event, HubCase, HubHomeVisit
from sync.hub.services import home_visits
from tests.fixtures.hub import case_snapshot


def _conflicted(station, make_event):
    """A case whose first event the hub holds, and a different copy of it plus a later note, sent together."""
    first = make_event()
    station.results([first])
    rewritten = {**first, "payload": case_snapshot(case_no="REWRITTEN", pickup_method="邮寄")}
    later = make_event(case_id=first["case_id"], seq=2, kind=events.NOTE, payload={"text": "补充说明"})
    return first, rewritten, later, station.results([rewritten, later])


def test_later_events_of_a_conflicted_case_wait_at_the_hub(hub_app, station_a, make_event):
    first, _rewritten, later, results = _conflicted(station_a, make_event)
    assert results[0]["status"] == "conflict"
    assert results[1]["status"] == "rejected" and results[1]["code"] == "conflict_pending"
    assert results[1]["retryable"] is True and "待县级核对" in results[1]["reason"]
    with hub_app.app_context():
        assert not Event.select().where(Event.event_id == later["event_id"]).exists()  # not applied
        assert HubCase.get(HubCase.case_id == first["case_id"]).last_seq == 1
    # sent again on its own, it still waits
    assert station_a.results([later])[0]["code"] == "conflict_pending"


def _resolve(approver, resolution: str, note: str = "已电话核实"):
    with approver.client.application.app_context():
        conflict_id = Conflict.get().id
    return approver.csrf_post(f"/conflicts/{conflict_id}/resolve", {"resolution": resolution, "note": note},
                           token_page="/conflicts", follow_redirects=True)


def _feed(station):
    return [c for c in station.changes().json["changes"] if c["kind"] == protocol.CHANGE_CONFLICT_RESOLVED]


def test_keeping_the_county_copy_goes_down_the_feed_and_frees_the_case(hub_app, station_a, make_event, approver):
    first, _rewritten, later, _results = _conflicted(station_a, make_event)
    page = _resolve(approver, "keep_county").get_data(as_text=True)
    assert "已处理：保留县级记录" in page
    [change] = _feed(station_a)
    assert change["case_id"] == first["case_id"]
    assert change["payload"]["event_id"] == first["event_id"]
    assert (change["payload"]["resolution"], change["payload"]["note"]) == ("keep_county", "已电话核实")
    with hub_app.app_context():
        assert HubCase.get(HubCase.case_id == first["case_id"]).case_no == first["payload"]["case_no"]
    assert station_a.results([later])[0]["status"] == "accepted"  # the held event now goes in


def test_taking_the_station_copy_applies_it(hub_app, station_a, make_event, approver):
    first, rewritten, _later, _results = _conflicted(station_a, make_event)
    _resolve(approver, "take_station")
    with hub_app.app_context():
        assert HubCase.get(HubCase.case_id == first["case_id"]).case_no == "REWRITTEN"
        assert Event.get(Event.event_id == first["event_id"]).digest == protocol.event_digest(rewritten)
    assert station_a.results([rewritten])[0]["status"] == "duplicate"  # a resend is now the same event


def test_merging_keeps_the_county_values_and_adds_the_station_only_ones(hub_app, station_a, make_event, approver):
    first, _rewritten, _later, _results = _conflicted(station_a, make_event)
    _resolve(approver, "merge", "合并表单")
    with hub_app.app_context():
        case = HubCase.get(HubCase.case_id == first["case_id"])
        assert case.case_no == first["payload"]["case_no"]  # the county's value stands
        assert case.snapshot["pickup_method"] == "邮寄"  # only the station's copy had it
        assert Conflict.get().resolution == "merge"


def test_resolution_needs_a_choice_and_a_note(hub_app, station_a, make_event, approver):
    _conflicted(station_a, make_event)
    assert "请选择处理方式" in _resolve(approver, "").get_data(as_text=True)
    assert "请填写处理说明" in _resolve(approver, "keep_county", note=" ").get_data(as_text=True)
    with hub_app.app_context():
        assert Conflict.get().resolved_at is None
    assert _feed(station_a) == []


RESIDENT_PHONE, CONTACT_PHONE = "13700002222", "13911113333"


def _visit_body(**over):
    """A ``visit.recorded`` body as the station writes it: the resident in full."""
    return {"visited_on": "2026-11-20", "started_at": "09:30", "staff": "王代办", "purpose": "代办养老保险参保登记",
            "outcome": "done", "resident": {"name": "孙福贵", "phone": RESIDENT_PHONE,
                                            "address": "示范县东关镇东关村五组3号"}, **over}


def _assert_visit_masked(html: str) -> None:
    assert "09:45" in html and "由其子代为联系" in html  # the station's copy is on the page, readable
    assert "137****2222" in html and "139****3333" in html and "孙*贵" in html
    for plain in (RESIDENT_PHONE, CONTACT_PHONE, "孙福贵", "五组3号"):
        assert plain not in html


def test_a_clashing_home_visit_shows_the_residents_numbers_masked(hub_app, station_a, make_event, approver):
    visit = make_event(kind=events.VISIT_RECORDED, payload=_visit_body())
    assert station_a.results([visit])[0]["status"] == "accepted"
    clash = {**visit, "payload": _visit_body(started_at="09:45", outcome_note=f"由其子代为联系，电话{CONTACT_PHONE}")}
    assert station_a.results([clash])[0]["status"] == "conflict"
    _assert_visit_masked(approver.get("/conflicts").get_data(as_text=True))
    resolved = _resolve(approver, "keep_county", note=f"已电话核实 {RESIDENT_PHONE}").get_data(as_text=True)
    assert "已处理：保留县级记录" in resolved and "已电话核实 137****2222" in resolved
    _assert_visit_masked(resolved)


def test_a_clashing_case_shows_every_number_it_carries_masked(hub_app, station_a, make_event, approver):
    """Numbers beyond the applicant's and the proxy's: a form's contact, a relative's ID, an e-licence."""
    first = make_event()
    station_a.results([first])
    licence = {"kind": "残疾人证", "number": "11010519900101003342", "issuer": "示范县残联"}
    materials = [{**first["payload"]["materials"][0], "licence": licence}]
    clash = {**first, "payload": case_snapshot(form_values={"contact_phone": "13655556666",
                                                            "spouse_id": "110105199001010033"},
                                               materials=materials)}
    assert station_a.results([clash])[0]["status"] == "conflict"
    html = approver.get("/conflicts").get_data(as_text=True)
    assert "136****6666" in html and "110105********0033" in html and "110105**********3342" in html
    for plain in ("13655556666", "110105199001010033", "11010519900101003342"):
        assert plain not in html


VISITS_PAGE = "/numbers/visits?period=day&day=2026-11-20"


def _visit_row(approver) -> str:
    """The visit's row on the county's visits page (the page a clerk and the statistics read)."""
    page = approver.get(VISITS_PAGE).get_data(as_text=True)
    return page.split('id="visit-list"', 1)[1].split("</table>", 1)[0]


def _clashing_visit(station, make_event, **station_values):
    """A visit the county holds, and the station's clashing copy of it (same event, other values)."""
    visit = make_event(kind=events.VISIT_RECORDED, payload=_visit_body())
    assert station.results([visit])[0]["status"] == "accepted"
    clash = {**visit, "payload": _visit_body(**station_values)}
    assert station.results([clash])[0]["status"] == "conflict"
    return visit, clash


def test_taking_the_station_copy_of_a_visit_files_it_on_the_visits_page(hub_app, station_a, make_event, approver):
    _visit, clash = _clashing_visit(station_a, make_event, started_at="09:45", purpose="代办医保参保登记",
                                    outcome="partly")
    assert "09:30" in _visit_row(approver)
    assert "已处理：采用站点记录" in _resolve(approver, "take_station").get_data(as_text=True)
    row = _visit_row(approver)
    assert "09:45" in row and "代办医保参保登记" in row and "部分办理，还需再跑" in row
    assert "09:30" not in row and "代办养老保险参保登记" not in row
    assert station_a.results([clash])[0]["status"] == "duplicate"  # the county now holds the station's copy


def test_merging_a_visit_keeps_the_county_values_and_adds_the_station_only_ones(hub_app, station_a, make_event,
                                                                               approver):
    _clashing_visit(station_a, make_event, started_at="09:45", ended_at="10:40", outcome_note="已代为提交材料")
    _resolve(approver, "merge", "合并两份")
    row = _visit_row(approver)
    assert "09:30–10:40" in row  # the county's start stands, the end only the station's copy had is added
    with hub_app.app_context():
        assert home_visits.opened(HubHomeVisit.get().outcome_note) == "已代为提交材料"  # sealed at rest (0032)


def test_keeping_the_county_copy_of_a_visit_leaves_the_visit_as_it_was(hub_app, station_a, make_event, approver):
    _clashing_visit(station_a, make_event, started_at="09:45", purpose="代办医保参保登记")
    _resolve(approver, "keep_county")
    row = _visit_row(approver)
    assert "09:30" in row and "代办养老保险参保登记" in row and "09:45" not in row


def test_taking_the_station_copy_of_a_case_taken_during_a_visit_changes_its_case_number(hub_app, station_a,
                                                                                         make_event, approver):
    visit = make_event(kind=events.VISIT_RECORDED, payload=_visit_body())
    taken = make_event(case_id=visit["case_id"], seq=2, kind=events.VISIT_CASE_TAKEN,
                       payload={"case_id": "C1", "case_no": "ST-A-2026-0001"})
    assert [r["status"] for r in station_a.results([visit, taken])] == ["accepted", "accepted"]
    clash = {**taken, "payload": {"case_id": "C1", "case_no": "ST-A-2026-0007"}}
    assert station_a.results([clash])[0]["status"] == "conflict"
    _resolve(approver, "take_station")
    row = _visit_row(approver)
    assert "ST-A-2026-0007" in row and "ST-A-2026-0001" not in row
    per_station = approver.get(VISITS_PAGE).get_data(as_text=True).split('id="visits-per-station"', 1)[1]
    assert "<td>1</td><td>1</td>" in per_station.split("</table>", 1)[0].replace(" ", "")  # still one case


def test_a_station_copy_the_county_would_not_have_accepted_is_refused_and_changes_nothing(hub_app, station_a,
                                                                                          make_event, approver):
    _clashing_visit(station_a, make_event, started_at="09:45", outcome="lost")  # not a known outcome
    page = _resolve(approver, "take_station").get_data(as_text=True)
    assert "不能这样处理" in page and "不是已知的上门结果" in page
    assert "09:30" in _visit_row(approver) and "09:45" not in _visit_row(approver)
    with hub_app.app_context():
        assert Conflict.get().resolved_at is None
    assert _feed(station_a) == []


def test_a_station_copy_naming_another_case_is_refused_and_changes_neither(hub_app, station_a, make_event,
                                                                           approver):
    """The copy clashed on its event id but names another of the station's cases: taking it would
    have rewritten that other case."""
    first, other = make_event(), make_event()
    station_a.results([first, other])
    elsewhere = {**first, "case_id": other["case_id"], "payload": case_snapshot(case_no="HIJACKED")}
    assert station_a.results([elsewhere])[0]["status"] == "conflict"
    page = _resolve(approver, "take_station").get_data(as_text=True)
    assert "不能这样处理" in page and "不属于同一办件的同一条事件" in page
    with hub_app.app_context():
        assert HubCase.get(HubCase.case_id == first["case_id"]).case_no == first["payload"]["case_no"]
        assert HubCase.get(HubCase.case_id == other["case_id"]).case_no == other["payload"]["case_no"]
        assert Event.get(Event.event_id == first["event_id"]).digest == protocol.event_digest(first)
        assert Conflict.get().resolved_at is None
    assert _feed(station_a) == []


def test_a_malformed_station_copy_of_a_case_event_is_refused(hub_app, station_a, make_event, approver):
    first = make_event()
    station_a.results([first])
    broken = {**first, "payload": {"case_no": 5}}
    assert station_a.results([broken])[0]["status"] == "conflict"  # the clash is found before the body is read
    page = _resolve(approver, "take_station").get_data(as_text=True)
    assert "不能这样处理" in page
    with hub_app.app_context():
        assert HubCase.get(HubCase.case_id == first["case_id"]).case_no == first["payload"]["case_no"]
        assert Conflict.get().resolved_at is None


def test_taking_the_station_copy_of_an_earlier_event_keeps_what_later_events_brought(hub_app, station_a, make_event,
                                                                                    approver):
    """The copy taken in the first event's place was applied on top of the later ones: the case went back to
    its first view — the 容缺 material brought since read as still owed in the county's statistics, the later
    materials list and the result's handover record gone from the case."""
    import datetime as dt

    from rules.periods import Period
    from sync.hub.services import personal, statistics

    def photo(status: str, **more: str) -> list[dict]:
        return [{"key": "photo", "name": "一寸照片", "status": status, "due_date": "2026-11-24", "e_license_no": None,
                 **more}]

    first = make_event(payload=case_snapshot(decision="deferred", materials=photo("deferred")))
    brought = make_event(case_id=first["case_id"], seq=2, kind=events.MATERIALS_UPDATED,
                         payload={"materials": photo("provided", received_at="2026-11-23T10:00:00+08:00")})
    handed = make_event(case_id=first["case_id"], seq=3, kind=events.DELIVERED,
                        payload={"method": "pickup", "delivered_on": "2026-11-30"})
    assert [r["status"] for r in station_a.results([first, brought, handed])] == ["accepted"] * 3
    rewritten = {**first, "payload": case_snapshot(decision="deferred", materials=photo("deferred"),
                                                   pickup_method="post")}
    assert station_a.results([rewritten])[0]["status"] == "conflict"
    _resolve(approver, "take_station")

    with hub_app.app_context():
        snapshot = personal.open_snapshot(HubCase.get(HubCase.case_id == first["case_id"]).snapshot)
        deferred = statistics._compute(Period("month", dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
                                       dt.date(2026, 11, 30), None).deferred
    assert snapshot["pickup_method"] == "post"  # the station's copy taken
    assert snapshot["materials"] == brought["payload"]["materials"]  # as the latest list stands
    assert personal.open_part(snapshot["delivery"]) == handed["payload"]
    assert (deferred.total, deferred.on_time, deferred.late, deferred.outstanding) == (1, 1, 0, 0)  # brought 23rd, due 24th
