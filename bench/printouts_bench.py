"""How long a receipt takes to print and how big it is (target: < 30 ms warm, < 60 KB, A4, embedded font).

    python -m bench.printouts_bench [--quick]

"Warm" means the font is registered and styles are built (the station does that once at
start); each timed A4 render is a different case (new case number and query code, so a new
QR), as at a busy counter. The roll render that follows reuses that case's QR matrix, as a
reprint or print-after-preview does.
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time
from datetime import date

from bench.common import percentile
from printouts import collection_receipt, ledger
from printouts.fonts import cjk_font
from printouts.samples import sample_case, sample_ledger_rows, sample_station


def run(quick: bool = False) -> dict[str, object]:
    """Measure warm A4 and roll receipt renders; also one 500-row ledger unless quick."""
    n = 15 if quick else 100
    station = sample_station()
    font = cjk_font()
    collection_receipt(station, sample_case())  # warm-up: font tables parsed, styles cached
    collection_receipt(station, sample_case(), layout="roll80")
    gc.freeze()  # as `python -m station run` does once it has started (station/serving.py serve)
    a4: list[float] = []
    a4_cpu: list[float] = []
    roll: list[float] = []
    size = roll_size = 0
    for i in range(n):
        case = sample_case(case_no=f"14010510020120250305-{i:04d}", query_code=f"K7Q4-{i:04d}")
        c0, t0 = time.process_time(), time.perf_counter()
        pdf = collection_receipt(station, case)
        t1, c1 = time.perf_counter(), time.process_time()
        roll_pdf = collection_receipt(station, case, layout="roll80")
        t2 = time.perf_counter()
        a4.append((t1 - t0) * 1000)
        a4_cpu.append((c1 - c0) * 1000)
        roll.append((t2 - t1) * 1000)
        size, roll_size = max(size, len(pdf)), max(roll_size, len(roll_pdf))
    result: dict[str, object] = {
        "receipt_a4_warm_ms_p50": round(statistics.median(a4), 2),
        "receipt_a4_warm_ms_p95": round(percentile(a4, 0.95), 2),
        # CPU time of this process: steadier than wall time on a shared CI box.
        "receipt_a4_cpu_ms_p50": round(statistics.median(a4_cpu), 2),
        "receipt_a4_bytes": size,
        "receipt_roll80_warm_ms_p50": round(statistics.median(roll), 2),
        "receipt_roll80_bytes": roll_size,
        "renders": n,
        "font": font.describe(),
        "font_embedded": font.embedded,
        "target_ms": 30,
        "target_bytes": 60 * 1024,
    }
    if not quick:
        rows = sample_ledger_rows(500)
        t0 = time.perf_counter()
        pdf = ledger(station, date(2025, 3, 5), rows)
        result["ledger_500_rows_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        result["ledger_500_rows_bytes"] = len(pdf)
    return result


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), ensure_ascii=False, indent=2))
