"""What a station sets once: villages it serves, paper per document and the printer's margins,
the sync interval and window, the backup folder — kept in settings, like station_info's profile.

Rules only: the admin page (views/admin.py) shows and saves them; printing, the sync scheduler
and the daily backup read them.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

from printouts.registry import PRINTABLE_DOCUMENTS
from station.models import Setting
from station.services.errors import ValidationFailed
from sync import state as sync_state
from sync.jobs import DEFAULT_INTERVAL_S

VILLAGES = "station.villages"
PAPER_PREFIX = "paper."  # paper.<document key> = a4 | roll80
MARGIN = "paper.margin_mm"
BACKUP_DIR = "backup.dir"

PAPERS = {"a4": "A4 纸", "roll80": "80mm 小票"}
#: Documents whose paper the station chooses (the receipt also has its own 80 mm button).
PAPER_DOCUMENTS = {key: doc.title for key, doc in PRINTABLE_DOCUMENTS.items() if key != "receipt_roll"}
MAX_VILLAGES = 200
MARGIN_RANGE = (0, 25)  # mm added to the layout's own margin: printers that clip the edge
INTERVAL_RANGE = (10, 24 * 3600)  # the same bounds the county's settings obey (station_info.HUB_SETTINGS)
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class StationSettings:
    villages: list[str]
    paper: dict[str, str]  # document key → a4 | roll80
    margin_mm: int
    sync_interval_s: int
    sync_window: str  # "08:00-18:00", or "" for any time
    backup_dir: str


def get_settings() -> StationSettings:
    """The station's once-set settings, with defaults where none is stored."""
    try:
        villages = json.loads(Setting.get_value(VILLAGES) or "[]")
    except ValueError:
        villages = []
    return StationSettings(
        villages=[v for v in villages if isinstance(v, str)],
        paper={key: Setting.get_value(PAPER_PREFIX + key) or "a4" for key in PAPER_DOCUMENTS},
        margin_mm=int(Setting.get_value(MARGIN) or 0),
        sync_interval_s=_stored_interval(),
        sync_window=sync_state.get_value(sync_state.WINDOW) or "",
        backup_dir=Setting.get_value(BACKUP_DIR) or "",
    )


def update_settings(villages: str, paper: dict[str, str], margin_mm: str, sync_interval_s: str,
                    sync_window_from: str, sync_window_to: str, backup_dir: str) -> StationSettings:
    """Check every value, then store all of them or none (``ValidationFailed`` with Chinese messages)."""
    errors: dict[str, str] = {}
    names = list(dict.fromkeys(line.strip() for line in villages.splitlines() if line.strip()))
    if len(names) > MAX_VILLAGES:
        errors["villages"] = f"服务的村（社区）最多 {MAX_VILLAGES} 个。"
    elif any(len(n) > 40 for n in names):
        errors["villages"] = "每行一个村（社区）名称，每个不超过 40 个字。"
    chosen = {}
    for key in PAPER_DOCUMENTS:
        value = paper.get(key, "a4")
        if value not in PAPERS:
            errors[f"paper_{key}"] = "纸张只能选 A4 或 80mm 小票。"
        chosen[key] = value
    margin = _int_in(margin_mm, MARGIN_RANGE)
    if margin is None:
        errors["margin_mm"] = f"页边距为 {MARGIN_RANGE[0]}–{MARGIN_RANGE[1]} 毫米的整数。"
    interval = _int_in(sync_interval_s, INTERVAL_RANGE)
    if interval is None:
        errors["sync_interval_s"] = f"同步间隔为 {INTERVAL_RANGE[0]}–{INTERVAL_RANGE[1]} 秒的整数。"
    window = ""
    start, end = sync_window_from.strip(), sync_window_to.strip()
    if start or end:
        if not (_TIME.match(start) and _TIME.match(end)):
            errors["sync_window"] = "同步时段请写成 08:00 到 18:00 这样的时间，或两格都空着（全天）。"
        elif _minutes(start) == _minutes(end):
            errors["sync_window"] = "同步时段的开始和结束不能相同（全天同步请两格都空着）。"
        else:
            window = f"{_minutes(start) // 60:02d}:{_minutes(start) % 60:02d}-{_minutes(end) // 60:02d}:{_minutes(end) % 60:02d}"
    folder = backup_dir.strip()
    if folder and not os.path.isabs(folder):
        errors["backup_dir"] = "备份文件夹请写完整路径，例如 E:\\服务站备份 或 /media/u盘/备份。"
    if errors:
        raise ValidationFailed(errors)
    Setting.set_value(VILLAGES, json.dumps(names, ensure_ascii=False))
    for key, value in chosen.items():
        Setting.set_value(PAPER_PREFIX + key, value)
    Setting.set_value(MARGIN, str(margin))
    sync_state.set_interval_seconds(interval)  # type: ignore[arg-type]
    sync_state.set_value(sync_state.WINDOW, window)
    Setting.set_value(BACKUP_DIR, folder)
    return get_settings()


def _stored_interval() -> int:
    try:
        return int(float(sync_state.interval_seconds())) or DEFAULT_INTERVAL_S
    except ValueError:
        return DEFAULT_INTERVAL_S


def _int_in(text: str, bounds: tuple[int, int]) -> int | None:
    text = (text or "").strip()
    if not text.isdigit() or not bounds[0] <= int(text) <= bounds[1]:
        return None
    return int(text)


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def paper_for(document: str) -> tuple[str, int]:
    """The paper (a4 | roll80) and extra margin in mm the station chose for ``document``."""
    if document == "receipt_roll":
        return "roll80", int(Setting.get_value(MARGIN) or 0)
    return Setting.get_value(PAPER_PREFIX + document) or "a4", int(Setting.get_value(MARGIN) or 0)


def backup_folder() -> str:
    """The backup folder set on the settings page ("" when none)."""
    return Setting.get_value(BACKUP_DIR) or ""
