"""Statistics for a period at the county, over every station (or one), read from the roll-up.

A county holds hundreds of thousands of cases a month; the figures are sums over the roll-up as
it stands (``TallyView``: ``hub_case_tally`` plus the changes not folded into it yet, services/
tally.py: per station and China day, and the county's sums), never a scan of the month's cases. The lines compare the
county's closing date (办结 or 不予受理, China time) with each due date; the assessed due date was
fixed at ingest from the county's setting then in force. Open cases are kept by due date, so
"overdue" is decided against the day the page is read.
"""

from __future__ import annotations

import datetime as dt

from peewee import Case as SqlCase
from peewee import Expression, fn

from rules.labels import HUB_CASE_STATUSES, MODES
from rules.periods import Period
from rules.statistics import (
    DECISION_CLASSES,
    Counted,
    Deferred,
    OnTime,
    Satisfaction,
    Statistics,
    satisfaction,
    trend_days,
)
from rules.time_lines import LINES
from sync.hub.china_time import CHINA_OFFSET, CHINA_TZ
from sync.hub.models import HubCase, HubEvaluation, Station, TallyView
from sync.hub.services import county_settings, decisions, tally
from sync.hub.services.kept import Kept

CACHE_SECONDS = 120.0
_kept: Kept[Statistics] = Kept(CACHE_SECONDS, most=64)
DUE_COLUMNS = {"statutory": HubCase.statutory_due, "committed": HubCase.committed_due,
               "assessed": HubCase.assessed_due}


def overdue_condition(line: str, today: dt.date) -> Expression:
    """An open case past ``line`` today, as the roll-up counts one (``open:<line>``, tally.figures).

    A case waiting for its 补正 materials is not: its clock stopped (DOMAIN.md A.7). The case list's
    超期 filter and the dashboard's cases outside the roll-up count with this same condition.
    """
    due = DUE_COLUMNS[line]
    paused = (HubCase.status == "supplement") & HubCase.supplied_at.is_null()
    return HubCase.status.in_(tally.OPEN) & ~paused & due.is_null(False) & (due < today)


def elsewhere_overdue(today: dt.date, *, station: Station | None = None,
                      period: Period | None = None) -> dict[int, dict[str, int]]:
    """Per station, its 跨域办 cases another county decides that are past each line today (待办理地处理).

    The roll-up counts them among the station's open cases: it cannot know which counties are
    linked, and another county's clerks decide them (``decisions.elsewhere_condition``). The pages
    counting this county's own overdue cases (总览, statistics) take these out and show them apart,
    as the 四条线 warnings list them. ``period``: only cases received in it (China days), as the
    statistics count; without, every case (the dashboard). Few rows: ``handling_area`` is indexed
    only where set.
    """
    query = (HubCase.select(HubCase.station, *[_sum(overdue_condition(line, today)) for line in LINES])
             .join(Station).where(decisions.elsewhere_condition() & HubCase.status.in_(tally.OPEN)))
    if station is not None:
        query = query.where(HubCase.station == station.id)
    if period is not None:
        query = query.where((HubCase.received_time >= dt.datetime.combine(period.start, dt.time()))
                            & (HubCase.received_time < dt.datetime.combine(period.end + dt.timedelta(days=1),
                                                                           dt.time())))
    found = {}
    for station_id, *values in query.group_by(HubCase.station).tuples():
        counts = {line: int(v or 0) for line, v in zip(LINES, values, strict=True)}
        if any(counts.values()):
            found[station_id] = counts
    return found


def _counted(key: str, title: str, pairs) -> Counted:  # noqa: ANN001
    merged: dict[str, int] = {}
    for label, n in pairs:
        merged[label] = merged.get(label, 0) + n
    return Counted(key, title, sorted(((label, n) for label, n in merged.items() if n), key=lambda p: (-p[1], p[0])))


def _sum(condition) -> fn:  # noqa: ANN001
    return fn.COALESCE(fn.SUM(SqlCase(None, [(condition, 1)], 0)), 0)


def compute(period: Period, today: dt.date, station: Station | None = None) -> Statistics:
    """Every figure of the county's statistics page for cases received in `period`.

    Three reads of the roll-up (the scope's figures, each station's at the county, the trend). A figure asked again within CACHE_SECONDS comes from memory (the page
    says when it was counted): the county's screens are opened by many clerks at once.
    """
    key = (period.start, period.end, station.id if station is not None else None, today)
    return _kept.get(key, lambda: _compute(period, today, station))  # a county looks at a handful of periods


def _sums(query) -> dict[str, dict[str, int]]:  # noqa: ANN001 - a peewee query of (figure, label, n)
    sums: dict[str, dict[str, int]] = {}
    for figure, label, n in query.tuples():
        sums.setdefault(figure, {})[label] = int(n or 0)
    return sums


def _compute(period: Period, today: dt.date, station: Station | None) -> Statistics:
    """Reads of the roll-up: the scope's figures (the county's, or one station's) over the period,
    at the county each station's count, committed line and agents, and the trend; then the ratings."""
    scope = station.id if station is not None else tally.COUNTY
    in_period = (TallyView.day >= period.start) & (TallyView.day <= period.end)
    sums = _sums(TallyView.select(TallyView.figure, TallyView.label, fn.SUM(TallyView.n))
                 .where((TallyView.station_id == scope) & in_period & (TallyView.figure != "closed"))
                 .group_by(TallyView.figure, TallyView.label))
    names = county_settings.area_names()
    stations = {s.id: s.name for s in Station.select(Station.id, Station.name)}
    kinds = [(*_kind(label), n) for label, n in sums.get("kind", {}).items()]
    if station is None:
        per_station = _per_station(in_period, today, elsewhere_overdue(today, period=period))
        agents = [(f"{a or '—'}（{stations.get(s, s)}）", n) for s, a, n in _agents(in_period)]
    else:
        agents = [(a or "—", n) for a, n in sums.get("agent", {}).items()]
    stats = Statistics(period, sum(sums.get("cases", {}).values()), [
        _counted("item", "按事项", [(n or "—", c) for n, c in sums.get("item", {}).items()]),
        _counted("village", "按村（社区）", [(names.get(a, a) or "—", c) for a, c in sums.get("village", {}).items()]),
        _counted("agent", "按代办员", agents),
        _counted("status", "按状态", [(HUB_CASE_STATUSES.get(st, st), c) for st, _m, _d, c in kinds]),
        _counted("mode", "按办理方式", [(MODES.get(m, m or "—"), c) for _s, m, _d, c in kinds]),
        _counted("decision", "按收件结果", [(DECISION_CLASSES[d], c) for _s, _m, d, c in kinds]),
    ])
    # 跨域办 cases another county decides are not this county's overdue (待办理地处理, as the warnings list them)
    elsewhere = elsewhere_overdue(today, station=station, period=period)
    stats.on_time = [OnTime(line, title, _one(sums, f"on_time:{line}"), _one(sums, f"late:{line}"),
                            _overdue(sums, line, today) - sum(e[line] for e in elsewhere.values()))
                     for line, title in LINES.items()]
    total_d, on_d, late_d = (_one(sums, f"deferred_{k}") for k in ("total", "on_time", "late"))
    # which outstanding materials are past their date is not kept at the county: shown as —
    stats.deferred = Deferred(total_d, on_d, late_d, total_d - on_d - late_d, None)
    stats.trend = trend(min(period.end, today), station)
    stats.satisfaction = _satisfaction(period, station)
    if station is None:
        stats.tables.insert(0, _counted("station", "按服务站", [(stations.get(s, s), figures[0])
                                                              for s, figures in per_station.items()]))
        stats.ranking = _ranking(per_station, stations)
    stats.counted_at = dt.datetime.now(CHINA_TZ).replace(tzinfo=None, microsecond=0)
    return stats


def _kind(label: str) -> tuple[str, str, str]:
    """(status, mode, decision class) of a ``kind`` label; the mode is the station's text and may hold a "|"."""
    status, rest = label.split("|", 1)
    mode, decision = rest.rsplit("|", 1)
    return status, mode, decision


def _satisfaction(period: Period, station: Station | None) -> Satisfaction:
    """Ratings given in the period (China days; ``created_at`` is UTC): by level and 差评 reason."""
    start, stop = (moment - CHINA_OFFSET for moment in period.bounds())
    where = (HubEvaluation.created_at >= start) & (HubEvaluation.created_at < stop)
    if station is not None:
        where &= HubEvaluation.station == station.id
    return satisfaction(HubEvaluation.select(HubEvaluation.level, HubEvaluation.reason_tag, fn.COUNT(HubEvaluation.id))
                        .where(where).group_by(HubEvaluation.level, HubEvaluation.reason_tag).tuples())


def _one(sums: dict[str, dict[str, int]], figure: str) -> int:
    return sum(sums.get(figure, {}).values())


def _overdue(sums: dict[str, dict[str, int]], line: str, today: dt.date) -> int:
    """Open cases past the line today: the roll-up keeps open cases by due date."""
    return sum(n for due, n in sums.get(f"open:{line}", {}).items() if due < today.isoformat())


def _per_station(in_period, today: dt.date,  # noqa: ANN001
                 elsewhere: dict[int, dict[str, int]]) -> dict[int, tuple[int, int, int, int]]:
    """Each station's count and committed line over the period: (cases, on time, late, open overdue today).

    ``elsewhere``: each station's 跨域办 cases overdue at the handling county, not counted as its own."""
    def figure(name: str, condition=None) -> fn:  # noqa: ANN001
        hit = TallyView.figure == name
        return _sum_n(hit & condition if condition is not None else hit)

    query = (TallyView.select(TallyView.station_id, figure("cases"), figure("on_time:committed"),
                              figure("late:committed"), figure("open:committed", TallyView.label < today.isoformat()))
             .where(TallyView.figure.in_(("cases", "on_time:committed", "late:committed", "open:committed"))
                    & in_period & (TallyView.station_id != tally.COUNTY))
             .group_by(TallyView.station_id).tuples())
    found = {}
    for station_id, cases, on_n, late_n, overdue_n in query:
        if cases:
            found[station_id] = (int(cases), int(on_n), int(late_n),
                                 int(overdue_n) - elsewhere.get(station_id, {}).get("committed", 0))
    return found


def _agents(in_period) -> list[tuple[int, str, int]]:  # noqa: ANN001
    """(station, agent, cases) over the period: an agent's name is the station's own."""
    return [(s, a, int(n)) for s, a, n in (
        TallyView.select(TallyView.station_id, TallyView.label, fn.SUM(TallyView.n))
        .where((TallyView.figure == "agent") & in_period & (TallyView.station_id != tally.COUNTY))
        .group_by(TallyView.station_id, TallyView.label).tuples()) if n]


def _sum_n(condition) -> fn:  # noqa: ANN001
    return fn.COALESCE(fn.SUM(SqlCase(None, [(condition, TallyView.n)], 0)), 0)


def _ranking(per_station: dict[int, tuple[int, int, int, int]], stations: dict[int, str]
             ) -> list[tuple[str, int, int, float | None]]:
    """Stations by on-time rate on the committed line (best first), then by fewer open overdue cases."""
    ranked = []
    for station_id, (cases, on_n, late_n, overdue_n) in per_station.items():
        closed = on_n + late_n
        ranked.append((stations.get(station_id, str(station_id)), cases, overdue_n, on_n / closed if closed else None))
    ranked.sort(key=lambda r: (-(r[3] if r[3] is not None else -1), r[2], r[0]))
    return ranked


def trend(end: dt.date, station: Station | None = None) -> list[tuple[dt.date, int, int]]:
    """Received and closed per day over the 30 days ending on `end`."""
    days = trend_days(end)
    scope = station.id if station is not None else tally.COUNTY
    per_day: dict[tuple[str, str], int] = {}
    for day, figure, n in (TallyView.select(TallyView.day, TallyView.figure, fn.SUM(TallyView.n))
                           .where((TallyView.station_id == scope) & TallyView.figure.in_(("cases", "closed"))
                                  & (TallyView.day >= days[0]) & (TallyView.day <= end))
                           .group_by(TallyView.day, TallyView.figure).tuples()):
        per_day[(str(day)[:10], figure)] = int(n or 0)
    return [(d, per_day.get((d.isoformat(), "cases"), 0), per_day.get((d.isoformat(), "closed"), 0)) for d in days]
