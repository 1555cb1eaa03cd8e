"""Appointments (预约): what a station offers, and whether a booking fits — the same on both apps.

Pure: the station checks an agent's booking for a caller and the hub checks a resident's booking
from its public page with these rules, so the two never disagree on what is refused. A station
publishes its offer (``normalise_offer``): the items it takes bookings for (or ``any``), the
times of day with how many people each takes, and the open dates — the station's own working
days from its calendar (holidays and make-up days included), which the hub has no other way
to know. Each refusal is a Chinese sentence for the person booking.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from rules.periods import is_date

ANY_ITEM = "any"
STATUSES: Mapping[str, str] = {"booked": "已预约", "cancelled": "已取消", "no_show": "未到", "converted": "已转为办件"}
#: States a booking ends in; "converted" (the resident came, a case exists) is a fact that wins.
FINAL = ("cancelled", "no_show", "converted")
SOURCES: Mapping[str, str] = {"public": "居民网上预约", "station": "服务站代约"}
MAX_DAYS_AHEAD = 60
MAX_TIMES = 24
MAX_CAPACITY = 50
NAME_MAX = 40
ADDRESS_MAX = 120
CODE_LENGTH = 8

_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


class OfferError(ValueError):
    """An offer that cannot be published; the message is Chinese."""


def normalise_offer(raw: Any) -> dict[str, Any]:
    """Check an offer and return it in its one stored form; raise :class:`OfferError` otherwise."""
    if not isinstance(raw, dict):
        raise OfferError("预约设置须为对象。")
    items = raw.get("items", ANY_ITEM)
    if items != ANY_ITEM:
        if not isinstance(items, list) or not items:
            raise OfferError("请选择可预约的事项，或选择“全部事项”。")
        items = [{"code": str(i.get("code") or "")[:64], "name": str(i.get("name") or "")[:200]}
                 for i in items if isinstance(i, dict) and i.get("code")]
        if not items:
            raise OfferError("请选择可预约的事项，或选择“全部事项”。")
    times = []
    for entry in raw.get("times") or []:
        start, end = str((entry or {}).get("start") or ""), str((entry or {}).get("end") or "")
        if not (_TIME.match(start) and _TIME.match(end)) or end <= start:
            raise OfferError(f"时段 {start}–{end} 不正确：请写成 09:00–10:00 这样的起止时间。")
        try:
            capacity = int((entry or {}).get("capacity"))
        except (TypeError, ValueError) as exc:
            raise OfferError(f"时段 {start}–{end} 的可约人数须为数字。") from exc
        if not 1 <= capacity <= MAX_CAPACITY:
            raise OfferError(f"时段 {start}–{end} 的可约人数须在 1 到 {MAX_CAPACITY} 之间。")
        times.append({"start": start, "end": end, "capacity": capacity})
    if not times:
        raise OfferError("请至少设置一个可预约时段。")
    if len(times) > MAX_TIMES or len({t["start"] for t in times}) != len(times):
        raise OfferError("时段过多或开始时间重复。")
    dates = sorted({str(d) for d in raw.get("dates") or [] if is_date(d)})[:MAX_DAYS_AHEAD]
    # under "any", the station's current items to choose from (a resident may also leave it open)
    choices = [{"code": str(i.get("code") or "")[:64], "name": str(i.get("name") or "")[:200]}
               for i in (raw.get("choices") or []) if isinstance(i, dict) and i.get("code")] if items == ANY_ITEM else []
    return {"items": items, "choices": choices[:2000], "times": sorted(times, key=lambda t: t["start"]),
            "dates": dates, "home_visit": bool(raw.get("home_visit", True))}


def overlapping_times(times: list[dict[str, Any]]) -> str:
    """The first two times of day that overlap, as words for the admin (empty when none do).

    A resident booked 09:30–10:30 would share the desk with those booked 09:00–10:00: the station's
    form refuses such an offer. Checked when the offer is saved, not when it is published, so an offer
    stored before this check still goes out.
    """
    ordered = sorted(times, key=lambda t: t["start"])
    for before, after in pairwise(ordered):
        if after["start"] < before["end"]:
            return (f"时段 {before['start']}–{before['end']} 与 {after['start']}–{after['end']} 重叠，"
                    "请调整为互不重叠的时段。")
    return ""


def open_dates(first: dt.date, days_ahead: int, is_workday: Any) -> list[str]:
    """The working days from ``first`` on, ``days_ahead`` calendar days long (``is_workday(date)``)."""
    days = min(max(int(days_ahead), 1), MAX_DAYS_AHEAD)
    return [(first + dt.timedelta(days=n)).isoformat() for n in range(days)
            if is_workday(first + dt.timedelta(days=n))]


def time_of(offer: Mapping[str, Any], start: str) -> dict[str, Any] | None:
    """The offered time that starts at ``start``, or None."""
    return next((t for t in offer.get("times") or [] if t["start"] == start), None)


def item_choices(offer: Mapping[str, Any]) -> list[dict[str, str]]:
    """The items a booking may name: the offer's own, or under ``any`` every item the station sent."""
    return list(offer.get("choices") or []) if offer.get("items") == ANY_ITEM else list(offer.get("items") or [])


def item_named(offer: Mapping[str, Any], item_code: str) -> dict[str, str] | None:
    """The offered item with this code; under ``any`` an empty code is allowed (到站咨询); None if not offered."""
    if not item_code:
        return {"code": "", "name": "未定事项（到站咨询）"} if offer.get("items") == ANY_ITEM else None
    return next((i for i in item_choices(offer) if i["code"] == item_code), None)


def check_phone(raw: str | None) -> str:
    """A mobile (13812345678) or a landline with its area code; raise ValueError with a Chinese message."""
    phone = re.sub(r"[\s()（）]", "", raw or "").removeprefix("+86")
    if not phone:
        raise ValueError("请填写联系电话。")
    if _MOBILE.match(phone) or _LANDLINE.match(phone):
        return phone
    raise ValueError("联系电话不正确：请填写11位手机号码，或带区号的固定电话。")


def check_person(name: str | None, phone: str | None, home_visit: bool, address: str | None) -> tuple[str, str, str]:
    """Name, phone and (for a home visit) address, cleaned; raise ValueError with a Chinese message."""
    name = (name or "").strip()
    if not name:
        raise ValueError("请填写姓名。")
    if len(name) > NAME_MAX:
        raise ValueError(f"姓名不能超过 {NAME_MAX} 个字。")
    phone = check_phone(phone)
    address = (address or "").strip()
    if home_visit and not address:
        raise ValueError("选择上门服务的，请填写住址（到村、组、门牌）。")
    if len(address) > ADDRESS_MAX:
        raise ValueError(f"住址不能超过 {ADDRESS_MAX} 个字。")
    return name, phone, address if home_visit else ""


def slot_problem(offer: Mapping[str, Any] | None, day: dt.date, start: str, *, now: dt.datetime, taken: int,
                 same_phone: bool, home_visit: bool = False) -> str | None:
    """Why this slot cannot be booked (past, not a working day, full, booked already by this phone), or None.

    ``now`` is China time, naive; ``taken`` counts the slot's bookings that hold a place.
    """
    if not offer or not offer.get("times"):
        return "该服务站暂未开放预约。"
    time = time_of(offer, start)
    if time is None:
        return f"该服务站没有 {start} 开始的预约时段。"
    if dt.datetime.combine(day, dt.time.fromisoformat(start)) <= now:
        return f"{day:%Y年%m月%d日} {start} 的时段已过，请选择以后的时段。"
    if day.isoformat() not in set(offer.get("dates") or []):
        return f"{day:%Y年%m月%d日} 服务站不办公（节假日、休息日或尚未开放预约的日子），请选择其他日期。"
    if home_visit and not offer.get("home_visit", True):
        return "该服务站暂不接受上门服务预约。"
    if taken >= int(time["capacity"]):
        return f"{day:%m月%d日} {start}–{time['end']} 已约满（{time['capacity']} 人），请选择其他时段。"
    if same_phone:
        return "此电话号码已预约了这个时段，无需重复预约；如需更改，请先取消原预约。"
    return None


#: Bookings that hold a place in their slot.
HOLDING = ("booked", "converted", "no_show")
