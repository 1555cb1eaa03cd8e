"""The access log's chain on its own: a removed, altered, reordered or cut-off entry is found."""

from __future__ import annotations

import datetime as dt

import pytest

from websec import audit

SECRET = "instance-secret"


def _chain(count: int) -> tuple[list[dict], dict]:
    rows, prev = [], audit.GENESIS
    for seq in range(1, count + 1):
        row = {"seq": seq, "at": dt.datetime(2026, 12, 1, 9, 0, seq), "actor_id": 3, "actor_name": "王芳",
               "role": "agent", "address": "10.0.0.5", "action": "case_view", "case_id": f"case-{seq}",
               "object": f"ST1-{seq}", "detail": "查看办件详情"}
        row["prev_hash"], row["hash"] = prev, audit.entry_hash(row, prev)
        prev = row["hash"]
        rows.append(row)
    return rows, {"seq": count, "hash": prev, "mac": audit.head_mac(SECRET, count, prev)}


def test_a_whole_chain_verifies():
    rows, head = _chain(5)
    result = audit.verify(rows, head, SECRET)
    assert result.ok and result.checked == 5
    assert "完整" in result.message


def test_an_entry_removed_from_the_middle_is_named():
    rows, head = _chain(5)
    del rows[2]
    result = audit.verify(rows, head, SECRET)
    assert not result.ok and result.seq == 3
    assert "第 3 条记录已被删除" in result.message


def test_an_entry_removed_and_the_rest_renumbered_breaks_the_links():
    rows, head = _chain(5)
    del rows[2]
    for row in rows[2:]:
        row["seq"] -= 1
    result = audit.verify(rows, head, SECRET)
    assert not result.ok and result.seq == 3


@pytest.mark.parametrize("field", ["detail", "actor_name", "at", "case_id", "action"])
def test_an_altered_entry_is_named(field):
    rows, head = _chain(5)
    rows[1][field] = dt.datetime(2026, 1, 1) if field == "at" else "改过的内容"
    result = audit.verify(rows, head, SECRET)
    assert not result.ok and result.seq == 2
    assert "第 2 条记录的内容已被改动" in result.message


def test_an_altered_entry_whose_hash_was_recomputed_breaks_the_next_link():
    rows, head = _chain(5)
    rows[1]["detail"] = "改过的内容"
    rows[1]["hash"] = audit.entry_hash(rows[1], rows[1]["prev_hash"])
    result = audit.verify(rows, head, SECRET)
    assert not result.ok and result.seq == 3
    assert "不衔接" in result.message


def test_a_cut_off_tail_is_found_by_the_sealed_head():
    rows, head = _chain(5)
    result = audit.verify(rows[:3], head, SECRET)
    assert not result.ok
    assert "应有 5 条，现只有 3 条" in result.message


def test_a_head_moved_back_without_the_secret_is_found():
    rows, _head = _chain(5)
    forged = {"seq": 3, "hash": rows[2]["hash"], "mac": audit.head_mac("a-guess", 3, rows[2]["hash"])}
    result = audit.verify(rows[:3], forged, SECRET)
    assert not result.ok and "末尾标记已被改动" in result.message


def test_a_chain_without_its_head_is_not_called_whole():
    rows, _head = _chain(2)
    assert not audit.verify(rows, None, SECRET).ok
    assert audit.verify([], None, SECRET).ok  # a log never written to


def test_without_a_secret_only_the_chain_is_checked():
    rows, _head = _chain(4)
    assert audit.verify(rows[:2]).ok  # a station's log as received so far
    del rows[1]
    assert not audit.verify(rows).ok
