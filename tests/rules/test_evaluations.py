"""好差评 rules: levels kept by name and turned into a target system's numbers only on export; a 差评's reason."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rules import evaluations


def test_levels_are_names_and_the_national_codes_run_best_first():
    assert list(evaluations.LEVELS.values()) == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    assert evaluations.GB_LEVEL_CODES["very_satisfied"] == "1"
    assert evaluations.GB_LEVEL_CODES["very_dissatisfied"] == "5"
    assert evaluations.CHANNEL_CODES["qr_code"] == "3" and evaluations.CHANNEL_CODES["hall_tablet"] == "4"
    assert evaluations.KIND_CODES == {"first": "1", "follow_up": "2"}


def test_only_the_two_bad_levels_need_a_reason_of_their_own_level():
    assert evaluations.problem("satisfied", "", "") is None
    assert "请选择不满意的原因" in evaluations.problem("dissatisfied", "", "慢")
    assert "请写下具体情况" in evaluations.problem("very_dissatisfied", "fees", "")
    assert "不属于" in evaluations.problem("dissatisfied", "fees", "乱收费")  # a tag of another level
    assert evaluations.problem("very_dissatisfied", "fees", "乱收费") is None


def test_a_visit_key_reads_as_words():
    assert evaluations.visit_word("supplement-2") == "补交补正材料（第2次）"
    assert evaluations.visit_word("case") == "办件整体评价"


def test_the_working_day_rules_stand_alone_for_the_hub():
    root = Path(__file__).resolve().parents[2]
    probe = "import sys, rules.workdays, rules.evaluations; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    loaded = set(subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True,
                                timeout=60, check=True).stdout.split())
    assert not loaded & {"flask", "peewee", "station", "sync", "chinese_calendar"}, loaded
