"""Settings from the environment, only those a Config class defines.

Flask's ``from_prefixed_env`` copies every prefixed variable into ``app.config``; on a station
that put CLI inputs (the hub secret, a new password) there too. Both apps read their variables
here instead, by the names their Config defines.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any


def defined_settings(config_class: type, prefix: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``<prefix><NAME>`` for each upper-case setting of ``config_class`` (``STATION_DATABASE`` → ``DATABASE``).

    Text (or unset) settings are taken as written, so a secret of digits stays text; others are
    parsed as Flask's ``from_prefixed_env`` parses them (JSON, else the text). Any other variable
    is left alone.
    """
    environ = os.environ if environ is None else environ
    found: dict[str, Any] = {}
    for name in dir(config_class):
        if not name.isupper() or prefix + name not in environ:
            continue
        raw = environ[prefix + name]
        default = getattr(config_class, name)
        if default is None or isinstance(default, str):
            found[name] = raw
        else:
            try:
                found[name] = json.loads(raw)
            except ValueError:
                found[name] = raw
    return found
