"""A database a newer release upgraded is refused at start, with a Chinese message and nothing changed."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from station import create_app
from station.migrate import DatabaseNewer
from tests.fixtures.config import station_test_config

ROOT = Path(__file__).resolve().parents[2]
FUTURE = "9999_from_a_newer_release"


def _fingerprint(folder: Path) -> dict[str, str]:
    """Every file's digest; SQLite's empty -wal/-shm companions (made by merely opening) left out."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
            if p.is_file() and not (p.name.endswith(("-wal", "-shm")) and p.stat().st_size in (0, 32768))}


@pytest.fixture
def newer_database(tmp_path: Path) -> Path:
    """An instance whose database a newer release migrated (a migration this software lacks)."""
    instance = tmp_path / "instance"
    done = subprocess.run([sys.executable, "-m", "station", "--instance", str(instance), "init",
                           "--code", "ST141081102201"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    con = sqlite3.connect(instance / "station.sqlite3")
    with con:
        con.execute("INSERT INTO schema_migration (name, applied) VALUES (?, '2027-03-01 09:00:00')", (FUTURE,))
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return instance


def test_the_app_refuses_a_database_from_a_newer_release_and_changes_nothing(newer_database: Path):
    before = _fingerprint(newer_database)
    with pytest.raises(DatabaseNewer) as refused:
        create_app(station_test_config(newer_database), instance_path=str(newer_database))
    assert FUTURE in refused.value.message and "没有任何改动" in refused.value.message
    assert _fingerprint(newer_database) == before  # no copy, no migration, no new file


def test_start_says_so_in_chinese_on_a_gbk_console_without_a_traceback(newer_database: Path):
    before = _fingerprint(newer_database)
    env = {"PYTHONIOENCODING": "gbk", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "station", "--instance", str(newer_database), "run",
                           "--port", "1"], cwd=ROOT, capture_output=True, env=env, timeout=120)
    assert done.returncode == 1
    said = done.stderr.decode("gbk")
    assert "较新版本" in said and "Traceback" not in said
    assert _fingerprint(newer_database) == before
