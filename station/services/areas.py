"""Village (村/社区) names for the 12-digit area codes a station serves, for ledgers and statistics.

Paper and charts show 东关村, not 141081102201. The names are a station setting (the county may
send them down as ``area_names``, like its other settings); a code with no name shows as itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from station.models import Setting
from station.services.villages import station_villages

AREA_NAMES = "station.area_names"
HUB_AREA_NAMES = "hub.area_names"  # what the county sent down (station_info.apply_hub_settings)


def _load(key: str) -> dict[str, str]:
    try:
        value = json.loads(Setting.get_value(key) or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def names() -> dict[str, str]:
    """Every known code → name: the county's list, then the station's village list (村（社区）列表)
    and the station's own entries over it."""
    listed = {v.code: v.name for v in station_villages()}
    return {**_load(HUB_AREA_NAMES), **listed, **_load(AREA_NAMES)}


def save_names(entries: Mapping[str, str]) -> None:
    """Add or replace the station's own names for some area codes."""
    merged = {**_load(AREA_NAMES), **{str(k): str(v).strip() for k, v in entries.items() if str(v).strip()}}
    Setting.set_value(AREA_NAMES, json.dumps(merged, ensure_ascii=False, sort_keys=True))


def name_of(code: str, known: Mapping[str, str] | None = None) -> str:
    """The village's name, or the code itself when no name is known."""
    table = names() if known is None else known
    return table.get(code, code)
