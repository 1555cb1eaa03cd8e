"""What the station half of sync needs from the station, handed in by the station.

Sync never imports the station: whoever builds a :class:`~sync.round.Syncer` or the scheduler
passes these in. Tests and tools can give their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sync.file_upload import FileSource


@dataclass(frozen=True)
class StationHooks:
    """The station's side of the seam.

    ``schema_version()`` names the newest applied station migration (reported in every
    heartbeat); ``open_blob(sha256)`` opens a stored scan to be read in pieces, as plain bytes (the
    station keeps it sealed on disk; the hub receives the file itself, same SHA-256), or gives None
    when it is missing — uploads and USB bundles never hold a scan whole;
    ``apply_change(kind, case_id, payload)`` applies one county change inside the caller's
    transaction and raises on a change it cannot apply (an exception with a Chinese ``message``
    is shown as is);
    ``data_dir`` is the folder whose free disk space the heartbeat reports;
    ``access_log_after(seq, limit)`` returns up to ``limit`` access-log entries after ``seq``, in
    order, as JSON-ready dicts (None: this station sends no access log);
    ``raise_case_numbers({"YYYYMMDD": last})`` moves the station's daily case-number sequences to
    at least ``last`` (after a restore from a backup, sync/restore.py; inside the caller's transaction);
    ``continue_access_log(seq, hash)``, after a restore, renumbers the access-log entries written
    since the restore to follow the hub's last entry of this station (``seq``, chained to ``hash``),
    inside the caller's transaction; ``rebuild_case(case_id, events)``, after a restore, rebuilds a
    case the lost PC took after the backup from its events as the hub holds them (inside the
    caller's transaction; False when it cannot); ``continue_case(case_id, events)``, after a
    restore, replays onto a case the backup held what the lost PC wrote to it after the backup
    (inside the caller's transaction; False when the case is not here).
    ``appointments_pending()`` returns the appointment offer and bookings to send, or None, and
    ``appointments_confirmed(body)`` is told the county stored that body (sync/appointments_push.py).
    ``transfer_handovers_pending()`` returns handovers of other stations' transfer batches recorded
    here and not yet confirmed, ``transfer_handovers_confirmed(ids)`` is told which the county
    kept and ``transfer_handovers_refused([{handover_id, reason}])`` which it refused, with its
    Chinese reason, so the clerk sees why (sync/transfers_push.py).
    """

    schema_version: Callable[[], str]
    open_blob: Callable[[str], FileSource | None]
    apply_change: Callable[[str, str, dict[str, Any]], None]
    app_version: str
    data_dir: Path
    access_log_after: Callable[[int, int], list[dict[str, Any]]] | None = None
    raise_case_numbers: Callable[[dict[str, int]], None] | None = None
    continue_access_log: Callable[[int, str], None] | None = None
    rebuild_case: Callable[[str, list[dict[str, Any]]], bool] | None = None
    continue_case: Callable[[str, list[dict[str, Any]]], bool] | None = None
    appointments_pending: Callable[[], dict[str, Any] | None] | None = None
    appointments_confirmed: Callable[[dict[str, Any]], None] | None = None
    transfer_handovers_pending: Callable[[], list[dict[str, Any]]] | None = None
    transfer_handovers_confirmed: Callable[[list[str]], None] | None = None
    transfer_handovers_refused: Callable[[list[dict[str, str]]], None] | None = None
