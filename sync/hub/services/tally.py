"""The statistics roll-up (``hub_case_tally``), kept in the transaction that changes a case.

Every path that changes a counted column (ingest, a county decision, a resolved conflict) takes
the case's :func:`figures` before and after the change and appends the difference with
:func:`write` (``hub_case_tally_delta``); :func:`fold` moves those into ``hub_case_tally`` now and
then, adding the county's sums. The view ``hub_case_tally_all`` (``TallyView``) is the two
together: exactly the GROUP BY counts over the cases at any moment. A duplicate or a replayed
event changes no case, so it adds nothing. The same figures as SQL are migration 0017's backfill
(a test holds the two equal).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections import Counter
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from peewee import PostgresqlDatabase

from rules.statistics import decision_class
from sync.hub.extensions import db
from sync.hub.models import CaseTallyDelta
from sync.hub.services.bulk_sql import IN_CLAUSE, prepared_insert

log = logging.getLogger(__name__)

COUNTY = 0  # station_id of the county's sums
OPEN = ("submitted", "accepted", "supplement")
CLOSED = ("completed", "rejected", "delivered")
#: Withdrawn by the applicant (撤回申请) is neither: never open on a line (so never overdue) and never closed on
#: one (she withdrew it, the county did not finish it on time or late); it counts among the cases received.
WITHDRAWN = "withdrawn"
#: Every case at its end: what retention may purge.
ENDED = (*CLOSED, WITHDRAWN)
LINE_DUES = (("statutory", "statutory_due"), ("committed", "committed_due"), ("assessed", "assessed_due"))
COUNTED = ("received_time", "closed_at", "status", "item_name", "area_code", "agent_name", "mode",
           "station_decision", "commitment", "deferred_total", "deferred_on_time", "deferred_late",
           "supplied_at", *(due for _line, due in LINE_DUES))

_CURRENT_NAMES = ("id", "station_id", *COUNTED)
_CURRENT = ("SELECT " + ", ".join(f'"{name}"' for name in _CURRENT_NAMES)
            + ' FROM "hub_case" WHERE "id" IN ({ids}) ORDER BY "id"{lock}')

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
    # a case as it stands (every new case of a batch) is read from its own attributes, no lookup in between
    get: Callable[[str], Any] = (case.__getattribute__ if not changes
                                 else lambda name: changes[name] if name in changes else getattr(case, name))

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
    # 补正 time is not counted (DOMAIN.md A.7): a case waiting for the resident's materials is not
    # open on any line, so no page counts it overdue; its due dates move on when they arrive (case_view)
    paused = status == "supplement" and not get("supplied_at")
    for line, column in LINE_DUES:
        due = _day(get(column))
        if due is None:
            continue
        if closed is not None:
            out[(received, f"{'on_time' if closed <= due else 'late'}:{line}", "")] += 1
        elif status in OPEN and not paused:
            out[(received, f"open:{line}", due)] += 1
    return out


def add(station_id: int, found: Counter[Key], into: Counter) -> Counter:
    """A new case's figures (:func:`figures`, all positive) added at the station to ``into``."""
    for key, n in found.items():
        into[(station_id, *key)] += n
    return into


def difference(station_id: int, before: Counter[Key], after: Counter[Key],
               into: Counter | None = None) -> Counter:
    """after − before at the station, added to ``into`` (negative counts kept).

    The county's sums are not written here: :func:`fold` adds them from the stations' rows, and
    the view the statistics read adds those of the changes not yet folded.
    """
    into = into if into is not None else Counter()
    for key in before.keys() | after.keys():
        n = after.get(key, 0) - before.get(key, 0)
        if n:
            into[(station_id, *key)] += n
    return into


#: About one batch in this many folds the changes into the roll-up after it commits (:func:`fold_sometimes`).
FOLD_EVERY = 20
_FOLD_LOCK_KEY = 724_018_332  # an arbitrary constant: the advisory lock one fold at a time holds

# "WHERE true": SQLite's parser needs a WHERE between an INSERT's SELECT and its ON CONFLICT
_SUMS = ('SELECT * FROM (SELECT station_id, day, figure, label, SUM(n) FROM {source} GROUP BY station_id, day, figure, label '
         'UNION ALL SELECT 0, day, figure, label, SUM(n) FROM {source} GROUP BY day, figure, label) AS sums WHERE true')
UPSERT = ('INSERT INTO "hub_case_tally" ("station_id", "day", "figure", "label", "n") {rows} '
          'ON CONFLICT ("station_id", "day", "figure", "label") DO UPDATE SET "n" = "hub_case_tally"."n" + excluded."n"')
#: PostgreSQL: the rows taken out and added in one statement, so one snapshot sees them both.
_FOLD_POSTGRES = ('WITH moved AS (DELETE FROM "hub_case_tally_delta" RETURNING station_id, day, figure, label, n) '
                  + UPSERT.format(rows=_SUMS.format(source="moved")))
#: SQLite: the write lock is held from the transaction's start, so nothing is appended meanwhile.
_FOLD_SQLITE = UPSERT.format(rows=_SUMS.format(
    source='(SELECT * FROM "hub_case_tally_delta" WHERE id <= {last})'))


def write(deltas: Counter) -> None:
    """Append the differences for the roll-up, in the caller's transaction (folded later)."""
    rows = [{"station_id": s, "day": d, "figure": f, "label": label, "n": n}
            for (s, d, f, label), n in deltas.items() if n]
    prepared_insert(CaseTallyDelta, rows)()


def fold(*, wait: bool = True) -> int:
    """Move the appended changes into the roll-up, the county's sums with them; return the roll-up rows written.

    One fold at a time (others wait, or with ``wait=False`` return 0 at once): two folds adding to
    the same rows would only queue behind each other's locks. Exactness never depends on it —
    the statistics read the view that adds what is not folded yet.
    """
    with db.atomic():
        if isinstance(db.obj, PostgresqlDatabase):
            lock = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
            got = db.execute_sql(f"SELECT {lock}(%s)", (_FOLD_LOCK_KEY,)).fetchone()[0]
            if got is False:
                return 0
            return db.execute_sql(_FOLD_POSTGRES).rowcount
        last = db.execute_sql('SELECT MAX(id) FROM "hub_case_tally_delta"').fetchone()[0]
        if last is None:
            return 0
        written = db.execute_sql(_FOLD_SQLITE.format(last=int(last))).rowcount
        db.execute_sql('DELETE FROM "hub_case_tally_delta" WHERE id <= ?', (last,))
        return written


def fold_sometimes() -> None:
    """After about one batch in :data:`FOLD_EVERY`, fold; never waits for a fold already running.

    That batch is stored already: a fold that fails (the database busy past its timeout) is
    logged and left to a later one, never turned into an error for a batch the station would
    then send again.
    """
    if random.randrange(FOLD_EVERY) != 0:
        return
    try:
        fold(wait=False)
    except Exception:  # noqa: BLE001 - the changes stay appended, and the view counts them meanwhile
        log.warning("hub: folding the statistics roll-up failed; a later batch folds it", exc_info=True)


def current(ids: list[int]) -> dict[int, Any]:
    """The counted columns of these cases as they stand, held until the transaction ends.

    PostgreSQL: FOR UPDATE, in id order. SQLite: the hub's write transactions begin IMMEDIATE,
    so nothing else writes meanwhile. A figure's "before" is the row as it is, not as a request
    read it earlier (a decision and an event may move the same case at once). Written out and
    returned as plain rows (``id``, ``station_id`` and :data:`COUNTED`, as the database gives
    them): peewee rendering this read and building instances cost more than the read itself, on
    every batch that moves a case.
    """
    found: dict[int, Any] = {}
    ordered = sorted(set(ids))
    lock = " FOR UPDATE" if db.for_update else ""
    for start in range(0, len(ordered), IN_CLAUSE):
        chunk = ordered[start:start + IN_CLAUSE]
        sql = _CURRENT.format(ids=", ".join([db.param] * len(chunk)), lock=lock)
        for values in db.execute_sql(sql, chunk).fetchall():
            row = SimpleNamespace(**dict(zip(_CURRENT_NAMES, values, strict=True)))
            found[row.id] = row
    return found


def record(case: Any, **changes: Any) -> None:
    """Write what ``changes`` do to the roll-up; ``case`` as it stood before them (see :func:`current`)."""
    write(difference(case.station_id, figures(case), figures(case, **changes)))
