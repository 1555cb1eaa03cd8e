"""Who this station is: code, name, area code — kept in settings, set at `init` or by the admin."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from station.models import Case, Setting
from station.services import identity
from station.services.errors import ValidationFailed
from station.services.identity import IdentityError
from sync import state as sync_state
from sync.relay import RelayBundle
from websec.urls import web_url_problem

KEYS = {
    "code": "station.code",
    "name": "station.name",
    "area_code": "station.area_code",
    "level": "station.level",
    "address": "station.address",
    "phone": "station.phone",
    "supervise_phone": "station.supervise_phone",
    "query_url_base": "station.query_url_base",
}
LEVELS = {"village": "村（社区）便民服务站", "township": "乡镇（街道）便民服务中心"}


@dataclass(frozen=True)
class StationProfile:
    code: str
    name: str
    area_code: str
    level: str
    address: str
    phone: str
    supervise_phone: str
    query_url_base: str


def get_profile() -> StationProfile:
    """The station's identity as stored in settings."""
    return StationProfile(**{field: Setting.get_value(key) for field, key in KEYS.items()})


_HOTLINE = re.compile(r"1\d{2}|1\d{4}|9\d{4}")  # 110, 12345, 12333, 95518: dialled as they are


def _station_phone(raw: str) -> str:
    """A service hotline as typed, else a phone as a resident's is checked (IdentityError)."""
    compact = re.sub(r"\s", "", raw)
    return compact if _HOTLINE.fullmatch(compact) else identity.check_phone(raw)


def update_profile(*, change_level: bool = False, **values: str) -> StationProfile:
    """Change the station's identity; the 12-digit area code is what case numbers start with.

    Its level stays while the station holds cases unless ``change_level`` (``init --change-level``):
    the settings page has no such switch.
    """
    errors: dict[str, str] = {}
    if "area_code" in values:  # the same rule as a resident's village code at intake
        try:
            values["area_code"] = identity.check_area_code(values["area_code"]).value
        except IdentityError as exc:
            errors["area_code"] = exc.message
    if "name" in values and not values["name"].strip():
        errors["name"] = "请填写服务站名称。"
    if "code" in values and not re.fullmatch(r"[0-9A-Za-z-]{4,30}", values["code"].strip()):
        errors["code"] = "服务站编码为4–30位字母、数字或短横线。"
    elif "code" in values and (linked := sync_state.get_value(sync_state.STATION_CODE)) \
            and values["code"].strip() != linked:  # batch numbers would name another station at the county
        errors["code"] = (f"本站已用编码 {linked} 连接县级平台，这里须填同一个编码：流转单批次号等都用它，"
                          "两者不同，县级平台会把本站的材料批次当作别的站点的。")
    if "level" in values and values["level"] not in LEVELS:
        errors["level"] = "请选择村（社区）站或乡镇（街道）中心。"
    elif "level" in values and not change_level and (holds := _holdings_against(values["level"])):
        current = get_profile().level or "village"
        errors["level"] = (f"本站已有{holds}，不能在此改为{LEVELS[values['level']]}：层级决定导入的离线包和统计"
                           f"如何处理，仍为{LEVELS[current]}。确需改变，请由运维人员用命令 init --change-level 办理。")
    for field in ("phone", "supervise_phone"):  # printed on every paper for the resident to call
        if (values.get(field) or "").strip():
            try:
                values[field] = _station_phone(values[field])
            except IdentityError as exc:
                errors[field] = exc.message
    if (values.get("query_url_base") or "").strip():  # it goes into the receipt's QR code
        problem = web_url_problem(values["query_url_base"])
        if problem:
            errors["query_url_base"] = problem
    if errors:
        raise ValidationFailed(errors)
    for field, value in values.items():
        if field in KEYS:
            Setting.set_value(KEYS[field], value.strip())
    return get_profile()


def level_change_refusal(level: str) -> str | None:
    """Why this station may not become ``level`` unasked: it is already the other level and holds work.

    The level decides what an imported USB bundle is (a township holds it for a village; a village
    applies it as the county's answer) and which figures it reports; `init --level township` run on
    the wrong folder turned a village with cases into a township without a word. An empty station
    (a fresh `init`) may take either level; ``init --change-level`` changes it on purpose.
    """
    holds = _holdings_against(level)
    if not holds:
        return None
    current = get_profile().level or "village"
    return (f"本文件夹中已是{LEVELS[current]}，已有{holds}；--level {level} 会把它改为{LEVELS[level]}"
            "（此后导入的离线包和统计都按新的层级处理）。请检查 --instance 是否指向了正确的文件夹；"
            "确需改变层级，请加上 --change-level 再执行。没有做任何改动。")


def _holdings_against(level: str) -> str:
    """What this station holds that a change to ``level`` would misread ("" when it is that level or holds nothing)."""
    current = get_profile().level or "village"  # a station never given a level works as a village
    if level not in LEVELS or level == current:
        return ""
    cases = Case.select().count()
    held = RelayBundle.select().count() if current == "township" else 0
    return "、".join(part for part in (f"{cases} 件办件" if cases else "", f"{held} 个村站离线包" if held else "") if part)


# Settings the county may send down the changes feed that take effect here: the range a value must
# be in (an interval of 1e12 s would silently stop automatic sync). The interval is sync's own.
HUB_SETTINGS = {"sync_interval_seconds": (10, 24 * 3600)}


#: The county platform's public address (its /q/<code> page), sent down by the hub; receipts' QR codes use it.
HUB_PUBLIC_URL = "hub.public_url"


def hub_public_url() -> str:
    """The county's public address for residents, or "" while the county has sent none."""
    return (Setting.get_value(HUB_PUBLIC_URL) or "").strip()


def apply_hub_settings(settings: dict) -> list[str]:
    """Store settings the county sent; known ones take effect, others are kept for later releases."""
    errors = {}
    public_url = (settings or {}).get("public_url")
    if public_url not in (None, ""):  # it goes into every receipt's QR code
        problem = web_url_problem(public_url) if isinstance(public_url, str) else "网址须为文本。"
        if problem:
            errors["public_url"] = f"县级下发的公众查询网址未采用：{problem}"
    for key, (low, high) in HUB_SETTINGS.items():
        if key in (settings or {}):
            value = settings[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                errors[key] = f"县级下发的设置 {key}={value!r} 超出范围（{low}–{high}），未采用。"
    if errors:
        raise ValidationFailed(errors, "；".join(errors.values()))
    applied = []
    for key, value in (settings or {}).items():
        if key == "sync_interval_seconds":
            sync_state.set_interval_seconds(int(value))
            applied.append("sync.interval_seconds")
        elif key == "public_url":  # "" or null: the county withdrew it, receipts use the station's page again
            Setting.set_value(HUB_PUBLIC_URL, (value or "").strip())
            applied.append(HUB_PUBLIC_URL)
        elif isinstance(value, (dict, list)):  # a table (assessed_days per item, area_names): kept as JSON
            Setting.set_value(f"hub.{key}", json.dumps(value, ensure_ascii=False, sort_keys=True))
            applied.append(f"hub.{key}")
        else:
            Setting.set_value(f"hub.{key}", str(value))
            applied.append(f"hub.{key}")
    return applied
