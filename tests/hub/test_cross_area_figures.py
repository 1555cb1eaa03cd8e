"""跨域办 in the receiving county's figures: a case handled by another county is closed here on the day
that county decided, whenever its decision is read — not on the day the link between the two came back."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

from rules.periods import Period
from sync.hub.china_time import CHINA_OFFSET, china_today
from sync.hub.extensions import db
from sync.hub.models import HubCase, Station
from sync.hub.services import decisions, peers, statistics
from tests.fixtures.hub import case_snapshot

OWN, HANDLING = "141081", "141082"


class PeerAnswering:
    """County B's changes feed as B answers this hub: its decisions, in the protocol's own payload."""

    def __init__(self, changes: list[dict]) -> None:
        self.changes = changes

    def call(self, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> tuple[int, dict]:
        assert method == "GET" and path.startswith("/api/v1/changes")
        return 200, {"changes": self.changes, "has_more": False}


def test_a_decision_read_late_from_the_handling_county_closes_the_case_on_the_day_it_was_made(
        any_hub_app, make_station, make_event) -> None:
    any_hub_app.config["AREA_CODE"] = OWN
    today = china_today()
    received, due = today - dt.timedelta(days=12), today - dt.timedelta(days=4)
    decided = dt.datetime.combine(today - dt.timedelta(days=6), dt.time(2, 30))  # UTC: 10:30 in China that day
    station = make_station(any_hub_app, "ST-X", "东关村便民服务站")
    event = make_event(payload=case_snapshot(
        case_no="X-1", query_code="XXXX01", handling_area=HANDLING, received_area="141081102201",
        received_at=f"{received.isoformat()}T09:30:00+08:00", committed_due=due.isoformat(),
        statutory_due=(today + dt.timedelta(days=20)).isoformat()))
    assert station.results([event])[0]["status"] == "accepted"
    with any_hub_app.app_context(), db.connection_context():
        peer = peers.add_peer(HANDLING, "邻县县级平台", "http://county-b.example", "HUB141081", "s" * 32)
        case = SimpleNamespace(case_no="X-1")
        feed = [{"change_id": n, "kind": "case.status", "case_id": event["case_id"],
                 "payload": decisions.status_payload(case, SimpleNamespace(
                     kind=kind, hub_case_no=f"XJ{HANDLING}0001", decided_at=decided - dt.timedelta(hours=2 - n),
                     clerk="b-clerk", reason=None, supplement_items=[], result=result, result_text=None,
                     certificate_no=None))}
                for n, (kind, result) in enumerate((("accepted", None), ("completed", "approved")), 1)]
        report = peers.pull_decisions(peer, client=PeerAnswering(feed))  # read today, six days after
        assert report.decisions_applied == 2
        closed_at = HubCase.get(HubCase.case_id == event["case_id"]).closed_at
        stats = statistics._compute(Period("range", received, today), today,
                                    Station.get(Station.code == "ST-X"))
    in_china = decided + CHINA_OFFSET
    assert closed_at == in_china
    committed = next(f for f in stats.on_time if f.line == "committed")
    assert (committed.on_time, committed.late) == ((1, 0) if in_china.date() <= due else (0, 1))
    assert {d: closed for d, _received, closed in stats.trend if closed} == {in_china.date(): 1}
    changes = [c for c in station.changes().json["changes"] if c["kind"] == "case.status"]
    assert changes[-1]["payload"]["decided_at"] == feed[-1]["payload"]["decided_at"]  # the station closes it then too


def test_the_warnings_list_the_cross_area_cases_late_at_the_handling_county_apart_from_this_countys(
        any_hub_app, make_station, make_event) -> None:
    """四条线预警: a case a station here took for county B stays open here until B decides. Counted among
    this county's own overdue cases, its clerks were asked for a decision they cannot take; left out,
    nobody here saw the village's resident waiting past her date at B. It is listed apart, 待办理地处理."""
    from sync.hub.services import warnings
    from tests.fixtures.hub import logged_in

    any_hub_app.config["AREA_CODE"] = OWN
    today = china_today()
    past = {"received_at": f"{(today - dt.timedelta(days=30)).isoformat()}T09:30:00+08:00",
            "committed_due": (today - dt.timedelta(days=3)).isoformat(),
            "statutory_due": (today - dt.timedelta(days=2)).isoformat()}
    _three_late_cases(any_hub_app, make_station, make_event, past)
    with any_hub_app.app_context(), db.connection_context():
        peers.add_peer(HANDLING, "邻县县级平台", "http://county-b.example", "HUB141081", "s" * 32)
        assert sorted(w.case.case_no for w in warnings.find(today, 0)) == ["HERE-LATE", "OWN-LATE"]
    clerk = logged_in(any_hub_app, "a-clerk", "approver", "示范县窗口")
    page = clerk.get("/numbers/warnings?days=0").get_data(as_text=True)
    ours = page[page.index('id="warning-list"'):page.index("</table>", page.index('id="warning-list"'))]
    assert "OWN-LATE" in ours and "HERE-LATE" in ours and "AT-B-LATE" not in ours
    assert "共 2 件在办件已超期" in page and "另有跨域办件 1 件由办理地处理" in page
    group = page[page.index('id="elsewhere"'):page.index("</section>", page.index('id="elsewhere"'))]
    assert "<h2>待办理地处理</h2>" in group and "不计入本县超期件" in group
    rows = re.findall(r"<tr>\s*<td><a href=.*?</tr>", group, re.S)
    assert len(rows) == 1 and "AT-B-LATE" in rows[0] and "<td>邻县民政局</td>" in rows[0] and "已超期" in rows[0]
    # the station filter narrows both groups: another station's page lists neither
    make_station(any_hub_app, "ST-Y", "西关村便民服务站")
    other = clerk.get("/numbers/warnings?days=0&station=ST-Y").get_data(as_text=True)
    assert 'id="elsewhere"' not in other and "AT-B-LATE" not in other


def _three_late_cases(app, make_station, make_event, past: dict) -> None:  # noqa: ANN001
    """At station ST-X, late by ``past``: its county's own case, one county B handles, one naming this county."""
    station = make_station(app, "ST-X", "东关村便民服务站")
    own = make_event(payload=case_snapshot(case_no="OWN-LATE", query_code="OWN001", **past))
    at_b = make_event(payload=case_snapshot(case_no="AT-B-LATE", query_code="ATB001", handling_area=HANDLING,
                                            handling_area_name="邻县民政局", received_area="141081102201", **past))
    here = make_event(payload=case_snapshot(case_no="HERE-LATE", query_code="HER001", handling_area=OWN,
                                            handling_area_name="示范县民政局", received_area="141081102201", **past))
    assert {r["status"] for r in station.results([own, at_b, here])} == {"accepted"}


def test_the_dashboard_statistics_and_case_list_count_cross_area_cases_apart_as_the_warnings_do(
        any_hub_app, make_station, make_event) -> None:
    """总览, 统计 and the case list's 超期 filter: a case a station here took for county B, late at B, is not
    one of this county's overdue cases (the 四条线 warnings list it apart). Counted as the station's own,
    the dashboard said 3 committed-line cases overdue and its link listed a case no clerk here can decide."""
    from sync.hub.services import dashboard
    from tests.fixtures.hub import logged_in

    any_hub_app.config["AREA_CODE"] = OWN
    today = china_today()
    received = today - dt.timedelta(days=30)
    past = {"received_at": f"{received.isoformat()}T09:30:00+08:00",
            "committed_due": (today - dt.timedelta(days=3)).isoformat(),
            "statutory_due": (today + dt.timedelta(days=30)).isoformat()}
    _three_late_cases(any_hub_app, make_station, make_event, past)
    with any_hub_app.app_context(), db.connection_context():
        peers.add_peer(HANDLING, "邻县县级平台", "http://county-b.example", "HUB141081", "s" * 32)
        dashboard._kept.forget()
        statistics._kept.forget()
        row = next(r for r in dashboard.rows(today, dark_hours=24, queue_age_warn_hours=24)
                   if r.health.station.code == "ST-X")
        assert (row.overdue["committed"], row.elsewhere["committed"]) == (2, 1)
        assert (row.overdue["statutory"], row.elsewhere["statutory"]) == (0, 0)
        stats = statistics._compute(Period("range", received, today), today, None)
        assert next(f for f in stats.on_time if f.line == "committed").open_overdue == 2
        assert [overdue for _name, _cases, overdue, _rate in stats.ranking] == [2]
        one = statistics._compute(Period("range", received, today), today, Station.get(Station.code == "ST-X"))
        assert next(f for f in one.on_time if f.line == "committed").open_overdue == 2
    clerk = logged_in(any_hub_app, "a-clerk", "approver", "示范县窗口")
    board = clerk.get("/numbers/").get_data(as_text=True)
    assert "待办理地处理 1" in board.split('id="station-dashboard"', 1)[1]
    listed = clerk.get("/cases?line=committed").get_data(as_text=True)
    assert "OWN-LATE" in listed and "HERE-LATE" in listed and "AT-B-LATE" not in listed
    assert "共 2 件" in listed and "另有跨域办件 1 件已承诺时限" in listed
    every = clerk.get("/cases").get_data(as_text=True)
    row_b = re.search(r"<tr>(?:(?!</tr>).)*AT-B-LATE.*?</tr>", every, re.S).group(0)
    row_own = re.search(r"<tr>(?:(?!</tr>).)*OWN-LATE.*?</tr>", every, re.S).group(0)
    assert "待办理地处理" in row_b and "待办理地处理" not in row_own
