"""Pulling the county's changes feed: each page applied, then the cursor, in one transaction.

What a change means to the station is the station's business (``hooks.apply_change``); here
only the order, the cursor and what to do with a change that cannot be applied.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sync import protocol, state
from sync.hooks import StationHooks
from sync.local_db import db
from sync.status import record_pull_problem
from sync.summary import SyncSummary
from sync.transport import HubClient, refuse_unless_ok

log = logging.getLogger(__name__)

PAGE_SIZE = 200


class Puller:
    """Reads the changes feed from the stored cursor until the hub has no more."""

    def __init__(self, client: HubClient, hooks: StationHooks,
                 progress: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.client = client
        self.hooks = hooks
        self.progress = progress or (lambda _p: None)

    def pull(self, summary: SyncSummary) -> None:
        while True:
            cursor = int(state.get_value(state.CURSOR, "0") or 0)
            status, page = self.client.call("GET", f"/api/v1/changes?cursor={cursor}&limit={PAGE_SIZE}")
            refuse_unless_ok(status, page, "更新查询请求")
            changes = page.get("changes") or []
            apply_page(self.hooks, changes, page.get("next_cursor", cursor), summary)
            self.progress({"running": True, "stage": "pull", "message": f"已接收县级更新 {summary.pulled} 条"})
            if not page.get("has_more") or not changes:
                break


def apply_page(hooks: StationHooks, changes: list[dict[str, Any]], next_cursor: Any, summary: SyncSummary) -> None:
    """Apply a page of changes and move the cursor past it, in one transaction.

    The network pull and a USB return bundle both come here. A change at or below the stored
    cursor was applied already (the other way brought it first) and is skipped; the cursor
    never moves back.
    """
    with db.atomic("IMMEDIATE"):
        cursor = int(state.get_value(state.CURSOR, "0") or 0)
        for change in changes:
            change_id = change.get("change_id")
            if isinstance(change_id, int) and change_id <= cursor:
                continue
            apply_change(hooks, change)
            summary.pulled += 1
        # the cursor moves only together with the changes it covers
        try:
            target = int(next_cursor)
        except (TypeError, ValueError):
            target = cursor
        state.set_value(state.CURSOR, str(max(cursor, target)))


def apply_change(hooks: StationHooks, change: dict[str, Any]) -> None:
    """Apply one change in its own savepoint; one the station cannot apply is kept for a person.

    The cursor must still move past it: otherwise one bad catalog would stop every later
    受理/补正/办结 from ever reaching this station.
    """
    kind = str(change.get("kind") or "")
    if kind == protocol.CHANGE_HUB_RESTORED:  # sync's own business: checked after this pull
        state.set_value(state.HUB_RESTORED, str((change.get("payload") or {}).get("epoch") or "restored"))
        return
    try:
        with db.atomic():
            hooks.apply_change(kind, change.get("case_id") or "", change.get("payload") or {})
    except Exception as exc:  # noqa: BLE001 - recorded for a person, never silently dropped
        message = getattr(exc, "message", None)
        if not isinstance(message, str) or not message:
            log.exception("change %s (%s) could not be applied", change.get("change_id"), kind)
            message = "本站无法应用这条县级更新（程序错误，已记录日志，请联系技术支持）。"
        else:
            log.warning("change %s (%s) could not be applied: %s", change.get("change_id"), kind, message)
        record_pull_problem(change, message)
