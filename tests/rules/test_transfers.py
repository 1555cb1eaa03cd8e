"""The batch number a USB scanner types, and a handover's names: one rule for the station and the county."""

from __future__ import annotations

import pytest

from rules.transfers import handover_problems, normalize_code, origin_of


@pytest.mark.parametrize("typed", ["WL-ST141081102201-20261201-01", "wl-st141081102201-20261201-01\r\n",
                                   "\tWL-ST141081102201-20261201-01\r", "  WL-ST141081102201-20261201-01\n"])
def test_what_a_scanner_types_is_the_batch_number_and_names_its_station(typed):
    assert normalize_code(typed) == "WL-ST141081102201-20261201-01"
    assert origin_of(normalize_code(typed)) == "ST141081102201"


@pytest.mark.parametrize("typed", ["6901234567892", "WL-ST1-2026-01", "", "WL-ST141081102201-20261201-1234"])
def test_a_code_that_is_not_a_batch_number_names_no_station(typed):
    assert origin_of(normalize_code(typed)) == ""


@pytest.mark.parametrize(("giver", "receiver", "place", "field", "words"), [
    ("", "李窗口", "", "giver", "请填写交出人"),
    ("赵送件", "", "", "receiver", "请填写接收人"),
    ("赵送件", "赵送件", "", "receiver", "不能是同一人"),
    ("赵送件", "李窗口", "镇" * 51, "place", "最多50个字"),
])
def test_a_handover_with_a_bad_name_says_which_and_why(giver, receiver, place, field, words):
    problems = handover_problems(giver, receiver, place)
    assert list(problems) == [field] and words in problems[field]


def test_a_good_handover_has_no_problems():
    assert handover_problems("赵送件", "李窗口", "东关镇便民服务中心") == {}
