"""Statistics for a period at the county, over every station (or one): GROUP BY queries only.

A county holds hundreds of thousands of cases a month; every figure here is one aggregate query
on the columns copied out of the snapshot at ingest (migration 0012), never a loop over cases.
The four lines compare the county's closing date (办结 or 不予受理, China time) with each due
date; the assessed due date was fixed at ingest from the county's setting then in force.
"""

from __future__ import annotations

import datetime as dt
import time

from peewee import SQL, fn
from peewee import Case as SqlCase

from rules.labels import HUB_CASE_STATUSES, MODES
from rules.periods import Period
from rules.statistics import DECISION_CLASSES, Counted, Deferred, OnTime, Statistics, trend_days
from rules.time_lines import LINES
from sync.hub.china_time import CHINA_TZ
from sync.hub.models import HubCase, Station
from sync.hub.services import county_settings

OPEN = ("submitted", "accepted", "supplement")
CLOSED = ("completed", "rejected", "delivered")
CACHE_SECONDS = 120.0
_cache: dict[tuple, tuple[float, Statistics]] = {}
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
    """Every figure of the county's statistics page for cases received in `period`.

    Seven aggregate queries: per station (count and the four lines' sums, which also give the
    totals and the ranking), per state/mode/decision, per item, per village, per agent, and the
    two halves of the trend. A figure asked again within CACHE_SECONDS comes from memory (the page
    says when it was counted): the county's screens are opened by many clerks at once.
    """
    key = (county_settings.database_key(), period.start, period.end, station.id if station is not None else None, today)
    hit = _cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    stats = _compute(period, today, station)
    _cache[key] = (time.monotonic(), stats)
    if len(_cache) > 64:  # a county looks at a handful of periods; keep memory bounded
        oldest = min(_cache, key=lambda k: _cache[k][0])
        _cache.pop(oldest, None)
    return stats


def _compute(period: Period, today: dt.date, station: Station | None) -> Statistics:
    where = _where(period, station)
    group = lambda column: (HubCase.select(column, fn.COUNT(HubCase.id)).where(where)  # noqa: E731
                            .group_by(column).tuples())
    names = county_settings.area_names()
    stations = {s.id: s.name for s in Station.select(Station.id, Station.name)}
    per_station = list(HubCase.select(HubCase.station, fn.COUNT(HubCase.id),
                                      *[c for line in LINES for c in _line_sums(line, today)],
                                      fn.SUM(HubCase.deferred_total), fn.SUM(HubCase.deferred_on_time),
                                      fn.SUM(HubCase.deferred_late))
                       .where(where).group_by(HubCase.station).tuples())
    total = sum(int(row[1]) for row in per_station)
    kinds = list(HubCase.select(HubCase.status, HubCase.mode, HubCase.station_decision, HubCase.commitment,
                                fn.COUNT(HubCase.id)).where(where)
                 .group_by(HubCase.status, HubCase.mode, HubCase.station_decision, HubCase.commitment).tuples())
    by_agent = (HubCase.select(HubCase.station, HubCase.agent_name, fn.COUNT(HubCase.id)).where(where)
                .group_by(HubCase.station, HubCase.agent_name).tuples())
    stats = Statistics(period, total, [
        _counted("item", "按事项", [(n or "—", c) for n, c in group(HubCase.item_name)]),
        _counted("village", "按村（社区）", [(names.get(a, a) or "—", c) for a, c in group(HubCase.area_code)]),
        _counted("agent", "按代办员", [(f"{a or '—'}（{stations.get(s, s)}）" if station is None else a or "—", c)
                                      for s, a, c in by_agent]),
        _counted("status", "按状态", [(HUB_CASE_STATUSES.get(st, st), c) for st, _m, _d, _p, c in kinds]),
        _counted("mode", "按办理方式", [(MODES.get(m, m or "—"), c) for _s, m, _d, _p, c in kinds]),
        _counted("decision", "按收件结果", [(DECISION_CLASSES[decision_class(d, bool(p))], c)
                                          for _s, _m, d, p, c in kinds]),
    ])
    if station is None:
        stats.tables.insert(0, _counted("station", "按服务站", [(stations.get(row[0], row[0]), int(row[1]))
                                                              for row in per_station]))
    stats.on_time = _on_time_from(per_station)
    total_d, on_d, late_d = (sum(int(row[k] or 0) for row in per_station) for k in (-3, -2, -1))
    # which outstanding materials are past their date is not kept at the county: shown as —
    stats.deferred = Deferred(total_d, on_d, late_d, total_d - on_d - late_d, None)
    stats.trend = trend(min(period.end, today), station)
    if station is None:
        stats.ranking = _ranking_from(per_station, stations)
    stats.counted_at = dt.datetime.now(CHINA_TZ).replace(tzinfo=None, microsecond=0)
    return stats


def _line_sums(line: str, today: dt.date) -> list:
    due = DUE_COLUMNS[line]
    closed_day = fn.DATE(HubCase.closed_at)
    is_closed = HubCase.closed_at.is_null(False) & HubCase.status.in_(CLOSED) & due.is_null(False)
    return [_sum(is_closed & (closed_day <= due)).alias(f"{line}_on_time"),
            _sum(is_closed & (closed_day > due)).alias(f"{line}_late"),
            _sum(HubCase.status.in_(OPEN) & due.is_null(False) & (due < today)).alias(f"{line}_overdue")]


def _on_time_from(per_station: list[tuple]) -> list[OnTime]:
    """Closed on time, closed late and open past the line, for each line, summed over the stations."""
    figures = []
    for i, (line, title) in enumerate(LINES.items()):
        on, late, overdue = (sum(int(row[2 + 3 * i + k] or 0) for row in per_station) for k in range(3))
        figures.append(OnTime(line, title, on, late, overdue))
    return figures


def _ranking_from(per_station: list[tuple], stations: dict[int, str]) -> list[tuple[str, int, int, float | None]]:
    """Stations by on-time rate on the committed line (best first), then by fewer open overdue cases."""
    committed = 2 + 3 * list(LINES).index("committed")
    ranked = []
    for row in per_station:
        on_n, late_n, overdue_n = (int(v or 0) for v in row[committed: committed + 3])
        closed = on_n + late_n
        ranked.append((stations.get(row[0], str(row[0])), int(row[1]), overdue_n, on_n / closed if closed else None))
    ranked.sort(key=lambda r: (-(r[3] if r[3] is not None else -1), r[2], r[0]))
    return ranked


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
