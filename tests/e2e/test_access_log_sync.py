"""The station's access log reaches the county exactly once through real sync rounds, on SQLite
and PostgreSQL, and the county can walk the station's chain."""

from __future__ import annotations

from station.extensions import db
from station.models import AccessLog
from sync import access_log_push, state
from sync.hub.extensions import db as hub_db
from sync.hub.models import Station, StationAccessLog
from sync.hub.services import access_log as hub_access_log
from tests.fixtures.e2e import STATION_CODE, queue_cases, sync


def _at_hub(hub) -> list[tuple[int, str, str]]:  # noqa: ANN001
    with hub.app.app_context(), hub_db.connection_context():
        return [(e.seq, e.action, e.hash) for e in StationAccessLog.select().order_by(StationAccessLog.seq)]


def _at_station(app) -> list[tuple[int, str, str]]:  # noqa: ANN001
    with app.app_context(), db.connection_context():
        return [(e.seq, e.action, e.hash) for e in AccessLog.select().order_by(AccessLog.seq)]


def test_the_station_log_reaches_the_county_exactly_once(linked, hub, faults, agent, monkeypatch):
    monkeypatch.setattr(access_log_push, "PAGE_SIZE", 2)  # several requests per round
    [case_id] = queue_cases(linked, 1)
    agent.get(f"/cases/{case_id}")
    agent.post(f"/cases/{case_id}/reveal", {"reason": "verify_identity"})
    assert sync(linked).error == ""
    first = _at_hub(hub)
    assert first == _at_station(linked)
    assert {"login", "case_view", "reveal"} <= {action for _seq, action, _hash in first}

    agent.get("/cases/")
    faults.down = True  # a round that cannot reach the county sends nothing and moves no cursor
    sync(linked)
    faults.down = False
    with linked.app_context(), db.connection_context():
        assert int(state.get_value(state.ACCESS_LOG_CURSOR)) == first[-1][0]
    assert sync(linked).error == ""
    assert sync(linked).error == ""  # nothing new: nothing sent twice
    at_hub = _at_hub(hub)
    assert at_hub == _at_station(linked)
    assert len({seq for seq, _a, _h in at_hub}) == len(at_hub)
    with hub.app.app_context(), hub_db.connection_context():
        assert hub_access_log.verify_station(Station.by_code(STATION_CODE)).ok


def test_entries_sent_again_after_a_lost_answer_are_stored_once(linked, hub, agent):
    [case_id] = queue_cases(linked, 1)
    agent.get(f"/cases/{case_id}")
    assert sync(linked).error == ""
    with linked.app_context(), db.connection_context():
        state.set_value(state.ACCESS_LOG_CURSOR, "0")  # as if the hub's answer had been lost
    agent.get(f"/cases/{case_id}")
    assert sync(linked).error == ""
    assert _at_hub(hub) == _at_station(linked)
