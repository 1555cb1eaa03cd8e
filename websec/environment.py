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

from flask import Config


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


class SettingsFileInvalid(SettingInvalid):
    """The instance folder's ``config.py`` does not run (a quote left open, a misspelt name); ``message`` in Chinese."""

    def __init__(self, path: str, exc: BaseException) -> None:
        line = getattr(exc, "lineno", None)
        where = f"第 {line} 行" if line else ""
        self.message = (f"设置文件 {path} {where}有误（{type(exc).__name__}: {getattr(exc, 'msg', None) or exc}）。"
                        "请改正该文件（每行形如 NAME = \"值\"）或把它移走后再执行。")
        Exception.__init__(self, self.message)


def read_settings_file(config: Config, folder: str) -> None:
    """Apply ``folder/config.py`` when there is one (the operator's settings, Python as Flask reads them).

    A file that does not run raises :class:`SettingsFileInvalid`: the operator who edited it read a
    Flask traceback ending in SyntaxError instead of which file and line to fix.
    """
    path = os.path.join(folder, "config.py")
    if not os.path.isfile(path):
        return
    try:
        config.from_pyfile(path)
    except Exception as exc:  # whatever the file's code raised: the operator's to fix, named with its line
        raise SettingsFileInvalid(path, exc) from exc
