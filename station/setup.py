"""Set a station up: database created or upgraded, holidays seeded, a catalog loaded.

Shared by `python -m station init`, the demo and the test and benchmark fixtures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Flask

from station.catalog_data import load_demo_catalog
from station.extensions import db
from station.migrate import schema_version
from station.models import CatalogVersion
from station.services import calendar, catalog, station_info


def initialise(app: Flask, profile: dict[str, str] | None = None, catalog_path: str | None = None,
               demo_catalog: bool = False) -> dict[str, Any]:
    """Create or upgrade the database (create_app already migrated), seed holidays, load a catalog."""
    with app.app_context(), db.connection_context():
        seeded = calendar.seed_holidays()
        if profile:
            station_info.update_profile(**{k: v for k, v in profile.items() if v})
        loaded = None
        if catalog_path:
            loaded = catalog.import_catalog(json.loads(Path(catalog_path).read_text(encoding="utf-8")), "file").version
        elif demo_catalog and CatalogVersion.current() is None:
            loaded = catalog.import_catalog(load_demo_catalog(), "demo").version
        return {"schema": schema_version(db.obj), "holidays": seeded, "catalog": loaded}
