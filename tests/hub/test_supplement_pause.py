"""补正 time is not counted in the time limits (DOMAIN.md A.7): at the county, a case waiting for the
resident's materials is listed 补正中（时限暂停）, is counted overdue nowhere, and when the materials
arrive its due dates move later by the working days it waited."""

from __future__ import annotations

import datetime as dt

from sync.hub.extensions import db
from sync.hub.models import HubCase
from sync.hub.services import dashboard, decisions, warnings
from tests.fixtures.hub import case_snapshot, hukou_supplied, logged_in

RECEIVED = "2026-11-20T09:30:00+08:00"  # a Friday
ASKED = dt.datetime(2026, 11, 23, 2, 0)  # 补正 decided Monday 23 November, 10:00 China time (UTC here)
ANSWERED = "2026-11-26T10:00:00+08:00"  # the resident brought them on Thursday: 3 working days waited
AFTER = dt.date(2026, 11, 30)  # the committed line (27 November) is past by then


def _waiting_case(hub_app, station_a, make_event) -> str:
    event = make_event(payload=case_snapshot(case_no="BZ-1", received_at=RECEIVED,
                                             statutory_due="2026-12-18", committed_due="2026-11-27"))
    assert station_a.results([event])[0]["status"] == "accepted"
    with hub_app.app_context(), db.connection_context():
        decisions.decide(event["case_id"], decisions.DecisionInput(kind="supplement", reason="补户口簿"),
                         clerk="clerk", at=ASKED)
    return event["case_id"]


def _committed_overdue(station_a_id: int, today: dt.date) -> int:
    return dashboard.overdue_by_station(today, []).get(station_a_id, {}).get("committed", 0)


def test_a_case_waiting_for_its_supplement_is_paused_not_overdue(hub_app, station_a, make_event) -> None:
    _waiting_case(hub_app, station_a, make_event)
    with hub_app.app_context(), db.connection_context():
        station_id = HubCase.get(HubCase.case_no == "BZ-1").station_id
        found = warnings.find(AFTER, 2)
        assert [w.case.case_no for w in found] == ["BZ-1"]
        assert found[0].lines.state["committed"] == "paused"
        assert _committed_overdue(station_id, AFTER) == 0
    page = logged_in(hub_app, "approver1", "approver", "县审批员").get("/numbers/warnings?days=0").get_data(as_text=True)
    listed = page.split('id="warning-list"', 1)[1]
    assert "BZ-1" in listed and "补正中（时限暂停）" in listed and "已超期" not in listed


def test_the_due_dates_move_on_by_the_working_days_waited_when_the_materials_arrive(hub_app, station_a,
                                                                                   make_event) -> None:
    case_id = _waiting_case(hub_app, station_a, make_event)
    answer = make_event(case_id=case_id, seq=2, kind="case.supplemented", payload=hukou_supplied(ANSWERED))
    assert station_a.results([answer])[0]["status"] == "accepted"
    with hub_app.app_context(), db.connection_context():
        case = HubCase.get(HubCase.case_id == case_id)
        # 27 Nov (Fri) + 3 working days = 2 Dec (Wed); 18 Dec (Fri) + 3 = 23 Dec (Wed)
        assert (case.committed_due, case.statutory_due) == (dt.date(2026, 12, 2), dt.date(2026, 12, 23))
        # the clocks run again: not overdue on 30 Nov, overdue once 2 December has passed
        assert warnings.lines_of(case, AFTER).state["committed"] == "soon"  # counting down again
        assert _committed_overdue(case.station_id, AFTER) == 0
        assert _committed_overdue(case.station_id, dt.date(2026, 12, 3)) == 1
        assert warnings.lines_of(case, dt.date(2026, 12, 3)).state["committed"] == "overdue"


def test_the_case_page_shows_the_due_dates_in_force_after_the_supplement(hub_app, station_a, make_event) -> None:
    case_id = _waiting_case(hub_app, station_a, make_event)
    answer = make_event(case_id=case_id, seq=2, kind="case.supplemented", payload=hukou_supplied(ANSWERED))
    assert station_a.results([answer])[0]["status"] == "accepted"
    page = logged_in(hub_app, "approver1", "approver", "县审批员").get(f"/cases/{case_id}").get_data(as_text=True)
    row = page.split('id="dues-in-force"', 1)[1].split("</dd>", 1)[0]
    # the dates every other page counts with (四条线 on the same page, warnings, search), the station's beside them
    assert row.index("2026-12-23") < row.index("原 2026-12-18") < row.index("2026-12-02") < row.index("原 2026-11-27")
    assert row.count("补正暂停 3 个工作日") == 2
    four_lines = page.split('id="four-lines"', 1)[1].split("</dd>", 1)[0]
    assert "2026-12-23" in four_lines and "2026-12-02" in four_lines


def test_the_case_page_shows_no_note_while_no_supplement_moved_the_dates(hub_app, station_a, make_event) -> None:
    case_id = _waiting_case(hub_app, station_a, make_event)
    page = logged_in(hub_app, "approver1", "approver", "县审批员").get(f"/cases/{case_id}").get_data(as_text=True)
    row = page.split('id="dues-in-force"', 1)[1].split("</dd>", 1)[0]
    assert "2026-12-18" in row and "2026-11-27" in row and "补正暂停" not in row


def test_the_case_list_says_the_committed_date_is_paused_while_the_supplement_is_owed(hub_app, station_a,
                                                                                     make_event) -> None:
    """As the 四条线 warnings and the station's own case list say it: the date stands still, not late."""
    _waiting_case(hub_app, station_a, make_event)
    page = logged_in(hub_app, "approver1", "approver", "县审批员").get("/cases").get_data(as_text=True)
    row = page.split("BZ-1", 1)[1].split("</tr>", 1)[0]
    assert "2026-11-27" in row and "补正中（时限暂停）" in row
