"""python -m bench [--quick] [--json FILE] [--only NAME ...] [--keep DIR]

Sets up its own data on loopback, prints a table of every figure against its target and writes
one JSON object. Quick mode uses smaller sizes (stated in the JSON) and runs in well under three
minutes; it exists so CI runs every benchmark and none of them rots. Targets: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

SIZES = {
    "full": {"station_cases": 100_000, "page_samples": 100, "intakes": 200, "sync_cases": 10_000,
             "naive_events": 2_000, "thin_link_cases": 200, "hub_stations": 200, "hub_cases_per_station": 20,
             "hub_workers": 4, "hub_threads": 24, "hub_spread_s": 20,
             "province_stations": 200, "province_cases_per_station": 20, "province_processes": [1, 2, 4],
             "province_window_s": 20,
             "numbers_stations": 300, "numbers_cases_per_station": 1_000, "numbers_samples": 40,
             "ledger_cases": 3_000, "ingest_stations": 100, "ingest_cases_per_station": 20, "ingest_repeats": 3,
             "api_requests": 5_000},
    "quick": {"station_cases": 4_000, "page_samples": 20, "intakes": 30, "sync_cases": 1_000,
              "naive_events": 300, "thin_link_cases": 80, "hub_stations": 12, "hub_cases_per_station": 20,
              "hub_workers": 2, "hub_threads": 24, "hub_spread_s": 4,
              "province_stations": 12, "province_cases_per_station": 8, "province_processes": [1],
              "province_window_s": 3,
              "numbers_stations": 30, "numbers_cases_per_station": 200, "numbers_samples": 10,
              "ledger_cases": 600, "ingest_stations": 10, "ingest_cases_per_station": 8, "ingest_repeats": 1,
              "api_requests": 1_000},
}

# name: (label, unit, target, comparison) — comparison "<", "<=", ">=" or "==" (for booleans)
TARGETS: dict[str, tuple[str, str, Any, str]] = {
    "case_list_p95_ms": ("case list (filtered, paged) p95", "ms", 50, "<"),
    "case_detail_p95_ms": ("case detail p95", "ms", 50, "<"),
    "catalog_search_p95_ms": ("catalog search p95", "ms", 50, "<"),
    "intake_p95_ms": ("intake: form post → redirect p95", "ms", 80, "<"),
    "receipt_a4_warm_ms": ("A4 receipt, warm, p95", "ms", 30, "<"),
    "receipt_a4_kb": ("A4 receipt size", "KB", 60, "<"),
    "sync_events_per_s": ("sync push throughput", "events/s", 10_000, ">="),
    "sync_vs_naive": ("… vs naive one-request-per-event client", "×", 20, ">="),
    "sync_vs_ceiling": ("… vs ceiling (SQLite batch insert)", "ratio", 0.25, ">="),
    "sync_bytes_per_event": ("bytes on the wire per event (req + resp)", "B", 300, "<="),
    "thin_link_s": ("a day's 200 cases at 64 kbit/s, 300 ms", "s", 60, "<"),
    "hub_exactly_once": ("hub under load: every event exactly once", "", True, "=="),
    "hub_batch_p95_ms": ("hub under load: p95 per batch", "ms", 500, "<"),
    "hub_events_per_s": ("hub under load: events/s (no target)", "events/s", None, ""),
    "hub_spread_batch_p95_ms": ("… stations spread over a window: p95 (no target)", "ms", None, ""),
    "province_cpu_us_per_event": ("province: hub + PostgreSQL CPU per accepted event (worst run)", "µs", 200, "<="),
    "province_exactly_once": ("province: every event exactly once in every run", "", True, "=="),
    "province_rollup_exact": ("province: statistics roll-up equals a recount after every run", "", True, "=="),
    "province_burst_p95_ms": ("province: burst, p95 per accepted batch (most processes)", "ms", 500, "<"),
    "province_burst_as_sent_cpu_us": ("… burst as stations batch it (first batch 100), CPU per event (worst)", "µs",
                                      None, ""),
    "province_outage_drain_cores": ("province of 5,000: cores to drain a day's outage in 10 min", "cores", None, ""),
    "ingest_cpu_us_per_event_30": ("hub+PG CPU per event, in process, batches of 30 (median of 3)", "µs", None, ""),
    "ingest_cpu_us_per_event_100": ("… batches of 100", "µs", 200, "<="),
    "ingest_cpu_host_speed_ms": ("… this machine's pace then: a fixed piece of work (lower is faster)", "ms", None, ""),
    "ingest_cpu_python_speed_ms": ("… and for plain Python, what the hub's CPU follows (lower is faster)", "ms", None, ""),
    "ingest_http_us_per_event_1": ("hub+PG CPU per event over HTTP, one process, 1 request in flight", "µs", None, ""),
    "ingest_http_us_per_event_4": ("… 4 requests in flight (its admission slots)", "µs", None, ""),
    "api_overhead_time_us": ("hub CPU per API request doing nothing, in process", "µs", None, ""),
    "api_overhead_busy_503_us": ("… per 503 of admission control, in process", "µs", None, ""),
    "api_overhead_waitress_us": ("… per API request over waitress (loopback)", "µs", None, ""),
    "station_rss_mb": ("station resident memory after warm-up", "MB", 120, "<"),
    "station_rss_printed_mb": ("… after its first receipts (A4 and 80 mm; no target)", "MB", None, ""),
    "county_statistics_p95_ms": ("county statistics page, a month (PostgreSQL) p95", "ms", 500, "<"),
    "county_statistics_cold_p95_ms": ("… counted afresh (no cache) p95 (no target)", "ms", None, ""),
    "county_dashboard_p95_ms": ("county dashboard, 300 stations (PostgreSQL) p95", "ms", 500, "<"),
    "county_dashboard_cold_p95_ms": ("… counted afresh (no cache) p95", "ms", 500, "<"),
    "station_ledger_xlsx_s": ("station month ledger as .xlsx", "s", 2, "<"),
    "cold_start_s": ("cold start to first served page", "s", 1.5, "<"),
}


def _passes(value: Any, target: Any, op: str) -> bool | None:
    if value is None or target is None:
        return None
    return {"<": value < target, "<=": value <= target, ">=": value >= target, "==": value == target}[op]


def _step(name: str, fn: Callable[[], dict[str, Any]], details: dict[str, Any], errors: dict[str, str]) -> None:
    print(f"… {name}", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    try:
        details[name] = fn()
    except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others
        errors[name] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
        details[name] = None
    print(f"  {name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)


def _figures(d: dict[str, Any]) -> dict[str, Any]:
    pages, sync, thin, hub, paper = (d.get("station_pages"), d.get("sync"), d.get("thin_link"), d.get("hub_load"),
                                     d.get("receipt"))
    county, ledger = d.get("county_statistics"), d.get("station_ledger")
    hub_ok = hub is not None and "skipped" not in hub
    prov = d.get("province")
    prov = prov if prov and "skipped" not in prov else None
    ingest = d.get("ingest_cpu")
    overhead = d.get("api_overhead")
    ingest_runs = {r["batch_events"]: r["cpu_us_per_event"] for r in ingest["runs"]} \
        if ingest and "skipped" not in ingest else {}
    http = d.get("ingest_http")
    http_runs = {r["connections"]: r["cpu_us_per_event"] for r in http["runs"]} if http and "skipped" not in http else {}
    bursts = [r for r in prov["runs"] if r["mode"] == "burst" and r["accepted_batch"]] if prov else []
    return {
        "case_list_p95_ms": pages and pages["case_list"]["p95_ms"],
        "case_detail_p95_ms": pages and pages["case_detail"]["p95_ms"],
        "catalog_search_p95_ms": pages and pages["catalog_search"]["p95_ms"],
        "intake_p95_ms": pages and pages["intake"]["p95_ms"],
        "receipt_a4_warm_ms": paper and paper["receipt_a4_warm_ms_p95"],
        "receipt_a4_kb": paper and round(paper["receipt_a4_bytes"] / 1024, 1),
        "sync_events_per_s": sync and sync["events_per_s"],
        "sync_vs_naive": sync and sync["vs_naive"],
        "sync_vs_ceiling": sync and sync["vs_ceiling"],
        "sync_bytes_per_event": sync and sync["bytes_per_event"],
        "thin_link_s": thin and thin["seconds"],
        "hub_exactly_once": hub["exactly_once"] and (hub.get("spread") or {}).get("exactly_once", True)
        if hub_ok else None,
        "hub_batch_p95_ms": hub["batch"]["p95_ms"] if hub_ok and hub["batch"] else None,
        "hub_events_per_s": hub["events_per_s"] if hub_ok else None,
        "hub_spread_batch_p95_ms": hub["spread"]["batch"]["p95_ms"] if hub_ok and hub.get("spread") else None,
        "province_cpu_us_per_event": prov and prov["cpu_us_per_event_worst"],
        "province_exactly_once": prov and prov["exactly_once"],
        "province_rollup_exact": prov and prov["rollup_exact"],
        "province_burst_p95_ms": bursts[-1]["accepted_batch"]["p95_ms"] if bursts else None,
        "province_burst_as_sent_cpu_us": prov and prov.get("burst_as_stations_batch_cpu_us_worst"),
        "province_outage_drain_cores": prov and prov["province"] and prov["province"]["outage_drain_cores"],
        "ingest_cpu_us_per_event_30": ingest_runs.get(30),
        "ingest_cpu_us_per_event_100": ingest_runs.get(100),
        "ingest_cpu_host_speed_ms": ingest["host_speed_ms"][0] if ingest_runs else None,
        "ingest_cpu_python_speed_ms": ingest["python_speed_ms"][0] if ingest_runs else None,
        "ingest_http_us_per_event_1": http_runs.get(1),
        "ingest_http_us_per_event_4": http_runs.get(4),
        "api_overhead_time_us": overhead and overhead["time_us"],
        "api_overhead_busy_503_us": overhead and overhead["busy_503_us"],
        "api_overhead_waitress_us": overhead and overhead["waitress"]["time_us"],
        "station_rss_mb": pages and pages["rss_mb"],
        "station_rss_printed_mb": pages and pages["rss_after_receipts_mb"],
        "county_statistics_p95_ms": county.get("p95_ms") if county else None,
        "county_statistics_cold_p95_ms": county.get("cold_p95_ms") if county else None,
        "county_dashboard_p95_ms": county.get("dashboard_p95_ms") if county else None,
        "county_dashboard_cold_p95_ms": county.get("dashboard_cold_p95_ms") if county else None,
        "station_ledger_xlsx_s": ledger and ledger["seconds"],
        "cold_start_s": pages and pages["cold_start_s"],
    }


def _table(figures: dict[str, dict[str, Any]]) -> str:
    lines = [f"{'figure':<48} {'value':>12} {'target':>12}  result", "-" * 84]
    for fig in figures.values():
        value = fig["value"]
        shown = "—" if value is None else (f"{value:g}" if isinstance(value, (int, float)) and not isinstance(value, bool)
                                           else str(value))
        target = "" if fig["target"] is None else f"{fig['comparison']} {fig['target']:g}" if not isinstance(
            fig["target"], bool) else str(fig["target"])
        verdict = {True: "pass", False: "MISS", None: ""}[fig["pass"]]
        lines.append(f"{fig['label']:<48} {shown:>9} {fig['unit']:<3}{target:>11}  {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes; finishes in under 3 minutes")
    parser.add_argument("--json", help="write the JSON object to this file")
    parser.add_argument("--only", nargs="*", choices=["receipt", "station_pages", "sync", "thin_link", "hub_load",
                                                     "province", "ingest_cpu", "ingest_http", "api_overhead",
                                                     "county_statistics", "station_ledger"],
                        help="run only these benchmarks")
    parser.add_argument("--keep", help="keep the data in this folder instead of a temporary one")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    mode = "quick" if args.quick else "full"
    sizes = SIZES[mode]
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    wanted = set(args.only or ["receipt", "station_pages", "sync", "thin_link", "hub_load", "province",
                               "ingest_cpu", "ingest_http", "api_overhead", "county_statistics",
                               "station_ledger"])

    from bench import (
        api_overhead,
        hub_load,
        ingest_cpu,
        numbers_bench,
        printouts_bench,
        province,
        station_pages,
        sync_bench,
    )

    plan: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("receipt", lambda: printouts_bench.run(quick=args.quick)),
        ("station_pages", lambda: station_pages.run(workdir, sizes["station_cases"], sizes["page_samples"],
                                                    sizes["intakes"])),
        ("sync", lambda: sync_bench.run(workdir, sizes["sync_cases"], sizes["naive_events"])),
        ("thin_link", lambda: sync_bench.thin_link(workdir, sizes["thin_link_cases"])),
        ("hub_load", lambda: hub_load.run_both(workdir, sizes["hub_stations"], sizes["hub_cases_per_station"],
                                               sizes["hub_workers"], sizes["hub_threads"], sizes["hub_spread_s"])),
        ("province", lambda: province.run(workdir / "province", sizes["province_stations"],
                                          sizes["province_cases_per_station"], tuple(sizes["province_processes"]),
                                          sizes["province_window_s"])),
        ("ingest_cpu", lambda: ingest_cpu.run(workdir / "ingest-cpu", sizes["ingest_stations"],
                                              sizes["ingest_cases_per_station"],
                                              repeats=sizes["ingest_repeats"])),
        ("ingest_http", lambda: ingest_cpu.over_http(workdir / "ingest-http", sizes["ingest_stations"],
                                                     sizes["ingest_cases_per_station"])),
        ("api_overhead", lambda: api_overhead.run(workdir, sizes["api_requests"])),
        ("county_statistics", lambda: numbers_bench.county_statistics(
            workdir, sizes["numbers_stations"], sizes["numbers_cases_per_station"], sizes["numbers_samples"])),
        ("station_ledger", lambda: numbers_bench.station_ledger(workdir, sizes["ledger_cases"])),
    ]
    details: dict[str, Any] = {}
    errors: dict[str, str] = {}
    started = time.perf_counter()
    for name, fn in plan:
        if name in wanted:
            _step(name, fn, details, errors)
    values = _figures(details)
    figures = {}
    for name, (label, unit, target, op) in TARGETS.items():
        if not any(name.startswith(prefix) for prefix in _prefixes(wanted)):
            continue
        figures[name] = {"label": label, "value": values[name], "unit": unit, "target": target,
                         "comparison": op, "pass": _passes(values[name], target, op)}
    result = {
        "mode": mode,
        "sizes": sizes,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "seconds": round(time.perf_counter() - started, 1),
        "figures": figures,
        "details": details,
        "errors": errors,
    }
    print(_table(figures))
    print(f"\n{mode} run, {result['seconds']} s; sizes: {json.dumps(sizes)}")
    if errors:
        print("errors: " + json.dumps(errors, ensure_ascii=False), file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if errors else 0


def _prefixes(wanted: set[str]) -> list[str]:
    prefixes = {"receipt": ["receipt"], "station_pages": ["case_", "catalog_", "intake", "station_rss", "cold_start"],
                "sync": ["sync_"], "thin_link": ["thin_link"], "hub_load": ["hub_"],
                "province": ["province_"], "ingest_cpu": ["ingest_cpu"], "ingest_http": ["ingest_http"],
                "api_overhead": ["api_overhead"], "county_statistics": ["county_statistics", "county_dashboard"],
                "station_ledger": ["station_ledger"]}
    return [p for name in wanted for p in prefixes[name]]


if __name__ == "__main__":
    sys.exit(main())
