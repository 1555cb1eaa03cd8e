"""Free text about a resident, and what retention leaves of it when her case goes (services/retention.py).

Staff notes, the county's reasons, result texts and settlement notes, a material's 不适用 reason, a
rating's words, a 整改's conversation with her, a text message that was not sent: written as people
write, so a name or a phone number can be anywhere in them, and no mask finds a name. When retention
clears a case, this text goes from its rows, its timeline (each line rewritten without the words, and
marked so) and its county payloads kept there. The county keeps its own copy.
"""

from __future__ import annotations

import re
from typing import Any

from station.models import Case, CaseMaterial, Evaluation, Remedy, ResidentNotice, TimelineEntry
from station.services.cases import conflict_decision_without_note, county_status_message

#: Keys of payloads (sent events, the county's changes kept on the timeline) whose values are free text.
FREE_TEXT_KEYS = frozenset({"note", "text", "reason", "reason_text", "result_text", "supplied_note", "outcome_note",
                            "closing_note", "fix_text", "resident_answer", "said"})

CLEARED = "（保存期满，文字说明已清除）"

#: Timeline lines that end in free text, as their writers word them: what stays is the first group.
_KEPT_PART = {
    "supplemented": re.compile(r"(.*?)；说明：", re.S),  # services/follow_up.submit_supplement
    "commitment_unkept": re.compile(r"(.*?前补交）)；", re.S),  # services/commitments: "…（约定 … 前补交）；{note}"
    "remedy_closed": re.compile(r"(.*?)：", re.S),  # services/evaluations.apply_remedy: "…已办结：{closing note}"
    "evaluated": re.compile(r"([^：]*：[^：]*)：", re.S),  # services/evaluations._words: "评价（…）：满意，…：{words}"
    "sms_not_sent": re.compile(r"(.*?)：【", re.S),  # services/sms: the text not sent may quote the county's reason
}


def without_free_text(value: Any) -> Any:
    """`value` with every free-text string under :data:`FREE_TEXT_KEYS` emptied, at any depth."""
    if isinstance(value, dict):
        return {k: ("" if k in FREE_TEXT_KEYS and isinstance(v, str) else without_free_text(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [without_free_text(v) for v in value]
    return value


def clear_case_text(case: Case) -> None:
    """Clear the free text of a case retention purges (call inside its transaction)."""
    Case.update(status_reason="", result_text="").where(Case.id == case.id).execute()
    CaseMaterial.update(supplied_note="").where(CaseMaterial.case == case).execute()
    ResidentNotice.update(note="").where(ResidentNotice.case == case).execute()
    Evaluation.update(reason_text="").where(Evaluation.case == case).execute()
    for remedy in Remedy.select().where(Remedy.case == case):
        Remedy.update(data=without_free_text(remedy.data)).where(Remedy.id == remedy.id).execute()
    for entry in TimelineEntry.select().where(TimelineEntry.case == case):
        message, data = timeline_line_without_text(entry), without_free_text(entry.data)
        if (message, data) != (entry.message, entry.data):
            TimelineEntry.update(message=message, data=data).where(TimelineEntry.id == entry.id).execute()


def timeline_line_without_text(entry: TimelineEntry) -> str:
    """The entry's line with its free text taken out and the place marked; a line without any unchanged."""
    message, action = entry.message or "", entry.action
    payload = (entry.data or {}).get("payload")
    if action == "note":
        return "备注" + CLEARED
    if action == "county_conflict_resolved":
        return conflict_decision_without_note(message)
    if action.startswith("county_") and isinstance(payload, dict):
        cleared = county_status_message(action.removeprefix("county_"), without_free_text(payload))
        return message if cleared == message else cleared + CLEARED
    kept = _KEPT_PART[action].match(message) if action in _KEPT_PART else None
    return kept.group(1) + CLEARED if kept else message
