"""The station's own list of villages (本站村（社区）列表), set by the station admin (issue 19 item 8).

An agent picks the applicant's village from this list instead of typing a 12-digit 统计用区划代码
from memory. Kept in one setting row of its own (``villages``), so other station settings can grow
without touching it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from station.models import Setting
from station.services.errors import ValidationFailed
from station.services.identity import IdentityError, check_area_code

SETTING_KEY = "villages"
MAX_VILLAGES = 200
NAME_MAX = 30


@dataclass(frozen=True)
class Village:
    code: str  # 12-digit 统计用区划代码
    name: str  # 东关村


def station_villages() -> list[Village]:
    """The villages the admin set, in her order; [] when none were set (the form then asks for the code)."""
    raw = Setting.get_value(SETTING_KEY, "")
    if not raw:
        return []
    try:
        rows = json.loads(raw)
    except ValueError:
        return []
    return [Village(str(r["code"]), str(r["name"])) for r in rows if isinstance(r, dict) and "code" in r]


def parse_villages(text: str) -> list[Village]:
    """One village a line, "代码 名称" (e.g. "141081102201 东关村"); every fault reported at once."""
    villages: list[Village] = []
    errors: list[str] = []
    seen: set[str] = set()
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) > MAX_VILLAGES:
        raise ValidationFailed({"villages": f"最多{MAX_VILLAGES}个村（社区），现在有{len(lines)}行。"})
    for n, line in enumerate(lines, 1):
        code, _, name = line.replace("\u3000", " ").partition(" ")
        name = name.strip()
        try:
            code = check_area_code(code).value
        except IdentityError as exc:
            errors.append(f"第{n}行：{exc}")
            continue
        if not name:
            errors.append(f"第{n}行：请在区划代码后写村（社区）名称，如“{code} 东关村”。")
        elif len(name) > NAME_MAX:
            errors.append(f"第{n}行：名称最多{NAME_MAX}个字。")
        elif code in seen:
            errors.append(f"第{n}行：区划代码{code}重复。")
        else:
            seen.add(code)
            villages.append(Village(code, name))
    if errors:
        raise ValidationFailed({"villages": "；".join(errors)})
    return villages


def save_villages(text: str) -> list[Village]:
    """Replace the list with ``text`` (checked first: a bad line changes nothing)."""
    villages = parse_villages(text)
    Setting.set_value(SETTING_KEY, json.dumps([{"code": v.code, "name": v.name} for v in villages],
                                              ensure_ascii=False))
    return villages


def as_text(villages: list[Village]) -> str:
    """The list as the admin edits it."""
    return "\n".join(f"{v.code} {v.name}" for v in villages)


def check_listed(code: str, villages: list[Village]) -> str | None:
    """A Chinese message when a list is set and ``code`` is not on it; None when it is fine."""
    if villages and code not in {v.code for v in villages}:
        return "请从本站村（社区）列表中选择申请人所在村；列表外的村请站长在“村（社区）列表”中添加。"
    return None
