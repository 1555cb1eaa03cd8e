"""The outbox: an event is written only inside the transaction that makes its change."""

from __future__ import annotations

import pytest

from station.extensions import db
from sync.outbox import OutboxError, OutboxEvent, enqueue

CASE_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def test_an_event_written_outside_a_transaction_is_refused_and_nothing_is_stored(database):
    assert not db.in_transaction()
    with pytest.raises(OutboxError):
        enqueue(CASE_ID, "case.note", {"text": "备注"})
    assert OutboxEvent.select().count() == 0


def test_an_event_rolled_back_with_its_change_is_gone(database):
    with db.atomic() as transaction:
        enqueue(CASE_ID, "case.note", {"text": "备注"})
        transaction.rollback()
    assert OutboxEvent.select().count() == 0


def test_events_inside_transactions_get_gapless_seqs_per_case(database):
    for text in ("一", "二"):
        with db.atomic():
            enqueue(CASE_ID, "case.note", {"text": text})
    with db.atomic():
        enqueue("01BX5ZZKBKACTAV9WEVGEMMVRZ", "case.note", {"text": "另一件"})
    rows = [(e.case_id, e.seq, e.payload["text"]) for e in OutboxEvent.select().order_by(OutboxEvent.id)]
    assert rows == [(CASE_ID, 1, "一"), (CASE_ID, 2, "二"), ("01BX5ZZKBKACTAV9WEVGEMMVRZ", 1, "另一件")]
