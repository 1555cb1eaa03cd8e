"""python -m bench.faults [--runs N] [--seed S] [--kinds K ...] [--jobs J] [--postgres] [--json FILE] [--keep DIR] [--merge F ...]

Runs every fault kind N times (seeded: the same seed replays the same faults at the same points),
prints one line per kind and writes one JSON object: per kind runs, events checked, lost,
duplicated, stuck, set aside, seconds; and the totals. Exit status 1 if any event was lost,
duplicated or left stuck. `--merge A.json B.json --json ALL.json` joins reports into one: the same
seed run on disjoint kinds (two processes on a two-core machine), or further seeds of a kind (summed). See docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from bench.faults.suite import FIGURES, KINDS, bad, make_template, postgres_dsn, run_kind


def run_suite(runs: int, seed: int, kinds: list[str], work: Path, postgres: str | None = None,
              progress: Any = None, jobs: int = 1) -> dict[str, Any]:
    """Every kind `runs` times; the report the command prints and writes.

    ``jobs`` > 1 runs that many kinds at once, each in its own process (a run binds the station's
    database proxy, which is one per process); a run waits on child processes, sockets and sleeps
    much of the time, so two at once take less wall time on a two-core machine.
    """
    template = make_template(work / "template")
    report: dict[str, Any] = {"seed": seed, "runs_per_kind": runs, "database": "postgresql" if postgres else "sqlite",
                              "jobs": jobs, "kinds": {}, "failures": []}

    def done(kind: str, row: dict[str, Any], failures: list[dict[str, Any]]) -> None:
        report["kinds"][kind] = row
        report["failures"] += failures
        report["totals"] = _totals(report)
        report["complete"] = len(report["kinds"]) == len(kinds)
        if progress:
            progress(kind, row, report)

    if jobs <= 1:
        for kind in kinds:
            done(kind, *run_kind(kind, runs, seed, template, work, postgres))
    else:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(run_kind, kind, runs, seed, template, work, postgres): kind for kind in kinds}
            for future in as_completed(futures):
                done(futures[future], *future.result())
    report["kinds"] = {kind: report["kinds"][kind] for kind in kinds if kind in report["kinds"]}
    return report


def _totals(report: dict[str, Any]) -> dict[str, Any]:
    totals = {name: sum(r.get(name, 0) for r in report["kinds"].values()) for name in
              ("runs", "fired", "errors", *FIGURES, "seconds")}
    totals["kinds"] = len(report["kinds"])
    totals["seconds"] = round(totals["seconds"], 1)
    return totals


def merge(paths: list[Path], out: Path | None) -> int:
    """One report from several: the same seed on disjoint kinds (two processes), or more seeds of a kind.

    A kind run under the same seed twice is refused: its runs would be the same runs counted twice.
    """
    reports = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    if len({r["database"] for r in reports}) != 1:
        raise SystemExit("只能合并同一数据库的报告")
    joined: dict[str, Any] = {"seeds": sorted({r["seed"] for r in reports}), "database": reports[0]["database"],
                              "kinds": {}, "failures": [], "merged_from": [str(p) for p in paths]}
    seen: set[tuple[int, str]] = set()
    for report in reports:
        for kind, row in report["kinds"].items():
            if (report["seed"], kind) in seen:
                raise SystemExit(f"同一种子的 {kind} 出现两次")
            seen.add((report["seed"], kind))
            into = joined["kinds"].setdefault(kind, dict.fromkeys(row, 0))
            for name, value in row.items():
                into[name] = round(into[name] + value, 1)
        joined["failures"] += report["failures"]
    joined["totals"] = _totals(joined)
    joined["complete"] = all(r.get("complete") for r in reports)
    text = json.dumps(joined, ensure_ascii=False, indent=2)
    out.write_text(text, encoding="utf-8") if out else print(text)
    t = joined["totals"]
    return 1 if bad(t) or t["errors"] else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100, help="runs per kind (default 100)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kinds", nargs="*", choices=sorted(KINDS), default=list(KINDS))
    parser.add_argument("--jobs", type=int, default=1, help="kinds run at once, each in its own process (default 1)")
    parser.add_argument("--postgres", action="store_true", help="the hub on PostgreSQL (a throwaway schema per run)")
    parser.add_argument("--json", type=Path, help="write the report here")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep the template (default: a temp folder)")
    parser.add_argument("--merge", nargs="+", type=Path, help="join these reports (disjoint kinds, or other seeds)")
    args = parser.parse_args(argv)
    if args.merge:
        return merge(args.merge, args.json)
    logging.disable(logging.CRITICAL)  # the faults are meant to produce errors; the report counts them
    work = args.keep or Path(tempfile.mkdtemp(prefix="faults-"))
    work.mkdir(parents=True, exist_ok=True)

    def progress(kind: str, row: dict[str, Any], report: dict[str, Any]) -> None:
        if args.json:  # after every kind, so a long run that is stopped still leaves its figures
            args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"{kind:20} runs {row['runs']:4}  fired {row['fired']:4}  events {row['events']:7}  "
              f"lost {row['lost']}  dup {row['duplicated']}  stuck {row['stuck']}  set aside {row['set_aside']}  "
              f"changes {row['changes']} lost {row['changes_lost']} twice {row['changes_twice']}  "
              f"errors {row['errors']}  {row['seconds']:7.1f} s", flush=True)

    try:
        report = run_suite(args.runs, args.seed, args.kinds, work, postgres_dsn() if args.postgres else None, progress,
                           args.jobs)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    t = report["totals"]
    print(f"{'total':20} runs {t['runs']:4}  kinds {t['kinds']}  events {t['events']}  lost {t['lost']}  "
          f"dup {t['duplicated']}  stuck {t['stuck']}  errors {t['errors']}  {t['seconds']} s")
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return 1 if bad(t) or t["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
