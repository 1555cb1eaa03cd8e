"""The glossary's labels: one table each, and paper prints the very words the screens show."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from printouts import collection_receipt, completion_notice
from printouts.data import MaterialLine
from printouts.samples import sample_case, sample_station
from rules import labels


def _paper_lines(pdf: bytes) -> list[str]:
    """The printed lines as laid out (a table row on one line), spaces squeezed out."""
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("!!! pdftotext NOT INSTALLED — paper labels are NOT being checked (apt-get install poppler-utils) !!!")
    done = subprocess.run([exe, "-layout", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, timeout=60,
                          check=True)
    return [re.sub(r"\s+", "", line) for line in done.stdout.decode("utf-8").splitlines()]


def test_a_provided_material_reads_on_the_receipt_as_on_the_screen():
    case = sample_case(materials=(MaterialLine("居民身份证", "original_and_copy", 1, "provided"),))
    lines = _paper_lines(collection_receipt(sample_station(), case))
    assert labels.MATERIAL_STATUSES["provided"] == "已提交"  # the word the station's screen shows
    assert "1居民身份证原件及复印件1已提交" in lines


def test_the_result_on_the_completion_notice_is_the_screens_word_for_it():
    text = "".join(_paper_lines(completion_notice(sample_station(), sample_case(result="denied", pickup_method="post"))))
    assert f"办理结果为：{labels.RESULTS['denied']}办理" in text
    assert labels.PICKUP_METHODS["post"] in text


@pytest.mark.parametrize(
    ("key", "table", "shown"),
    [
        ("provided", "material_statuses", "已提交"),
        ("proxy", "modes", "代办"),
        ("case.submitted", "event_kinds", "收件提交"),
        ("accepted", "hub_case_statuses", "已受理"),
        ("case.from_a_newer_station", "event_kinds", "case.from_a_newer_station"),  # never hidden
        (None, "modes", "—"),
        ("", "results", "—"),
    ],
)
def test_the_label_filter_shows_the_glossary_word_or_the_value_itself(key, table, shown):
    assert labels.label(key, table) == shown


def test_the_county_shares_the_stations_words_for_the_statuses_both_have():
    for status, word in labels.HUB_CASE_STATUSES.items():
        if status in labels.CASE_STATUSES and status != "not_collected":
            assert word == labels.CASE_STATUSES[status]


@pytest.mark.parametrize(
    ("limit", "instant", "shown"),
    [
        ({"value": 20, "unit": "working_days"}, False, "20个工作日"),
        ({"value": 30, "unit": "natural_days"}, False, "30个自然日"),
        ({"value": 0, "unit": "working_days"}, True, "即时办结"),
        ({"value": 2, "unit": "hours"}, True, "2小时"),
        (None, False, "—"),
    ],
)
def test_a_time_limit_is_written_with_its_unit(limit, instant, shown):
    assert labels.limit_text(limit, instant=instant) == shown
