"""The county's own settings: the assessed time limit (考核时限) per item and the village names.

Both are county-wide and go down the changes feed to every station like the county's other
settings (a broadcast ``station.settings`` change carrying only that key), so a station's
四条线 and ledgers agree with the county's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sync import protocol
from sync.hub.extensions import db
from sync.hub.models import Setting, utcnow
from sync.hub.services import changes, workdays
from sync.hub.services.errors import ValidationError
from sync.hub.services.kept import Kept

ASSESSED_DAYS = "assessed_days"
AREA_NAMES = "area_names"
MAX_ASSESSED_DAYS = 365
_kept: Kept[Any] = Kept(30.0)


def get(key: str, default: Any = None) -> Any:
    """A setting's stored value (read through a short memory: ingest asks for every case)."""
    def load() -> Any:
        row = Setting.get_or_none(Setting.key == key)
        return row.value if row is not None else default
    return _kept.get(key, load)


def assessed_days() -> dict[str, int]:
    """Working days per national item code; {} until the county sets some."""
    value = get(ASSESSED_DAYS) or {}
    return {str(k): int(v) for k, v in value.items()} if isinstance(value, dict) else {}


def assessed_due(item_code: Any, received: dt.datetime | None) -> dt.date | None:
    """The assessed due date of a case received now, or None when its item has no assessed limit."""
    days = assessed_days().get(str(item_code or ""))
    if days is None or received is None:
        return None
    return workdays.due_after(received.date(), days).due


def area_names() -> dict[str, str]:
    value = get(AREA_NAMES) or {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def parse_assessed_form(form: Mapping[str, str], items: Mapping[str, str]) -> dict[str, int]:
    """Read ``assessed__<item_code>`` fields of ``items`` (item code → name): blank means no assessed
    limit for that item. A bad value is refused naming the item as the form lists it (its name)."""
    table: dict[str, int] = {}
    errors = []
    for code, name in items.items():
        raw = (form.get(f"assessed__{code}") or "").strip()
        if not raw:
            continue
        if not raw.isdecimal() or not 0 <= int(raw) <= MAX_ASSESSED_DAYS:  # isdigit() took "²": int() refused it
            errors.append(f"事项“{name or code}”的考核时限应为 0 到 {MAX_ASSESSED_DAYS} 之间的整数（工作日）。")
            continue
        table[code] = int(raw)
    if errors:
        raise ValidationError(errors[0])
    return table


def _store(key: str, value: Any, clerk: str) -> None:
    with db.atomic():
        (Setting.insert(key=key, value=value, updated_at=utcnow(), updated_by=clerk)
         .on_conflict(conflict_target=[Setting.key], update={Setting.value: value, Setting.updated_at: utcnow(),
                                                              Setting.updated_by: clerk})
         .execute())
        changes.emit(protocol.CHANGE_STATION_SETTINGS, {"settings": {key: value}, "updated_by": clerk})
    _kept.forget(key)


def set_assessed_days(table: Mapping[str, int], *, clerk: str) -> dict[str, int]:
    """Replace the assessed limits and send them to every station in the same transaction."""
    clean: dict[str, int] = {}
    for code, days in table.items():
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_ASSESSED_DAYS:
            raise ValidationError(f"事项 {code} 的考核时限应为 0 到 {MAX_ASSESSED_DAYS} 之间的整数（工作日）。")
        clean[str(code)[:64]] = days
    _store(ASSESSED_DAYS, clean, clerk)
    return clean


def set_area_names(table: Mapping[str, str], *, clerk: str) -> dict[str, str]:
    """Replace the village names (12-digit 区划代码 → name) and send them to every station."""
    clean = {str(k): str(v).strip()[:40] for k, v in table.items() if str(v).strip()}
    if any(len(k) != 12 or not k.isdigit() for k in clean):
        raise ValidationError("区划代码应为12位数字。")
    _store(AREA_NAMES, clean, clerk)
    return clean
