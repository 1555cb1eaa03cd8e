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
            _check_kind(prefix + name, raw, default, found[name])
    return found


class SettingInvalid(Exception):
    """A variable whose value is not of its setting's kind (``STATION_BACKUP_HOUR=abc``); ``message`` in Chinese.

    Refused when the settings are read: the wrong kind otherwise surfaced later as a traceback
    (the daily backup's hour at ``run``), or a text ``"false"`` read as true.
    """

    def __init__(self, variable: str, raw: str, kind: str, default: Any) -> None:
        shown = json.dumps(default) if isinstance(default, bool) else default
        self.message = (f"环境变量 {variable} 的值“{raw}”不是{kind}（默认值 {shown}）。"
                        f"请改正或删去这个环境变量后再执行。")
        super().__init__(self.message)


def _check_kind(variable: str, raw: str, default: Any, value: Any) -> None:
    """Booleans must be true/false, whole numbers whole numbers, numbers numbers."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise SettingInvalid(variable, raw, "true 或 false", default)
    elif isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingInvalid(variable, raw, "整数", default)
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingInvalid(variable, raw, "数字", default)
