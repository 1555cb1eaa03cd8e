"""The statistics roll-up (``hub_case_tally``), kept in the transaction that changes a case.

Every path that changes a counted column (ingest, a county decision, a resolved conflict) takes
the case's :func:`figures` before and after the change and writes the difference with
:func:`write`; the rows are then exactly the GROUP BY counts over the cases. A duplicate or a
replayed event changes no case, so it adds nothing. The same figures as SQL are migration 0017's
backfill (a test holds the two equal).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from peewee import PostgresqlDatabase

from rules.statistics import decision_class
from sync.hub.extensions import db
from sync.hub.models import HubCase
from sync.protocol import json_text

COUNTY = 0  # station_id of the county's sums
OPEN = ("submitted", "accepted", "supplement")
CLOSED = ("completed", "rejected", "delivered")
LINE_DUES = (("statutory", "statutory_due"), ("committed", "committed_due"), ("assessed", "assessed_due"))
COUNTED = ("received_time", "closed_at", "status", "item_name", "area_code", "agent_name", "mode",
           "station_decision", "commitment", "deferred_total", "deferred_on_time", "deferred_late",
           *(due for _line, due in LINE_DUES))

Key = tuple[str, str, str]  # (day, figure, label)


def _day(value: Any) -> str | None:
    """'YYYY-MM-DD' of a date, a datetime or their text as stored; None for nothing."""
    if not value:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value)[:10]


def figures(case: Any, **changes: Any) -> Counter[Key]:
    """What one case adds to the statistics, at its station: {(day, figure, label): n}.

    ``changes`` are columns about to be written (the case as it will be). Mirrors migration
    0017's backfill SQL figure by figure.
    """
    def get(name: str) -> Any:
        return changes[name] if name in changes else getattr(case, name)

    out: Counter[Key] = Counter()
    status = get("status")
    closed = _day(get("closed_at")) if status in CLOSED else None
    if closed is not None:
        out[(closed, "closed", "")] += 1
    received = _day(get("received_time"))
    if received is None:
        return out
    kind = f"{status}|{get('mode') or ''}|{decision_class(get('station_decision'), bool(get('commitment')))}"
    for figure, label in (("cases", ""), ("item", get("item_name") or ""), ("village", get("area_code") or ""),
                          ("agent", get("agent_name") or ""), ("kind", kind)):
        out[(received, figure, label)] += 1
    for name in ("deferred_total", "deferred_on_time", "deferred_late"):
        if int(get(name) or 0) > 0:
            out[(received, name, "")] += int(get(name))
    for line, column in LINE_DUES:
        due = _day(get(column))
        if due is None:
            continue
        if closed is not None:
            out[(received, f"{'on_time' if closed <= due else 'late'}:{line}", "")] += 1
        elif status in OPEN:
            out[(received, f"open:{line}", due)] += 1
    return out


def difference(station_id: int, before: Counter[Key], after: Counter[Key],
               into: Counter | None = None) -> Counter:
    """after − before at the station and at the county, added to ``into`` (negative counts kept)."""
    into = into if into is not None else Counter()
    for key in before.keys() | after.keys():
        n = after.get(key, 0) - before.get(key, 0)
        if n:
            into[(station_id, *key)] += n
            into[(COUNTY, *key)] += n
    return into


UPSERT = ('INSERT INTO "hub_case_tally" ("station_id", "day", "figure", "label", "n") {rows} '
          'ON CONFLICT ("station_id", "day", "figure", "label") DO UPDATE SET "n" = "hub_case_tally"."n" + excluded."n"')


#: PostgreSQL: the rows as one JSON parameter, taken apart by the database. The driver quoting each
#: value (execute_values, or five arrays through unnest) was a tenth of the hub's CPU per event;
#: one JSON text costs the hub a quarter of that and the database no more.
_FROM_JSON = ('SELECT (r->>0)::integer, (r->>1)::date, r->>2, r->>3, (r->>4)::integer '
              'FROM json_array_elements(%s::json) AS r')


def write(deltas: Counter) -> None:
    """Add the differences to the roll-up, in the caller's transaction.

    Rows in one fixed order (two workers adding to the county's row for today wait for each other
    instead of deadlocking), each key once, handed to the driver in one call: peewee renders SQL
    value by value, which for the hundreds of rows of one batch cost more than the rest of taking it.
    """
    rows = [(s, d, f, label, n) for (s, d, f, label), n in sorted(deltas.items()) if n]
    if not rows:
        return
    if isinstance(db.obj, PostgresqlDatabase):
        db.cursor().execute(UPSERT.format(rows=_FROM_JSON), (json_text(rows),))
    else:
        db.cursor().executemany(UPSERT.format(rows="VALUES (?, ?, ?, ?, ?)"), rows)


def current(ids: list[int]) -> dict[int, HubCase]:
    """The counted columns of these cases as they stand, held until the transaction ends.

    PostgreSQL: FOR UPDATE, in id order. SQLite: the hub's write transactions begin IMMEDIATE,
    so nothing else writes meanwhile. A figure's "before" is the row as it is, not as a request
    read it earlier (a decision and an event may move the same case at once).
    """
    if not ids:
        return {}
    query = (HubCase.select(HubCase.id, HubCase.station, *[getattr(HubCase, name) for name in COUNTED])
             .where(HubCase.id.in_(ids)).order_by(HubCase.id))
    if db.for_update:
        query = query.for_update()
    return {row.id: row for row in query}


def record(case: Any, **changes: Any) -> None:
    """Write what ``changes`` do to the roll-up; ``case`` as it stood before them (see :func:`current`)."""
    write(difference(case.station_id, figures(case), figures(case, **changes)))
