"""The county dashboard: every station's health beside its overdue cases, and cases by state
across stations — two GROUP BY queries and the station list, whatever the county's size."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from peewee import fn

from rules.time_lines import LINES
from sync.hub.models import HubCase, Station
from sync.hub.services import county_settings, stations
from sync.hub.services.statistics import DUE_COLUMNS, _sum
from sync.hub.services.tally import OPEN


@dataclass(frozen=True)
class StationRow:
    health: stations.StationHealth
    overdue: dict[str, int]  # line → open cases past it
    by_status: dict[str, int]


def overdue_by_station(today: dt.date) -> dict[int, dict[str, int]]:
    """Open cases past each line, per station, in one query."""
    columns = [_sum(HubCase.status.in_(OPEN) & DUE_COLUMNS[line].is_null(False) & (DUE_COLUMNS[line] < today))
               for line in LINES]
    return {station_id: dict(zip(LINES, (int(v or 0) for v in values), strict=True))
            for station_id, *values in HubCase.select(HubCase.station, *columns).group_by(HubCase.station).tuples()}


def status_by_station() -> dict[int, dict[str, int]]:
    found: dict[int, dict[str, int]] = {}
    for station_id, status, n in (HubCase.select(HubCase.station, HubCase.status, fn.COUNT(HubCase.id))
                                  .group_by(HubCase.station, HubCase.status).tuples()):
        found.setdefault(station_id, {})[status] = n
    return found


CACHE_SECONDS = 120.0
_cache: dict[tuple, tuple[float, tuple]] = {}


def _counts(today: dt.date) -> tuple[dict, dict]:
    """The two aggregates over every case, kept CACHE_SECONDS (station health is always read fresh)."""
    key = (county_settings.database_key(), today)
    hit = _cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    counts = (overdue_by_station(today), status_by_station())
    _cache.clear()
    _cache[key] = (time.monotonic(), counts)
    return counts


def rows(today: dt.date, *, dark_hours: float, queue_age_warn_hours: float) -> list[StationRow]:
    """Stations needing attention first (dark, queue ageing), then by most overdue cases."""
    overdue, by_status = _counts(today)
    empty = dict.fromkeys(LINES, 0)
    found = [StationRow(h, overdue.get(h.station.id, empty), by_status.get(h.station.id, {}))
             for h in stations.list_health(dark_hours=dark_hours, queue_age_warn_hours=queue_age_warn_hours)]
    return sorted(found, key=lambda r: (not (r.health.dark or r.health.queue_ageing), -sum(r.overdue.values()),
                                        r.health.station.code))


def station_named(code: str) -> Station | None:
    return Station.by_code(code) if code else None
