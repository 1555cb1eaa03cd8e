"""Settings from the environment, only those a Config class defines.

Flask's ``from_prefixed_env`` copies every prefixed variable into ``app.config``; on a station
that put CLI inputs (the hub secret, a new password) there too. Both apps read their variables
here instead, by the names their Config defines.
"""

from __future__ import annotations

import errno
import importlib
import json
import os
import re
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
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
        elif isinstance(default, bool):  # "0", "否", "no" are false too; a word that is neither is refused
            found[name] = yes_or_no(raw)
            if found[name] is None:
                raise SettingInvalid(prefix + name, raw, BOOLEAN_WORDS, default)
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
        if isinstance(default, bool):
            shown: Any = json.dumps(default)
        elif isinstance(default, Mapping | tuple | list):  # as it would be written: JSON, not Python's repr
            shown = json.dumps(dict(default) if isinstance(default, Mapping) else list(default), ensure_ascii=False)
        else:
            shown = default
        self.message = (f"环境变量 {variable} 的值“{raw}”不是{kind}（默认值 {shown}）。"
                        f"请改正或删去这个环境变量后再执行。")
        super().__init__(self.message)


#: How a yes-or-no setting may be written, in a variable or as text in the settings file.
TRUE_WORDS = frozenset({"true", "1", "yes", "y", "on", "是"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "off", "否", ""})
BOOLEAN_WORDS = "true 或 false（也可写 1/0、是/否、yes/no）"


def yes_or_no(value: Any) -> bool | None:
    """A yes-or-no setting's value as a bool, or None when it is neither.

    Written as text (``SESSION_COOKIE_SECURE = "false"`` in config.py, ``STATION_…=否``) it read as
    true: any non-empty string is. 1 and 0 count as numbers too.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None
    return None


def _file_line(folder: str, name: str) -> str:
    """A setting's line in the instance folder's config.py, as a refusal names it."""
    return f"设置文件 {os.path.join(folder, 'config.py')} 中 {name} "


def _origin(name: str, prefix: str, folder: str, environ: Mapping[str, str], value: Any) -> tuple[str, str, str]:
    """Where a refused setting came from, as (where, the value as written, what to do): its variable
    ``<prefix><NAME>`` when set (it wins over the file), else config.py's line."""
    if prefix + name in environ:
        return f"环境变量 {prefix}{name} ", environ[prefix + name], "请改正或删去这个环境变量后再执行。"
    return _file_line(folder, name), str(value), "请改正该文件中的这一行后再执行。"


def check_booleans(config: dict[str, Any], config_class: type, prefix: str, folder: str,
                   environ: Mapping[str, str] | None = None) -> None:
    """Store each yes-or-no setting ``config_class`` defines as a bool; refuse (:class:`SettingUnusable`) a
    value that is neither, named with where it came from, before anything is created or served."""
    environ = os.environ if environ is None else environ
    for name in dir(config_class):
        if not name.isupper() or not isinstance(getattr(config_class, name), bool) or name not in config:
            continue
        value = yes_or_no(config[name])
        if value is None:
            where, shown, remedy = _origin(name, prefix, folder, environ, config[name])
            raise SettingUnusable(where, shown, f"应为{BOOLEAN_WORDS}", remedy)
        config[name] = value


def _check_kind(variable: str, raw: str, default: Any, value: Any) -> None:
    """Whole numbers must be whole numbers, numbers numbers, lists and tables JSON ones (yes-or-no settings:
    yes_or_no).

    A table written as text that is not JSON (HUB_LICENCE_ISSUING_ITEMS with a quote lost to the shell)
    was kept as that text, and the hub failed on it at the first approved 办结 of any item.
    """
    if isinstance(default, Mapping):
        if not isinstance(value, dict):
            raise SettingInvalid(variable, raw, '以 JSON 写的对照表（形如 {"键": 值}）', default)
    elif isinstance(default, tuple | list):
        if not isinstance(value, list):
            raise SettingInvalid(variable, raw, '以 JSON 写的列表（形如 ["甲", "乙"]）', default)
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


@dataclass(frozen=True)
class Allowed:
    """The values a number setting may take: from ``low`` to ``high`` (None: no bound), whole or not.

    ``blank``: None (or an empty variable) is allowed too, as for a setting whose default is None.
    """

    low: float | None = None
    high: float | None = None
    whole: bool = True
    blank: bool = False

    def words(self) -> str:
        """The range as the operator reads it: 0 到 23 之间的整数."""
        kind = "整数" if self.whole else "数"
        if self.low is not None and self.high is not None:
            text = f"{self.low} 到 {self.high} 之间的{kind}"
        elif self.low is not None:
            text = f"不小于 {self.low} 的{kind}"
        elif self.high is not None:
            text = f"不大于 {self.high} 的{kind}"
        else:
            text = kind
        return text + ("，或不设" if self.blank else "")

    def take(self, value: Any) -> tuple[bool, Any]:
        """(fits, the value as a number): text from a variable or the settings file is read as JSON."""
        if isinstance(value, str):
            if not value.strip():
                return self.blank, None
            try:
                value = json.loads(value)
            except ValueError:
                return False, value
        if value is None:
            return self.blank, None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False, value
        if self.whole and not isinstance(value, int):
            return False, value
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            return False, value
        return True, value


class SettingOutOfRange(SettingInvalid):
    """A number setting outside what it may be (``STATION_BACKUP_HOUR=25``); ``message`` in Chinese.

    Refused when the settings are read: the value otherwise surfaced later as a traceback (the
    daily backup's cron trigger at ``run``) or as a limit that refused everything.
    """

    def __init__(self, where: str, shown: str, allowed: Allowed, default: Any, remedy: str) -> None:
        words = allowed.words()
        self.message = (f"{where}的值“{shown}”不可用：应为{' ' if words[0].isdigit() else ''}{words}（默认值 "
                        f"{'不设' if default is None else default}）。{remedy}")
        Exception.__init__(self, self.message)


def check_ranges(config: dict[str, Any], allowed: Mapping[str, Allowed], config_class: type, prefix: str,
                 folder: str, environ: Mapping[str, str] | None = None) -> None:
    """Refuse (:class:`SettingOutOfRange`) the first setting outside its range; store the others as numbers.

    Run after the settings file and the variables are read, so a value from either is named with
    where it came from, before anything is created or served.
    """
    environ = os.environ if environ is None else environ
    for name, rule in allowed.items():
        if name not in config:
            continue
        fits, value = rule.take(config[name])
        if fits:
            config[name] = value
            continue
        where, shown, remedy = _origin(name, prefix, folder, environ, config[name])
        raise SettingOutOfRange(where, shown, rule, getattr(config_class, name, None), remedy)


class SettingUnusable(SettingInvalid):
    """A text setting that cannot work (a factory path that does not import, a bad address); ``message`` in Chinese."""

    def __init__(self, where: str, shown: str, why: str, remedy: str) -> None:
        self.message = f"{where}的值“{shown}”不可用：{why.rstrip('。')}。{remedy}"
        Exception.__init__(self, self.message)


#: Flask's own switches for development and the test suite; Flask reads DEBUG from FLASK_DEBUG itself.
DEVELOPMENT_SWITCHES = ("DEBUG", "TESTING")


def _assigned_in_file(folder: str, name: str) -> bool:
    """Whether the instance folder's config.py has a line ``NAME = …`` (it overrides FLASK_DEBUG)."""
    try:
        with open(os.path.join(folder, "config.py"), encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return False
    return re.search(rf"^\s*{name}\s*=", text, re.MULTILINE) is not None


def check_serving(config: MutableMapping[str, Any], folder: str, environ: Mapping[str, str] | None = None) -> None:
    """Refuse (:class:`SettingUnusable`) to serve with Flask's DEBUG or TESTING on, named with where it came from.

    ``run`` serves with waitress, which never shows the Werkzeug debugger; what these switches did
    there was take the hub's error pages away: an unexpected error answered waitress's bare English
    "Internal Server Error", without the safety headers. Only ``run`` asks; the other commands
    serve nothing.
    """
    environ = os.environ if environ is None else environ
    for name in DEVELOPMENT_SWITCHES:
        value = config.get(name)
        if yes_or_no(value if value is not None else False) is False:
            config[name] = False  # "false" written as text: Flask would take the non-empty text for on
            continue
        why = f"正式运行（run）时不能打开 Flask 的{'调试' if name == 'DEBUG' else '测试'}模式（{name}），它只用于开发和自动测试"
        if _assigned_in_file(folder, name):
            raise SettingUnusable(_file_line(folder, name), str(value), why,
                                  f"请删去该文件中的这一行（或改为 {name} = False）后再执行。")
        if name == "DEBUG" and "FLASK_DEBUG" in environ:
            raise SettingUnusable("环境变量 FLASK_DEBUG ", environ["FLASK_DEBUG"], why,
                                  "请删去这个环境变量（或设为 0）后再执行。")
        raise SettingUnusable(f"设置 {name} ", str(value), why, f"请把 {name} 改为 False 后再执行。")


def factory_problem(value: Any) -> str | None:
    """Why ``module:factory`` names nothing callable, else None (SMS_SENDER, HUB_PLATFORM).

    Imported when the settings are read: a mistyped path was a traceback at start, or a 500 on
    the page that first used it.
    """
    module_name, colon, attr = str(value or "").partition(":")
    if not module_name or not colon or not attr:
        return "应写成“模块:工厂函数”，例如默认值"
    try:
        factory = getattr(importlib.import_module(module_name), attr, None)
    except Exception as exc:  # noqa: BLE001 - any failure to import is the operator's path to fix
        return f"无法导入模块 {module_name}（{type(exc).__name__}: {exc}）"
    return None if callable(factory) else f"模块 {module_name} 中没有 {attr}"


def same_site_problem(value: Any) -> str | None:
    """Why ``SESSION_COOKIE_SAMESITE`` cannot work, else None (SESSION_COOKIE_SAMESITE=abc, or None).

    Werkzeug raises ValueError for any other word when it sets a cookie: every page, the login
    page first, answered 500. ``None`` drops the cookie on a plain http:// address in today's
    browsers (nobody could log in) and sends it with other sites' requests.
    """
    if isinstance(value, str) and value.title() in ("Lax", "Strict"):
        return None
    return "应为 Lax 或 Strict（默认 Lax；写成其他的值时，每个页面都会出错或无法登录）"


def check_texts(config: dict[str, Any], problems: Mapping[str, Callable[[Any], str | None]], config_class: type,
                prefix: str, folder: str, environ: Mapping[str, str] | None = None) -> None:
    """Refuse (:class:`SettingUnusable`) the first text setting whose check names a problem."""
    environ = os.environ if environ is None else environ
    for name, problem_of in problems.items():
        problem = problem_of(config.get(name))
        if problem is None:
            continue
        if problem.endswith("例如默认值"):
            problem += f" {getattr(config_class, name, '')}"
        where, shown, remedy = _origin(name, prefix, folder, environ, config.get(name))
        raise SettingUnusable(where, shown, problem, remedy)


def not_a_folder(exc: OSError, settings: str) -> str:
    """What to say when a folder path (the instance, or a file's folder) names an existing file.

    Both command lines showed makedirs' FileExistsError traceback for an --instance or
    HUB_INSTANCE_PATH typed onto a file; ``settings`` names where such a path comes from.
    """
    what = ("是一个文件，不能用作文件夹" if isinstance(exc, FileExistsError)
            else "的上级路径中有一个是文件，不是文件夹")
    return f"未能执行：{exc.filename} {what}。请检查 {settings}是否写错。没有做任何改动。"


def cannot_make(exc: OSError, settings: str) -> str:
    """What to say when the instance folder (or a file in it) cannot be made: a drive that is not there.

    ``--instance E:\\便民服务站`` with the stick not plugged in, or a read-only disk, was makedirs'
    FileNotFoundError / PermissionError traceback on both command lines.
    """
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        why = "所在的盘或上级文件夹不存在（U盘或移动硬盘未插好？盘符或路径写错？）"
    elif exc.errno == errno.EISDIR:  # KEY_FILE or DATABASE naming a folder: was the system's English words
        why = "是一个文件夹，不能用作文件（KEY_FILE、DATABASE 等设置应写到文件名）"
    elif exc.errno == errno.ENOSPC:
        why = "空间已满"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "没有写入权限（只读的盘或文件夹？）"
    else:
        why = f"系统错误 {exc.errno or ''}（{exc.strerror or exc}）"
    return f"未能执行：无法建立或写入 {exc.filename or '实例文件夹'}：{why}。请检查 {settings}是否写错。没有做任何改动。"
