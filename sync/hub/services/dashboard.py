"""The county dashboard: every station's health beside its overdue cases, and cases by state
across stations — read from the statistics roll-up as it stands (``TallyView``: ``hub_case_tally``
plus the changes not folded yet, services/tally.py), never a count over every case, whatever the
county's size.

The roll-up keeps, per station and day received, open cases by due date (``open:<line>``, labelled
with the date, so "overdue" is decided against the day the page is read) and cases by
state × mode × decision (``kind``): summed over every day, these are the dashboard's figures. A case
the hub holds without a received time adds nothing to the roll-up; those few are counted over
``hub_case`` through the ``(received_time, station)`` index and added, so the figures stay the
plain counts over the cases.

A 跨域办 case one of this county's stations took for another county is open here until that
county decides it: past a line, it is not this county's overdue case (its clerks cannot decide it)
but 待办理地处理, as the 四条线 warnings list it. Those few are counted over ``hub_case``
(``statistics.elsewhere_overdue``), taken out of the station's overdue figures and shown apart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import fn

from rules.time_lines import LINES
from sync.hub.models import HubCase, Station, TallyView
from sync.hub.services import stations
from sync.hub.services.kept import Kept
from sync.hub.services.statistics import _kind, _sum, elsewhere_overdue, overdue_condition
from sync.hub.services.tally import COUNTY


@dataclass(frozen=True)
class StationRow:
    health: stations.StationHealth
    overdue: dict[str, int]  # line → this county's open cases past it
    by_status: dict[str, int]
    elsewhere: dict[str, int]  # line → 跨域办 cases past it that another county decides (待办理地处理)


def _add(into: dict[int, dict[str, int]], station_id: int, key: str, n: int, zeros: dict[str, int] | None = None) -> None:
    if n:
        counts = into.setdefault(station_id, dict(zeros or {}))
        counts[key] = counts.get(key, 0) + n


def overdue_by_station(today: dt.date, unreceived: list[tuple],
                       elsewhere: dict[int, dict[str, int]] | None = None) -> dict[int, dict[str, int]]:
    """Open cases past each line, per station: the roll-up's open cases due before today, without
    ``elsewhere`` (the 跨域办 cases another county decides, :func:`statistics.elsewhere_overdue`)."""
    figures = {f"open:{line}": line for line in LINES}
    zeros = dict.fromkeys(LINES, 0)
    found: dict[int, dict[str, int]] = {}
    for station_id, figure, n in (TallyView.select(TallyView.station_id, TallyView.figure, fn.SUM(TallyView.n))
                                  .where(TallyView.figure.in_(list(figures)) & (TallyView.label < today.isoformat())
                                         & (TallyView.station_id != COUNTY))
                                  .group_by(TallyView.station_id, TallyView.figure).tuples()):
        _add(found, station_id, figures[figure], int(n or 0), zeros)
    for station_id, _status, _n, *values in unreceived:
        for line, v in zip(LINES, values, strict=True):
            _add(found, station_id, line, int(v or 0), zeros)
    for station_id, counts in (elsewhere or {}).items():
        for line, n in counts.items():
            _add(found, station_id, line, -n, zeros)
    return found


def status_by_station(unreceived: list[tuple]) -> dict[int, dict[str, int]]:
    """Cases by state, per station: the roll-up's state × mode × decision rows, summed by state."""
    found: dict[int, dict[str, int]] = {}
    for station_id, label, n in (TallyView.select(TallyView.station_id, TallyView.label, fn.SUM(TallyView.n))
                                 .where((TallyView.figure == "kind") & (TallyView.station_id != COUNTY))
                                 .group_by(TallyView.station_id, TallyView.label).tuples()):
        _add(found, station_id, _kind(label)[0], int(n or 0))
    for station_id, status, n, *_overdue in unreceived:
        _add(found, station_id, status, int(n))
    return found


def _unreceived(today: dt.date) -> list[tuple]:
    """(station, state, cases, overdue per line) of the cases without a received time (not in the roll-up)."""
    overdue = [_sum(overdue_condition(line, today)) for line in LINES]  # 补正: its clock stopped
    return list(HubCase.select(HubCase.station, HubCase.status, fn.COUNT(HubCase.id), *overdue)
                .where(HubCase.received_time.is_null()).group_by(HubCase.station, HubCase.status).tuples())


CACHE_SECONDS = 120.0
_kept: Kept[tuple[dict, dict, dict]] = Kept(CACHE_SECONDS, most=1)


def _counts(today: dt.date) -> tuple[dict, dict, dict]:
    """The sums (own overdue, by state, 待办理地处理), kept CACHE_SECONDS (station health is always read fresh)."""
    def load() -> tuple[dict, dict, dict]:
        unreceived = _unreceived(today)
        elsewhere = elsewhere_overdue(today)
        return overdue_by_station(today, unreceived, elsewhere), status_by_station(unreceived), elsewhere
    return _kept.get(today, load)


def rows(today: dt.date, *, dark_hours: float, queue_age_warn_hours: float) -> list[StationRow]:
    """Stations needing attention first (dark, queue ageing), then by most overdue cases."""
    overdue, by_status, elsewhere = _counts(today)
    empty = dict.fromkeys(LINES, 0)
    found = [StationRow(h, overdue.get(h.station.id, empty), by_status.get(h.station.id, {}),
                        elsewhere.get(h.station.id, empty))
             for h in stations.list_health(dark_hours=dark_hours, queue_age_warn_hours=queue_age_warn_hours)]
    return sorted(found, key=lambda r: (not (r.health.dark or r.health.queue_ageing), -sum(r.overdue.values()),
                                        r.health.station.code))


def station_named(code: str) -> Station | None:
    return Station.by_code(code) if code else None
