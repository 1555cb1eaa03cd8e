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
from station.services.errors import DomainError


def read_catalog_file(path: str) -> Any:
    """The catalog JSON file the county handed out; a missing or unreadable file is said in Chinese."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DomainError(f"找不到事项目录文件 {path}。") from exc
    except OSError as exc:
        raise DomainError(f"无法读取事项目录文件 {path}。") from exc
    except (UnicodeDecodeError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
        raise DomainError(f"{path} 不是事项目录文件（应为县级平台下发的 UTF-8 编码 JSON 文件）。") from exc


def initialise(app: Flask, profile: dict[str, str] | None = None, catalog_path: str | None = None,
               demo_catalog: bool = False, change_level: bool = False) -> dict[str, Any]:
    """Create or upgrade the database (create_app already migrated), seed holidays, load a catalog.

    A level other than the station's own is refused (DomainError, nothing written) once it holds
    cases, unless ``change_level``: see :func:`station_info.level_change_refusal`.
    """
    with app.app_context(), db.connection_context():
        if profile and profile.get("level") and not change_level:
            refusal = station_info.level_change_refusal(profile["level"])
            if refusal:
                raise DomainError(refusal)
        seeded = calendar.seed_holidays()
        if profile:
            station_info.update_profile(change_level=change_level, **{k: v for k, v in profile.items() if v})
        loaded = None
        if catalog_path:
            loaded = catalog.import_catalog(read_catalog_file(catalog_path), "file").version
        elif demo_catalog and CatalogVersion.current() is None:
            loaded = catalog.import_catalog(load_demo_catalog(), "demo").version
        return {"schema": schema_version(db.obj), "holidays": seeded, "catalog": loaded}
