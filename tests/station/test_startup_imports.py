"""What a station holds in memory from its start: libraries only some pages need are loaded by those pages.

A village PC often has 4 GB shared with a browser and a printer driver; the station's resident
memory after warm-up is a benchmark target (docs/benchmarks.md). openpyxl (~11 MB resident) is
needed only to export a ledger as .xlsx.
"""

from __future__ import annotations

import subprocess
import sys

LOADED_AT_START = """
import sys
from station import create_app
print(",".join(sorted(m for m in ("openpyxl", "pypinyin") if m in sys.modules)))
"""


def test_the_station_starts_without_the_spreadsheet_and_pinyin_libraries() -> None:
    loaded = subprocess.run([sys.executable, "-c", LOADED_AT_START], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == ""


def test_a_ledger_exported_as_xlsx_still_opens_as_a_workbook() -> None:
    from printouts.ledger_files import ledger_xlsx

    data = ledger_xlsx("2026年11月 台账", [])
    assert data[:2] == b"PK"  # a zip container: the .xlsx the county opens
