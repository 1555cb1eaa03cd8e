"""Free text about a resident, and what retention leaves of it when her case goes (services/retention.py).

Staff notes, the county's reasons, result texts and settlement notes, a material's 不适用 reason, a
rating's words, a 整改's conversation with her, a text message that was not sent: written as people
write, so a name or a phone number can be anywhere in them, and no mask finds a name. When retention
clears a case, this text goes from its rows, its timeline (each line rewritten without the words, and
marked so; a postal handover's line loses the address too) and its county payloads kept there; once every case of a paper batch is cleared, so do its
handover notes. The county keeps its own copy.
"""

from __future__ import annotations

import re
from typing import Any

from rules.privacy import mask_name
from station.models import (
    Case,
    CaseMaterial,
    Evaluation,
    Remedy,
    ResidentNotice,
    TimelineEntry,
    Transfer,
    TransferHandover,
    TransferItem,
)
from station.services import access_log
from station.services.cases import conflict_decision_without_note, county_status_message
from sync.local_db import seal_text

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
    "withdrawn": re.compile(r"(.*?提出）)：", re.S),  # services/withdrawal.withdraw: "撤回申请（…提出）：{reason}"
    "delivered": re.compile(r"(.*?)，寄至 ", re.S),  # services/follow_up.handover_summary: "…，EMS …，寄至 {address}"
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


def clear_batches_of(case: Case, actor: str) -> None:
    """The paper batches that carried the case's originals, once every case in them is purged (this one last):
    the handover notes (free text) emptied and a resident who signed for papers given back kept masked only.

    A batch's own handovers went to the county as its cases' events, all acknowledged by now.
    """
    carried = TransferItem.select(TransferItem.transfer).where(TransferItem.case == case)
    for transfer in Transfer.select().where(Transfer.id.in_(carried)):
        if (TransferItem.select().join(Case).where((TransferItem.transfer == transfer)
                                                    & Case.personal_purged_at.is_null(True)).exists()):
            continue  # another case in the batch is still kept whole
        cleared = 0
        for handover in TransferHandover.select().where(TransferHandover.transfer == transfer):
            resident = handover.receiver_kind == "resident"
            if handover.note or resident:
                TransferHandover.update(
                    note="", receiver=seal_text(mask_name(handover.receiver)) if resident else handover.receiver,
                ).where(TransferHandover.id == handover.id).execute()
                cleared += 1
        if cleared:
            access_log.record("transfer_handover", actor_name=actor, obj=transfer.batch_no,
                              detail=f"保存期满：已清除流转批次 {transfer.batch_no} 交接记录中的备注和群众签收人姓名"
                                     "（批次内办件均已过保存期，县级平台已确认接收）")
