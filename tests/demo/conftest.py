"""One demo month made by the real command, shared by the tests that read it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m station demo --no-serve --dir DIR --cases 120`, run once, as a newcomer would."""
    base = tmp_path_factory.mktemp("demo") / "demo-data"
    done = subprocess.run([sys.executable, "-m", "station", "demo", "--no-serve", "--dir", str(base), "--cases", "120"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    (base / "stdout.txt").write_text(done.stdout, encoding="utf-8")
    return base
