"""How the station cuts its backlog into batches (pure: no database, no hub)."""

from __future__ import annotations

from sync.backlog import QueuedEvent, take_batch


def _backlog(*cases: tuple[str, int]) -> list[QueuedEvent]:
    events, n = [], 0
    for case_id, count in cases:
        for seq in range(1, count + 1):
            n += 1
            events.append(QueuedEvent(n, f"E{n}", case_id, seq, "case.note", "2026-11-23T09:00:00+08:00", "v1",
                                      None, 100))
    return events


def _cut(events: list[QueuedEvent], size: int) -> list[list[tuple[str, int]]]:
    batches, start = [], 0
    while start < len(events):
        batch = take_batch(events, start, size, 10**7)
        batches.append([(e.case_id, e.seq) for e in batch])
        start += len(batch)
    return batches


def test_a_batch_ends_where_a_case_ends():
    batches = _cut(_backlog(("A", 3), ("B", 3), ("C", 3)), 5)
    assert batches == [[("A", 1), ("A", 2), ("A", 3)], [("B", 1), ("B", 2), ("B", 3)], [("C", 1), ("C", 2), ("C", 3)]]


def test_a_case_longer_than_a_batch_goes_in_pieces_in_order():
    batches = _cut(_backlog(("A", 1), ("L", 7), ("B", 1)), 3)
    assert batches[0] == [("A", 1)]
    assert [pair for batch in batches for pair in batch] == [("A", 1)] + [("L", s) for s in range(1, 8)] + [("B", 1)]
    assert all(len(batch) <= 3 for batch in batches)


def test_the_byte_limit_still_holds():
    events = _backlog(("A", 1), ("B", 1), ("C", 1))
    assert len(take_batch(events, 0, 500, 850)) == 2  # each event counts 100 * 2 + 200 bytes
