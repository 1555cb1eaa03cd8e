"""好差评: the five levels (stored by name), channels, 评价类型, the reasons a 差评 must give.

One table for the station's kiosk, the county's public page, the hub's ingest and (later) the
statistics: a level is stored by its name (``very_satisfied`` …), never by a number, because
GB/T 39046 numbers 非常满意 as 1 and other 好差评 systems the other way round (DOMAIN.md); the
code of a target system is looked up here when exporting. Pure: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rules.privacy import mask_numbers_in

#: The five levels, best first, by name (the value stored) → the word a resident reads.
LEVELS: Mapping[str, str] = {
    "very_satisfied": "非常满意",
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "dissatisfied": "不满意",
    "very_dissatisfied": "非常不满意",
}

#: 差评: the levels that need a reason and open a 整改 at the county.
BAD_LEVELS: frozenset[str] = frozenset({"dissatisfied", "very_dissatisfied"})

#: GB/T 39046-2020 A.8 满意度 codes (1 非常满意 … 5 非常不满意), for export only.
GB_LEVEL_CODES: Mapping[str, str] = {name: str(i) for i, name in enumerate(LEVELS, start=1)}

#: 评价类型: the first rating of a visit, and the one further rating after a 整改 (追评).
KINDS: Mapping[str, str] = {"first": "首次", "follow_up": "追加"}
KIND_CODES: Mapping[str, str] = {"first": "1", "follow_up": "2"}

#: 好差评 channels (评价渠道) by name → word, with the provincial platform's code beside.
CHANNELS: Mapping[str, str] = {
    "pc": "PC端",
    "mobile": "移动端",
    "qr_code": "二维码",
    "hall_tablet": "大厅平板",
    "hall_kiosk": "大厅自助终端",
    "phone": "电话",
    "sms": "短信",
}
CHANNEL_CODES: Mapping[str, str] = {name: str(i) for i, name in enumerate(CHANNELS, start=1)}

#: The reason tags each level offers (as provincial 好差评 systems do), beside free text.
#: Only a 差评 must give one; the better levels may.
REASON_TAGS: Mapping[str, Mapping[str, str]] = {
    "very_satisfied": {"fast": "办理快捷", "kind": "服务热情", "clear": "一次讲清楚"},
    "satisfied": {"fast": "办理较快", "kind": "态度较好"},
    "basically_satisfied": {"slow": "等待时间稍长", "unclear": "告知不够清楚"},
    "dissatisfied": {
        "slow": "办理时间长", "unclear": "材料告知不清、多次跑", "attitude": "服务态度差",
        "result": "对办理结果不满意", "other": "其他"},
    "very_dissatisfied": {
        "slow": "超期未办结", "runs": "多次跑腿仍未办成", "attitude": "服务态度恶劣", "fees": "乱收费、索要好处",
        "result": "对办理结果不满意", "other": "其他"},
}

#: What a visit key names, for the pages (the key itself is what is stored and sent).
#: ``case`` is the rating of the completed case as a whole; the others are counter visits.
VISITS: Mapping[str, str] = {
    "case": "办件整体评价",
    "intake": "收件服务",
    "supplement": "补交补正材料",
    "arrival": "补交容缺材料",
    "handover": "领取办理结果",
}

REASON_TEXT_MAX = 300


def visit_word(visit: str) -> str:
    """The words for a visit key (``supplement-2`` → 补交补正材料（第2次）)."""
    base, _, n = (visit or "").partition("-")
    word = VISITS.get(base, visit)
    return f"{word}（第{n}次）" if n else word


def is_bad(level: str) -> bool:
    """差评: 不满意 or 非常不满意."""
    return level in BAD_LEVELS


def problem(level: Any, reason_tag: Any, reason_text: Any, channel: Any = None, kind: Any = "first") -> str | None:
    """The Chinese reason a rating cannot be taken, or None.

    A 差评 needs a reason tag from its level's list and words of the resident's own; a tag
    must belong to the level chosen.
    """
    if level not in LEVELS:
        return "请选择满意程度（非常满意、满意、基本满意、不满意、非常不满意）。"
    if kind not in KINDS:
        return "评价类型不正确。"
    if channel is not None and channel not in CHANNELS:
        return "评价渠道不正确。"
    tag = reason_tag or ""
    text = (reason_text or "").strip() if isinstance(reason_text, str) else ""
    if tag and tag not in REASON_TAGS[level]:
        return f"所选原因不属于“{LEVELS[level]}”，请重新选择。"
    if len(text) > REASON_TEXT_MAX:
        return f"评价内容最多{REASON_TEXT_MAX}字。"
    if is_bad(level):
        if not tag:
            return f"选择“{LEVELS[level]}”时，请选择不满意的原因。"
        if not text:
            return f"选择“{LEVELS[level]}”时，请写下具体情况，以便整改。"
    return None


def reason_word(level: str, reason_tag: str) -> str:
    """The Chinese words of a reason tag (the tag itself when unknown)."""
    return REASON_TAGS.get(level, {}).get(reason_tag, reason_tag or "")


def clean_text(text: Any) -> str:
    """A resident's words as stored and shown: trimmed, any phone or ID number in them masked.

    Ratings sit in a plain table for statistics; a number typed into the reason must not.
    """
    return mask_numbers_in((text or "").strip() if isinstance(text, str) else "")[:REASON_TEXT_MAX]
