"""Statistics for a period at the county, over every station (or one): GROUP BY queries only.

A county holds hundreds of thousands of cases a month; every figure here is one aggregate query
on the columns copied out of the snapshot at ingest (migration 0012), never a loop over cases.
The four lines compare the county's closing date (办结 or 不予受理, China time) with each due
date; the assessed due date was fixed at ingest from the county's setting then in force.
"""

from __future__ import annotations

import datetime as dt

from peewee import SQL, fn
from peewee import Case as SqlCase

from rules.labels import HUB_CASE_STATUSES, MODES
from rules.periods import Period
from rules.statistics import DECISION_CLASSES, Counted, OnTime, Statistics, trend_days
from rules.time_lines import LINES
from sync.hub.models import HubCase, Station
from sync.hub.services import county_settings

OPEN = ("submitted", "accepted", "supplement")
CLOSED = ("completed", "rejected", "delivered")
DUE_COLUMNS = {"statutory": HubCase.statutory_due, "committed": HubCase.committed_due,
               "assessed": HubCase.assessed_due}


def _where(period: Period, station: Station | None):  # noqa: ANN202 - a peewee expression
    start, stop = period.bounds()
    where = (HubCase.received_time >= start) & (HubCase.received_time < stop)
    return where & (HubCase.station == station.id) if station is not None else where


def _counted(key: str, title: str, pairs) -> Counted:  # noqa: ANN001
    merged: dict[str, int] = {}
    for label, n in pairs:
        merged[label] = merged.get(label, 0) + n
    return Counted(key, title, sorted(merged.items(), key=lambda p: (-p[1], p[0])))


def _sum(condition) -> fn:  # noqa: ANN001
    return fn.COALESCE(fn.SUM(SqlCase(None, [(condition, 1)], 0)), 0)


def decision_class(station_decision: str | None, commitment: bool) -> str:
    """一次性告知 / 容缺 / 承诺 / 收件, as the station counts it (rules.statistics.DECISION_CLASSES)."""
    if station_decision == "not_collected":
        return "not_collected"
    if station_decision == "deferred":
        return "deferred"
    return "commitment" if commitment else "collected"


def compute(period: Period, today: dt.date, station: Station | None = None) -> Statistics:
    """Every figure of the county's statistics page for cases received in `period`."""
    where = _where(period, station)
    base = HubCase.select().where(where)
    total = base.count()
    group = lambda column: (HubCase.select(column, fn.COUNT(HubCase.id)).where(where)  # noqa: E731
                            .group_by(column).tuples())
    names = county_settings.area_names()
    stations = {s.id: s.name for s in Station.select(Station.id, Station.name)}
    by_agent = (HubCase.select(HubCase.station, HubCase.agent_name, fn.COUNT(HubCase.id)).where(where)
                .group_by(HubCase.station, HubCase.agent_name).tuples())
    decisions = (HubCase.select(HubCase.station_decision, HubCase.commitment, fn.COUNT(HubCase.id)).where(where)
                 .group_by(HubCase.station_decision, HubCase.commitment).tuples())
    stats = Statistics(period, total, [
        _counted("item", "按事项", [(n or "—", c) for n, c in group(HubCase.item_name)]),
        _counted("village", "按村（社区）", [(names.get(a, a) or "—", c) for a, c in group(HubCase.area_code)]),
        _counted("agent", "按代办员", [(f"{a or '—'}（{stations.get(s, s)}）" if station is None else a or "—", c)
                                      for s, a, c in by_agent]),
        _counted("status", "按状态", [(HUB_CASE_STATUSES.get(s, s), c) for s, c in group(HubCase.status)]),
        _counted("mode", "按办理方式", [(MODES.get(m, m or "—"), c) for m, c in group(HubCase.mode)]),
        _counted("decision", "按收件结果", [(DECISION_CLASSES[decision_class(d, bool(p))], c)
                                          for d, p, c in decisions]),
    ])
    if station is None:
        stats.tables.insert(0, _counted("station", "按服务站", [(stations.get(s, s), c)
                                                              for s, c in group(HubCase.station)]))
    stats.on_time = on_time(where, today)
    stats.trend = trend(min(period.end, today), station)
    if station is None:
        stats.ranking = ranking(where, today, stations)
    return stats


def _line_sums(line: str, today: dt.date) -> list:
    due = DUE_COLUMNS[line]
    closed_day = fn.DATE(HubCase.closed_at)
    is_closed = HubCase.closed_at.is_null(False) & HubCase.status.in_(CLOSED) & due.is_null(False)
    return [_sum(is_closed & (closed_day <= due)).alias(f"{line}_on_time"),
            _sum(is_closed & (closed_day > due)).alias(f"{line}_late"),
            _sum(HubCase.status.in_(OPEN) & due.is_null(False) & (due < today)).alias(f"{line}_overdue")]


def on_time(where, today: dt.date) -> list[OnTime]:  # noqa: ANN001
    """Closed on time, closed late and open past the line, for each line, in one query."""
    columns = [c for line in LINES for c in _line_sums(line, today)]
    row = HubCase.select(*columns).where(where).tuples().get()
    figures = []
    for i, (line, title) in enumerate(LINES.items()):
        on, late, overdue = (int(v or 0) for v in row[3 * i: 3 * i + 3])
        figures.append(OnTime(line, title, on, late, overdue))
    return figures


def trend(end: dt.date, station: Station | None = None) -> list[tuple[dt.date, int, int]]:
    """Received and closed per day over the 30 days ending on `end`."""
    days = trend_days(end)
    start, stop = dt.datetime.combine(days[0], dt.time()), dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
    scope = (HubCase.station == station.id) if station is not None else SQL("1 = 1")
    received_day, closed_day = fn.DATE(HubCase.received_time), fn.DATE(HubCase.closed_at)
    received = {str(d)[:10]: n for d, n in HubCase.select(received_day, fn.COUNT(HubCase.id))
                .where(scope & (HubCase.received_time >= start) & (HubCase.received_time < stop))
                .group_by(received_day).tuples()}
    closed = {str(d)[:10]: n for d, n in HubCase.select(closed_day, fn.COUNT(HubCase.id))
              .where(scope & (HubCase.closed_at >= start) & (HubCase.closed_at < stop) & HubCase.status.in_(CLOSED))
              .group_by(closed_day).tuples()}
    return [(d, received.get(d.isoformat(), 0), closed.get(d.isoformat(), 0)) for d in days]


def ranking(where, today: dt.date, stations: dict[int, str]) -> list[tuple[str, int, int, float | None]]:  # noqa: ANN001
    """Stations by on-time rate on the committed line (best first), then by fewer open overdue cases."""
    on, late, overdue = _line_sums("committed", today)
    rows = (HubCase.select(HubCase.station, fn.COUNT(HubCase.id), on, late, overdue).where(where)
            .group_by(HubCase.station).tuples())
    ranked = []
    for station_id, n, on_n, late_n, overdue_n in rows:
        closed = int(on_n or 0) + int(late_n or 0)
        ranked.append((stations.get(station_id, str(station_id)), int(n), int(overdue_n or 0),
                       int(on_n or 0) / closed if closed else None))
    ranked.sort(key=lambda r: (-(r[3] if r[3] is not None else -1), r[2], r[0]))
    return ranked
