"""好差评 on the county's statistics page: ratings given in the period (China days), the satisfaction
rate and the 差评 reasons, each against a count made here over the rating rows, on both backends."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from rules import events
from rules.periods import Period
from rules.statistics import percent
from sync import protocol
from sync.hub.extensions import db
from sync.hub.models import Station
from sync.hub.services import statistics
from tests.fixtures.hub import logged_in

START = dt.date(2026, 11, 1)
PERIOD = Period("range", START, dt.date(2026, 11, 30))
WORDS = {"very_satisfied": "非常满意", "satisfied": "满意", "basically_satisfied": "基本满意",
         "dissatisfied": "不满意", "very_dissatisfied": "非常不满意"}
BAD = {"dissatisfied", "very_dissatisfied"}
REASONS = {("dissatisfied", "slow"): "办理时间长", ("dissatisfied", "attitude"): "服务态度差",
           ("very_dissatisfied", "slow"): "超期未办结", ("very_dissatisfied", "fees"): "乱收费、索要好处"}
# (station, level, reason tag, rated at in China time): two just outside the period, one at its first minute
RATINGS = [
    ("ST-A", "very_satisfied", "", "2026-11-03T10:00:00+08:00"),
    ("ST-A", "satisfied", "kind", "2026-11-01T00:30:00+08:00"),  # 2026-10-31 in UTC: still November in China
    ("ST-A", "dissatisfied", "slow", "2026-11-12T16:00:00+08:00"),
    ("ST-A", "very_dissatisfied", "slow", "2026-11-20T09:00:00+08:00"),
    ("ST-A", "basically_satisfied", "", "2026-10-31T23:30:00+08:00"),  # October in China
    ("ST-B", "dissatisfied", "attitude", "2026-11-29T20:00:00+08:00"),
    ("ST-B", "very_dissatisfied", "fees", "2026-11-30T23:59:00+08:00"),
    ("ST-B", "satisfied", "", "2026-12-01T00:10:00+08:00"),  # December in China, still 11-30 in UTC
    ("ST-B", "very_satisfied", "", "2026-11-15T11:00:00+08:00"),
]


def _rate(station, make_event, level: str, tag: str, rated_at: str) -> None:
    case = make_event()
    body = {"evaluation_id": protocol.new_id(), "visit": "case", "kind": "first", "level": level,
            "reason_tag": tag, "reason_text": "等了很久，没人管" if level in BAD else "", "channel": "hall_tablet",
            "rated_at": rated_at, "agent": "agent1"}
    rating = make_event(case_id=case["case_id"], seq=2, kind=events.EVALUATED, payload=body)
    assert [r["status"] for r in station.results([case, rating])] == ["accepted", "accepted"]
    assert [r["status"] for r in station.results([rating])] == ["duplicate"]  # a replay counts once


def test_satisfaction_and_bad_reasons_match_the_ratings(any_hub_app, make_station, make_event) -> None:
    stations = {code: make_station(any_hub_app, code, f"{code}服务站") for code in ("ST-A", "ST-B")}
    for code, level, tag, rated_at in RATINGS:
        _rate(stations[code], make_event, level, tag, rated_at)
    with any_hub_app.app_context(), db.connection_context():
        rows = [(s, level, tag, created) for s, level, tag, created in db.execute_sql(
            "SELECT s.code, e.level, e.reason_tag, e.created_at FROM hub_evaluation e "
            "JOIN hub_station s ON s.id = e.station_id").fetchall()]
        county = statistics._compute(PERIOD, dt.date(2026, 12, 1), None).satisfaction
        one = statistics._compute(PERIOD, dt.date(2026, 12, 1), Station.get(Station.code == "ST-B")).satisfaction
    assert len(rows) == len(RATINGS)

    def china_day(value) -> str:  # noqa: ANN001 - a datetime or its text, UTC
        value = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
        return (value + dt.timedelta(hours=8)).date().isoformat()

    expected_rate = {}
    for sat, scope in ((county, {"ST-A", "ST-B"}), (one, {"ST-B"})):
        counted = [(level, tag) for s, level, tag, created in rows
                   if s in scope and START.isoformat() <= china_day(created) <= PERIOD.end.isoformat()]
        bad = [r for r in counted if r[0] in BAD]
        assert (sat.total, sat.good, sat.bad) == (len(counted), len(counted) - len(bad), len(bad))
        assert dict(sat.levels) == {w: sum(1 for level, _t in counted if level == k) for k, w in WORDS.items()}
        assert dict(sat.bad_reasons) == dict(Counter(REASONS[r] for r in bad))
        expected_rate[len(scope)] = (len(counted) - len(bad)) / len(counted)
    assert (county.total, one.total) == (7, 3)  # the two edges of the period, in China time, decided right

    clerk = logged_in(any_hub_app, "approver1", "approver", "县审批员")
    page = clerk.get("/numbers/statistics?period=range&start=2026-11-01&end=2026-11-30").get_data(as_text=True)
    for key in ("satisfaction", "bad_reasons"):
        box = page.split(f'id="chart-{key}"', 1)[1].split("</div>", 1)[0]
        assert "<svg" in box and f'id="table-{key}"' in box, key
    summary = page.split('id="table-satisfaction-summary"', 1)[1].split("</table>", 1)[0]
    assert f"<td>{county.total}</td>" in summary and f"<td>{percent(expected_rate[2])}</td>" in summary
    assert "<td>乱收费、索要好处</td><td>1</td>" in page
