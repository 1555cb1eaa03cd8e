"""Migration 0034 on a county that holds cases waiting for their 补正 materials (DOMAIN.md A.7).

Before 0034 the roll-up counted such a case open on every line, so the 总览 and the statistics
counted it overdue while the resident held it up. The hub is built as the release before 0034 left it
(the schema is the same; the roll-up kept by the old rule, part folded, part still appended), the
migration runs, and afterwards every figure is what the code now counts case by case
(``tally.figures``) and every page's overdue count is the one the code computes over the cases.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections import Counter

from peewee import fn

from rules.periods import Period
from sync.hub.database import runner
from sync.hub.extensions import db
from sync.hub.models import CaseTallyDelta, HubCase, Station, TallyView
from sync.hub.services import dashboard, decisions, statistics, tally, warnings
from tests.fixtures.hub import case_snapshot, hukou_supplied

backfill_sql = importlib.import_module("sync.hub.migrations.0017_case_tally")
MIGRATION = "0034_supplement_pauses_lines"
RECEIVED = "2026-11-20T09:30:00+08:00"  # a Friday
ASKED = dt.datetime(2026, 11, 23, 2, 0)  # 补正 decided Monday 23 November, 10:00 China time
ANSWERED = "2026-11-26T10:00:00+08:00"  # brought on Thursday: 3 working days waited
TODAY = dt.date(2026, 12, 10)  # the committed line (27 November) is long past; the statutory (18 Dec) not yet


def _cases(app, make_station, make_event) -> None:
    """WAIT owes its 补正 materials; BACK brought them (dates moved by 3 working days, still late on
    the committed line); LATE is plainly late; DONE was decided. All through the real services."""
    station = make_station(app, "ST-M", "东关村便民服务站")
    made = {}
    for no in ("WAIT", "BACK", "LATE", "DONE"):
        made[no] = make_event(payload=case_snapshot(case_no=no, query_code=f"{no}01", received_at=RECEIVED,
                                                    statutory_due="2026-12-18", committed_due="2026-11-27"))
    assert {r["status"] for r in station.results(list(made.values()))} == {"accepted"}
    with app.app_context(), db.connection_context():
        for no in ("WAIT", "BACK"):
            decisions.decide(made[no]["case_id"], decisions.DecisionInput(kind="supplement", reason="补户口簿"),
                             clerk="clerk", at=ASKED)
        decisions.decide(made["DONE"]["case_id"], decisions.DecisionInput(kind="accepted"), clerk="clerk", at=ASKED)
        decisions.decide(made["DONE"]["case_id"], decisions.DecisionInput(kind="completed", result="approved"),
                         clerk="clerk", at=ASKED + dt.timedelta(days=1))
    answer = make_event(case_id=made["BACK"]["case_id"], seq=2, kind="case.supplemented", payload=hukou_supplied(ANSWERED))
    assert station.results([answer])[0]["status"] == "accepted"


def _as_before_0034() -> None:
    """The roll-up as the release before 0034 kept it: a case waiting for its 补正 open on its lines,
    and one such figure still among the appended changes (not folded yet), as any hour of the day."""
    old_rule = backfill_sql.BACKFILL_STATIONS.replace(backfill_sql.NOT_PAUSED, "")
    assert old_rule != backfill_sql.BACKFILL_STATIONS
    with db.atomic():
        db.execute_sql('DELETE FROM "hub_case_tally_delta"')
        db.execute_sql('DELETE FROM "hub_case_tally"')
        db.execute_sql(old_rule)
        db.execute_sql(backfill_sql.BACKFILL_COUNTY)
        wait = HubCase.get(HubCase.case_no == "WAIT")
        key = ("2026-11-20", "open:committed", "2026-11-27")
        for station_id in (wait.station_id, tally.COUNTY):  # moved from the folded rows to an appended change
            db.execute_sql(f'UPDATE "hub_case_tally" SET n = n - 1 WHERE station_id = {db.param} AND day = {db.param} '
                           f'AND figure = {db.param} AND label = {db.param}', (station_id, *key))
        CaseTallyDelta.create(station_id=wait.station_id, day=key[0], figure=key[1], label=key[2], n=1)
        db.execute_sql(f'DELETE FROM "hub_schema_migration" WHERE name = {db.param}', (MIGRATION,))


def _roll_up() -> Counter:
    """The roll-up as every page reads it (folded rows plus appended changes), zero sums left out."""
    rows = (TallyView.select(TallyView.station_id, TallyView.day, TallyView.figure, TallyView.label, fn.SUM(TallyView.n))
            .group_by(TallyView.station_id, TallyView.day, TallyView.figure, TallyView.label).tuples())
    return Counter({(s, str(d)[:10], f, label): int(n) for s, d, f, label, n in rows if int(n)})


def _counted_by_the_code() -> Counter:
    """Every figure as the code now counts it, case by case (tally.figures), with the county's sums."""
    found: Counter = Counter()
    for case in HubCase.select():
        tally.add(case.station_id, tally.figures(case), found)
        tally.add(tally.COUNTY, tally.figures(case), found)
    return Counter({key: n for key, n in found.items() if n})


def _committed_overdue() -> tuple[int, int]:
    """(总览, 统计) committed-line overdue cases on TODAY, over the whole county."""
    dashboard._kept.forget()
    statistics._kept.forget()
    board = dashboard.overdue_by_station(TODAY, dashboard._unreceived(TODAY))
    stats = statistics._compute(Period("range", dt.date(2026, 11, 1), TODAY), TODAY, None)
    return (sum(counts["committed"] for counts in board.values()),
            next(f.open_overdue for f in stats.on_time if f.line == "committed"))


def test_migration_0034_recounts_a_county_holding_cases_waiting_for_their_supplement(
        any_hub_app, make_station, make_event) -> None:
    _cases(any_hub_app, make_station, make_event)
    with any_hub_app.app_context(), db.connection_context():
        _as_before_0034()
        assert _committed_overdue() == (3, 3)  # the old roll-up: WAIT counted overdue
        assert _roll_up() != _counted_by_the_code()

        assert runner(db.obj).up() == [MIGRATION]

        assert _roll_up() == _counted_by_the_code()
        assert CaseTallyDelta.select().count() == 0
        # the overdue cases every page counts are the ones the code finds over the cases: BACK and LATE
        by_the_code = sorted(c.case_no for c in HubCase.select().join(Station)
                             .where(statistics.overdue_condition("committed", TODAY)))
        assert by_the_code == ["BACK", "LATE"]
        assert _committed_overdue() == (2, 2)
        states = {w.case.case_no: w.lines.state["committed"] for w in warnings.find(TODAY, 0)}
        assert states == {"WAIT": "paused", "BACK": "overdue", "LATE": "overdue"}
        back = HubCase.get(HubCase.case_no == "BACK")
        assert (back.committed_due, back.statutory_due) == (dt.date(2026, 12, 2), dt.date(2026, 12, 23))
        # what the hub keeps from here on adds to the recount: BACK decided, the roll-up still the code's count
        decisions.decide(back.case_id, decisions.DecisionInput(kind="accepted"), clerk="clerk")
        assert _roll_up() == _counted_by_the_code()
        assert _committed_overdue() == (2, 2)
