"""The demo service catalog (事项目录) shipped with the app, used by the station and the hub demo.

Its shape is the catalog file format, checked by :func:`rules.catalog_format.validate_catalog`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DEMO_CATALOG_PATH: Path = Path(__file__).with_name("demo_catalog.json")


def load_demo_catalog() -> dict[str, Any]:
    """Load the shipped demo catalog (fresh dict each call, so callers may mutate it)."""
    with DEMO_CATALOG_PATH.open(encoding="utf-8") as f:
        return json.load(f)
