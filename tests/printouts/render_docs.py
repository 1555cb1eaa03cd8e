"""Write a PNG of every document's first page to docs/printouts/, so reviewers see them without running anything.

    python -m tests.printouts.render_docs [outdir]

Uses the sample data (printouts.samples) and the font this machine would choose; needs
pdftoppm (poppler-utils). 60 dpi greyscale keeps each PNG well under 150 KB.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from printouts import PRINTABLE_DOCUMENTS, cjk_font, ledger, transfer_sheet
from printouts.samples import sample_case, sample_ledger_rows, sample_station, sample_transfer

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "docs" / "printouts"


def sample_month_rows() -> list:
    """A month's ledger rows: the day's sample spread over March."""
    from dataclasses import replace
    from datetime import timedelta

    rows = [replace(r, received_at=r.received_at + timedelta(days=i % 27)) for i, r in enumerate(sample_ledger_rows(90))]
    return sorted(rows, key=lambda r: r.received_at)


def documents() -> dict[str, Callable[[], bytes]]:
    """Every printable document built from the sample data, by file stem."""
    station, case = sample_station(), sample_case()
    docs: dict[str, Callable[[], bytes]] = {
        key: (lambda doc=doc: doc.build(station, case)) for key, doc in PRINTABLE_DOCUMENTS.items()
    }
    docs["receipt_accepted"] = lambda: PRINTABLE_DOCUMENTS["receipt"].build(
        station, sample_case(decision="accepted", mode="assisted", statutory_provisional=True, committed_provisional=True,
                             deadline_warning="2027年节假日数据缺失，仅按周末计算"))
    docs["rejection"] = lambda: PRINTABLE_DOCUMENTS["rejection"].build(
        station, sample_case(rejected_at=datetime(2025, 3, 10, 9, 0), result=None,
                             rejected_reason="申请人已领取城镇职工基本养老保险待遇，不符合城乡居民基本养老保险待遇申领条件。"))
    docs["transfer"] = lambda: transfer_sheet(station, sample_transfer())
    docs["ledger"] = lambda: ledger(station, date(2025, 3, 5), sample_ledger_rows(60))
    docs["ledger_month"] = lambda: ledger(station, date(2025, 3, 1), sample_month_rows(), date(2025, 3, 31))
    return docs


def render(out: Path = DEFAULT_OUT, dpi: int = 60) -> list[Path]:
    """Render the first page of each document to ``out/<name>.png``."""
    exe = shutil.which("pdftoppm")
    if exe is None:
        raise SystemExit("pdftoppm not found: apt-get install poppler-utils")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, build in documents().items():
            pdf = Path(tmp) / f"{name}.pdf"
            pdf.write_bytes(build())
            stem = out / name
            subprocess.run([exe, "-r", str(dpi), "-png", "-gray", "-f", "1", "-l", "1", "-singlefile",
                            str(pdf), str(stem)], check=True, timeout=120)
            written.append(stem.with_suffix(".png"))
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    print(f"font: {cjk_font().describe()}")
    for path in render(target):
        print(f"{path}  {path.stat().st_size // 1024} KB")
