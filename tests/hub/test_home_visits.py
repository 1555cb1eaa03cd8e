"""Home visits reach the county: a visit recorded at the station (and a case taken during it) goes up
as its own event stream, exactly once, is filed sealed, shown per station on a county page and counted
in the county's ledger — never as a case."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl

from station.extensions import db as station_db
from station.models import Case
from sync.hub.extensions import db
from sync.hub.models import Event, HubCase, HubHomeVisit
from sync.outbox import OutboxEvent
from tests.fixtures.intake import form_for, item_named

ITEM = "城乡居民基本养老保险参保登记"
TODAY = dt.date.today().isoformat()
VISIT = {"visited_on": TODAY, "started_at": "09:30", "ended_at": "10:40", "staff": "王代办",
         "resident_name": "孙福贵", "resident_phone": "13700002222", "address": "示范县东关镇东关村五组3号",
         "purpose": "代办养老保险参保登记", "outcome": "done", "village_code": "141081102201"}


def _visit_with_a_case(app, agent) -> tuple[str, str, list[dict]]:  # noqa: ANN001
    """Record a visit and take a case during it at the station; return the visit, the case number and
    the visit's queued events as the station would send them."""
    visit_id = agent.post("/visits/new", VISIT).headers["Location"].rsplit("/", 1)[-1]
    with app.app_context(), station_db.connection_context():
        item = item_named(ITEM)
        data = form_for([item], applicant_name="孙福贵", applicant_phone="13700002222",
                        applicant_address="示范县东关镇东关村五组3号", home_visit=visit_id)
    assert agent.post(f"/intake/item/{item.id}", data).status_code == 302
    with app.app_context(), station_db.connection_context():
        case_no = Case.select().get().case_no
        queued = [e.envelope() for e in OutboxEvent.select().where(OutboxEvent.case_id == visit_id)
                  .order_by(OutboxEvent.seq)]
    return visit_id, case_no, queued


def test_a_visit_reaches_the_county_once_sealed_and_is_shown_and_counted(app, agent, hub_app, station_a,
                                                                         approver):
    visit_id, case_no, queued = _visit_with_a_case(app, agent)
    assert [e["kind"] for e in queued] == ["visit.recorded", "visit.case_taken"]
    assert [r["status"] for r in station_a.results(queued)] == ["accepted", "accepted"]
    assert [r["status"] for r in station_a.results(queued)] == ["duplicate", "duplicate"]
    with hub_app.app_context(), db.connection_context():
        visit = HubHomeVisit.get(HubHomeVisit.visit_id == visit_id)
        assert visit.cases_taken == 1 and visit.case_numbers == case_no and visit.village_code == "141081102201"
        stored = visit.resident_name_stored + visit.resident_phone_stored + visit.address_stored
        stored += "".join(str(e.body) for e in Event.select().where(Event.case_id == visit_id))
        assert not any(s in stored for s in ("孙福贵", "13700002222", "五组3号"))
        assert Event.select().where(Event.case_id == visit_id).count() == 2
        assert not HubCase.select().where(HubCase.case_id == visit_id).exists()  # a visit is not a case

    page = approver.get(f"/numbers/visits?period=day&day={TODAY}").get_data(as_text=True)
    per_station = page.split('id="visits-per-station"', 1)[1].split("</table>", 1)[0]
    assert "甲村便民服务站" in per_station and "<td>1</td><td>1</td>" in per_station.replace(" ", "")
    assert "孙*贵" in page and case_no in page and "孙福贵" not in page and "五组3号" not in page

    response = approver.get(f"/numbers/ledger.xlsx?period=day&day={TODAY}")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data))["上门服务"]
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    [row] = [dict(zip(header, r, strict=True)) for r in rows]
    assert row["服务对象"] == "孙*贵" and row["所收办件"] == case_no and "甲村便民服务站" in row["上门人员"]


def test_a_case_taken_before_its_visit_waits_and_is_then_taken_in_order(app, agent, hub_app, station_a):
    _visit_id, _case_no, queued = _visit_with_a_case(app, agent)
    first = station_a.results([queued[1]])[0]
    assert first["status"] == "rejected" and first["code"] == "out_of_order" and first["retryable"] is True
    assert [r["status"] for r in station_a.results(queued)] == ["accepted", "accepted"]


def test_a_batch_mixing_cases_and_a_visit_answers_each_event_in_its_place(app, agent, hub_app, station_a, make_event):
    _visit_id, _case_no, queued = _visit_with_a_case(app, agent)
    last, bad, first = make_event(), make_event(deadline="2026-02-30"), make_event()  # case ids not in batch order
    batch = [first, queued[0], bad, queued[1], last]
    results = station_a.results(batch)
    assert [r["event_id"] for r in results] == [e["event_id"] for e in batch]
    assert [r["status"] for r in results] == ["accepted", "accepted", "rejected", "accepted", "accepted"]
    with hub_app.app_context(), db.connection_context():
        assert HubCase.select().where(HubCase.case_id.in_([first["case_id"], last["case_id"]])).count() == 2


def test_a_number_typed_into_what_was_done_is_masked_on_the_countys_page_and_ledger(app, agent, station_a, approver):
    response = agent.post("/visits/new", {**VISIT, "purpose": "代办养老保险，其子电话13887654321"})
    visit_id = response.headers["Location"].rsplit("/", 1)[-1]
    with app.app_context(), station_db.connection_context():
        queued = [e.envelope() for e in OutboxEvent.select().where(OutboxEvent.case_id == visit_id)]
    assert [r["status"] for r in station_a.results(queued)] == ["accepted"]
    with approver.client.application.app_context(), db.connection_context():  # sealed at rest, as at the station
        [(stored,)] = db.execute_sql("SELECT purpose FROM hub_home_visit").fetchall()
    assert stored.startswith("enc1:") and "13887654321" not in stored
    page = approver.get(f"/numbers/visits?period=day&day={TODAY}").get_data(as_text=True)
    assert "其子电话138****4321" in page and "13887654321" not in page
    sheet = approver.get(f"/numbers/ledger.csv?period=day&day={TODAY}").get_data(as_text=True)
    assert "138****4321" in sheet and "13887654321" not in sheet
