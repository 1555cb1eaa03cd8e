"""What a station holds in memory from its start: libraries only some pages need are loaded by those pages.

A village PC often has 4 GB shared with a browser and a printer driver; the station's resident
memory after warm-up is a benchmark target (docs/benchmarks.md). openpyxl (~11 MB resident) is
needed only to export a ledger as .xlsx.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LOADED_AT_START = """
import sys
from station import create_app
print(",".join(sorted(m for m in ("openpyxl", "pypinyin") if m in sys.modules)))
"""


def test_the_station_starts_without_the_spreadsheet_and_pinyin_libraries() -> None:
    loaded = subprocess.run([sys.executable, "-c", LOADED_AT_START], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == ""


SEARCHED_IN_CHINESE = """
import json, sys
from pathlib import Path
from station import create_app
from tests.fixtures.config import station_test_config
from tests.fixtures.station import StationClient
folder = Path(sys.argv[1])
app = create_app(station_test_config(folder), instance_path=str(folder / "instance"))
agent = StationClient(app.test_client()).login("agent")
found = {q: [hit["name"] for hit in agent.get("/catalog/search.json?q=" + q).get_json()["results"]]
         for q in sys.argv[2:]}
print(json.dumps({"found": found, "pypinyin": "pypinyin" in sys.modules}, ensure_ascii=False))
"""


def test_a_chinese_search_that_finds_items_leaves_pinyin_unloaded_and_ranks_as_before(app, tmp_path: Path) -> None:
    """pypinyin costs the station ~54 MB; a query typed in Chinese that matches as text needs none of it.

    低保 finds a single item and 高龄 two: the agent typed them right, so no homophone is looked for.
    """
    queries = ["养老", "低保", "高龄"]
    run = subprocess.run([sys.executable, "-c", SEARCHED_IN_CHINESE, str(tmp_path), *queries],
                         capture_output=True, text=True, check=True, cwd=Path(__file__).parents[2])
    result = json.loads(run.stdout)
    assert result["found"] == {
        "养老": ["城乡居民养老保险待遇申领", "城乡居民养老保险关系转移", "城乡居民基本养老保险参保登记",
               "城乡居民养老保险缴费档次变更", "职工退休申请（基本养老保险待遇核定）", "退休一件事",
               "残疾人服务一件事", "老年人福利一件事", "灵活就业人员参保登记"],
        "低保": ["最低生活保障申请"],
        "高龄": ["高龄津贴申领", "老年人福利一件事"],
    }
    assert result["pypinyin"] is False


def test_a_ledger_exported_as_xlsx_still_opens_as_a_workbook() -> None:
    from printouts.ledger_files import ledger_xlsx

    data = ledger_xlsx("2026年11月 台账", [])
    assert data[:2] == b"PK"  # a zip container: the .xlsx the county opens
