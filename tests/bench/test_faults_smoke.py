"""Keep `python -m bench.faults` honest: every fault kind once, fixed seed, nothing lost or duplicated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.faults import __main__ as faults_main
from bench.faults.suite import KINDS, make_template, one_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fault_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory.mktemp("fault-template"))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_fault_kind_loses_and_duplicates_nothing(kind: str, fault_template: Path, tmp_path: Path) -> None:
    result = one_run(kind, 7, fault_template, tmp_path / "run")
    assert result["fired"], f"{kind}: the fault was never injected, so the run proves nothing"
    assert result["events"] > 0
    assert (result["lost"], result["duplicated"], result["unknown_at_hub"]) == (0, 0, 0), result
    assert (result["stuck"], result["set_aside"]) == (0, 0), result
    assert (result["changes_lost"], result["changes_twice"]) == (0, 0), result  # county changes applied once each
    if kind.endswith("_pull"):
        assert result["changes"] > 0, f"{kind}: no county change to pull, so the run proves nothing"


def test_the_command_writes_per_kind_figures_and_totals(tmp_path: Path) -> None:
    out = tmp_path / "faults.json"
    assert faults_main.main(["--runs", "1", "--seed", "3", "--kinds", "hub_500", "reply_lost",
                             "--json", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert set(report["kinds"]) == {"hub_500", "reply_lost"}
    assert report["totals"]["runs"] == 2 and report["totals"]["kinds"] == 2
    assert report["totals"]["lost"] == report["totals"]["duplicated"] == 0
    assert report["totals"]["events"] == sum(k["events"] for k in report["kinds"].values()) > 0


def test_reports_of_two_processes_join_into_one(tmp_path: Path) -> None:
    def report(kind: str, events: int) -> dict:
        row = {"runs": 2, "fired": 2, "errors": 0, "events": events, "lost": 0, "duplicated": 0,
               "unknown_at_hub": 0, "stuck": 0, "set_aside": 0, "seconds": 1.0}
        return {"seed": 1, "runs_per_kind": 2, "database": "sqlite", "kinds": {kind: row}, "failures": [],
                "complete": True}

    a, b, out = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "all.json"
    a.write_text(json.dumps(report("hub_500", 10)), encoding="utf-8")
    b.write_text(json.dumps(report("disk_full", 5)), encoding="utf-8")
    assert faults_main.main(["--merge", str(a), str(b), "--json", str(out)]) == 0
    totals = json.loads(out.read_text(encoding="utf-8"))["totals"]
    assert (totals["kinds"], totals["runs"], totals["events"]) == (2, 4, 15)
    with pytest.raises(SystemExit):  # the same kind under the same seed: the same runs counted twice
        faults_main.main(["--merge", str(a), str(a), "--json", str(out)])
    c = tmp_path / "c.json"
    c.write_text(json.dumps({**report("hub_500", 7), "seed": 2}), encoding="utf-8")
    assert faults_main.main(["--merge", str(a), str(b), str(c), "--json", str(out)]) == 0
    joined = json.loads(out.read_text(encoding="utf-8"))
    assert joined["seeds"] == [1, 2] and joined["kinds"]["hub_500"]["runs"] == 4
    assert (joined["totals"]["runs"], joined["totals"]["events"]) == (6, 22)
