"""The county dashboard read from the statistics roll-up, on SQLite and PostgreSQL: after the same
mix of cases as the statistics test (received today and earlier, open and overdue, closed on time
and late, 补正, delivered, replays), every station's overdue cases per line and cases per state equal
a plain count over the case rows — today and nine days on, and with a case held without a
received time (not in the roll-up)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from rules.time_lines import LINES
from sync.hub.extensions import db
from sync.hub.models import HubCase, Station
from sync.hub.services import dashboard, tally
from tests.hub.test_statistics_rollup import TODAY, _rows, played, running  # noqa: F401 - the fixture


def _expected(today: dt.date) -> dict[str, tuple[dict[str, int], dict[str, int]]]:
    """{station code: (overdue per line, cases per state)}, counted here over the case rows."""
    codes = {s.id: s.code for s in Station.select()}
    want: dict[str, tuple[dict[str, int], dict[str, int]]] = {}
    for station_id, code in codes.items():
        mine = [r for r in _rows() if r["station_id"] == station_id]
        overdue = {line: sum(1 for r in mine if running(r) and r[f"{line}_due"]
                             and r[f"{line}_due"] < today.isoformat()) for line in LINES}
        want[code] = (overdue, dict(Counter(r["status"] for r in mine)))
    return want


def _shown(today: dt.date) -> dict[str, tuple[dict[str, int], dict[str, int]]]:
    dashboard._kept.forget()
    return {r.health.station.code: (dict(r.overdue), {k: n for k, n in r.by_status.items() if n})
            for r in dashboard.rows(today, dark_hours=24, queue_age_warn_hours=24)}


def test_every_dashboard_figure_equals_a_count_over_the_cases(played) -> None:  # noqa: F811
    later = TODAY + dt.timedelta(days=9)
    with played.app_context(), db.connection_context():
        want = _expected(TODAY)
        assert set(want) == {"ST-A", "ST-B"}
        assert all(want["ST-A"][0].values()) and {"supplement", "rejected", "delivered"} <= set(want["ST-A"][1])
        assert _shown(TODAY) == want
        assert _shown(later) == _expected(later) != want  # overdue decided on the day the page is read


def test_a_case_held_without_a_received_time_is_still_counted(played) -> None:  # noqa: F811
    with played.app_context(), db.connection_context():
        with db.atomic():  # as a case from before received times were kept: not in the roll-up
            case = tally.current([HubCase.select(HubCase.id).where(HubCase.status == "submitted").first().id])
            held = next(iter(case.values()))
            tally.record(held, received_time=None)
            HubCase.update(received_time=None).where(HubCase.id == held.id).execute()
        want = _expected(TODAY)
        assert sum(want["ST-A"][1].values()) + sum(want["ST-B"][1].values()) == HubCase.select().count()
        assert _shown(TODAY) == want
