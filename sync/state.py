"""Sync's own key/value bookkeeping in the station database (table `sync_state`).

The hub link, the changes cursor, the learned clock offset, how the last round ended, the
running round's progress and the county changes that could not be applied. Kept apart from the
station's settings so that sync can be read and tested without the station.
"""

from __future__ import annotations

import json
from typing import Any

from peewee import CharField, DateTimeField, TextField

from sync.local_db import SyncModel, now, open_text, seal_text

HUB_URL = "hub_url"
STATION_CODE = "station_code"
SECRET = "secret"
CURSOR = "cursor"
CLOCK_OFFSET = "clock_offset_s"
LAST_SUCCESS = "last_success"
LAST_ERROR = "last_error"
LAST_ERROR_AT = "last_error_at"
LINK_STATE = "link_state"  # see sync.errors.LINK_STATE_LABELS
INTERVAL = "interval_seconds"  # how often the background job syncs
WINDOW = "sync_window"  # "HH:MM-HH:MM" when background rounds may run ("" any time)
PROGRESS = "progress"  # JSON written by the running round
PULL_PROBLEMS = "pull_problems"  # county changes the station could not apply (JSON list)
ACCESS_LOG_CURSOR = "access_log_cursor"  # the last access-log seq the county confirmed
# Set by a restore from a backup (the backup's name); cleared once the hub has said what it holds
# of this station (sync/restore.py). While set, no new case may be taken.
RESTORED_FROM = "restored_from"
SEQ_FLOOR_PREFIX = "seq_floor:"  # + case id: the hub holds this case's events up to this seq


class SyncState(SyncModel):
    key = CharField(max_length=80, primary_key=True)
    value = TextField(default="")
    updated_at = DateTimeField(default=now)

    class Meta:
        table_name = "sync_state"


SEALED_KEYS = frozenset({SECRET})  # stored sealed through the bound key ring (sync.local_db.set_sealer)


def get_value(key: str, default: str = "") -> str:
    row = SyncState.get_or_none(SyncState.key == key)
    if row is None:
        return default
    return open_text(row.value) if key in SEALED_KEYS else row.value


def set_value(key: str, value: str) -> None:
    if key in SEALED_KEYS:
        value = seal_text(value)
    (
        SyncState.insert(key=key, value=value, updated_at=now())
        .on_conflict(conflict_target=[SyncState.key], update={SyncState.value: value, SyncState.updated_at: now()})
        .execute()
    )


def interval_seconds() -> str:
    """The stored interval between background rounds ("" when none is stored)."""
    return get_value(INTERVAL)


def set_interval_seconds(seconds: int) -> None:
    """Store how often the background job syncs (the county may set it, the demo shortens it)."""
    set_value(INTERVAL, str(int(seconds)))


def progress() -> dict[str, Any] | None:
    """What the running (or last) round reported, for the sync page's live line."""
    raw = get_value(PROGRESS)
    return json.loads(raw) if raw else None


def record_progress(value: dict[str, Any] | None) -> None:
    """Store the round's progress line (None clears it)."""
    set_value(PROGRESS, json.dumps(value, ensure_ascii=False) if value is not None else "")
