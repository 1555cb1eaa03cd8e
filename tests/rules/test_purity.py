"""The shared rules stand alone: importing them pulls in no web framework, no database and no app."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_rules_loads_no_flask_peewee_station_sync_or_printouts():
    probe = ("import sys, rules.privacy, rules.catalog_format, rules.labels, rules.events; "
             "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=True)
    loaded = set(done.stdout.split())
    assert "rules" in loaded
    assert not loaded & {"flask", "peewee", "jinja2", "station", "sync", "printouts", "reportlab"}, loaded
