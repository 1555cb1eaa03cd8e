"""What the hub holds of one station: asked by a station restored from a backup.

A backup is older than the hub's view of the station. Before it numbers a new case or writes a
new event, a restored station asks for (a) each of its cases touched since ``since`` with the
last ``seq`` the hub stored, and (b) per day, the highest daily sequence among its case numbers
(``{area code 12}{YYYYMMDD}{4-digit seq}``, DOMAIN.md), and moves its own counters past them.
A second device of the station numbers with its own suffix ``-NN`` (docs/sync-protocol.md), so
only the numbers of the device that asks count: the PC's are those without a suffix.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rules import case_numbers as case_numbers_rule
from sync.hub.models import HubCase, Station


def state_of(station: Station, since: dt.date | None, *, device: int = 0) -> dict[str, Any]:
    """The station's cases touched since the day before ``since`` (all when None) and ``device``'s days' last case numbers."""
    query = HubCase.select(HubCase.case_id, HubCase.case_no, HubCase.last_seq).where(HubCase.station == station)
    if since is not None:  # a day's margin: the hub's clock is UTC, the station's local
        query = query.where(HubCase.updated_at >= dt.datetime.combine(since - dt.timedelta(days=1), dt.time()))
    cases: dict[str, int] = {}
    case_numbers: dict[str, int] = {}
    for row in query.tuples().iterator():
        case_id, case_no, last_seq = row
        cases[case_id] = int(last_seq or 0)
        minted = case_numbers_rule.day_and_sequence(case_no, device)
        if minted is not None:
            day, sequence = minted
            case_numbers[day] = max(case_numbers.get(day, 0), sequence)
    return {"cases": cases, "case_numbers": case_numbers}
