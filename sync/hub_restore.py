"""After the hub's database was restored from a backup: send again what the restore lost.

The hub's backup is older than what this station saw: events it sent after the backup are
acknowledged here and gone there, and so are access-log entries. The hub announces a restore
with a ``hub.restored`` change (``python -m sync.hub restored``, sync/hub/services/restored.py);
the pull notes it (``HUB_RESTORED``) and the round then asks ``GET /api/v1/station/state`` (all
of this station's cases, no ``since``) and, in one transaction, queues again every acknowledged
event the hub no longer holds (a case it lacks, or a seq past its last), moves the access-log
cursor back to the hub's last entry, and clears the note. The next push sends them; the hub
takes each once (by event id). Changes need nothing here: the hub's ids jumped past any cursor.
"""

from __future__ import annotations

import logging

from sync import state
from sync.errors import BatchRefused
from sync.local_db import db
from sync.outbox import OutboxEvent
from sync.transport import HubClient, refuse_unless_ok

log = logging.getLogger(__name__)

#: The results of events the hub had stored (a conflict or a refusal is not sent again).
STORED_RESULTS = ("accepted", "duplicate")


def hub_restore_pending() -> bool:
    """Whether the hub announced a restore this station has not yet checked against."""
    return bool(state.get_value(state.HUB_RESTORED))


def resend_what_the_hub_lost(client: HubClient) -> int:
    """Queue again the acknowledged events the restored hub no longer holds; return how many."""
    if not hub_restore_pending():
        return 0
    status, answer = client.call("GET", "/api/v1/station/state")
    refuse_unless_ok(status, answer, "县级平台恢复后的核对")
    cases, access_log = answer.get("cases"), answer.get("access_log")
    if not isinstance(cases, dict):
        raise BatchRefused("县级平台恢复后核对的应答不完整，请稍后再同步。")
    queued = 0
    with db.atomic("IMMEDIATE"):
        acked = (OutboxEvent.select(OutboxEvent.id, OutboxEvent.case_id, OutboxEvent.seq)
                 .where((OutboxEvent.state == "acked") & OutboxEvent.result.in_(STORED_RESULTS)).tuples())
        lost = [row_id for row_id, case_id, seq in acked.iterator()
                if not isinstance(cases.get(case_id), int) or seq > cases[case_id]]
        for start in range(0, len(lost), 500):
            queued += (OutboxEvent.update(state="queued", result="", result_code="", acked_at=None,
                                          reason="县级平台数据库已从备份恢复，重新上传")
                       .where(OutboxEvent.id.in_(lost[start:start + 500])).execute())
        if isinstance(access_log, dict) and isinstance(access_log.get("seq"), int):
            cursor = int(state.get_value(state.ACCESS_LOG_CURSOR, "0") or 0)
            state.set_value(state.ACCESS_LOG_CURSOR, str(min(cursor, access_log["seq"])))
        state.set_value(state.HUB_RESTORED, "")
    log.warning("the hub was restored from a backup: %d events it lost are queued again", queued)
    return queued
