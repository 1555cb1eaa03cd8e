"""An unkept promise to bring a deferred material (issue 19 item 2): recorded, not forgotten.

At 容缺 intake the resident signs that she will bring the material by its due date (the 容缺受理
通知书 is that 告知承诺). When the date has passed without it, the agent records the promise as
unkept, with a note saying what she learned (moved away, refuses, will not come): the county
then decides with that on the case, and the material leaves the station's 容缺 due list.
"""

from __future__ import annotations

import datetime as dt

from rules import events
from station.extensions import db
from station.models import Case, CaseMaterial, User
from station.models.base import now
from station.models.cases import OPEN_STATUSES
from station.services import timeline
from station.services.calendar import deferral_late, load_calendar
from station.services.cases import material_rows
from station.services.errors import DomainError, ValidationFailed
from sync.outbox import enqueue

NOTE_MAX = 200


def record_unkept(case: Case, user: User, material_id: int, note: str, today: dt.date | None = None) -> CaseMaterial:
    """Mark an overdue deferred material as 逾期未补（承诺未履行） and send it as one event.

    Refused, with nothing changed, for a material that is not deferred, not yet overdue, on a case
    no longer open, or without a note.
    """
    today = today or dt.date.today()
    material = CaseMaterial.get_or_none((CaseMaterial.id == material_id) & (CaseMaterial.case == case))
    if material is None:
        raise DomainError("该办件没有这项材料。")
    if material.status != "deferred":
        raise DomainError(f"“{material.name}”不是待补交的容缺材料（当前：{material.status_name}），不能记为未履行承诺。")
    if case.status not in OPEN_STATUSES:
        raise DomainError(f"办件当前状态为“{case.status_name}”，已不能登记。")
    if material.due_date is None or not deferral_late(material.due_date, today, load_calendar()):
        due = material.due_date.isoformat() if material.due_date else "—"
        raise DomainError(f"“{material.name}”的补交期限（{due}）尚未过去，还不能记为未履行承诺。")
    note = (note or "").strip()
    if not note:
        raise ValidationFailed({"unkept_note": f"请说明“{material.name}”未按期补交的情况（如：已联系，申请人表示不再提供）。"})
    if len(note) > NOTE_MAX:
        raise ValidationFailed({"unkept_note": f"情况说明最多{NOTE_MAX}字。"})
    at = now()
    with db.atomic("IMMEDIATE"):
        fresh = CaseMaterial.get_by_id(material.id)  # re-read under the write lock: two desks, one material
        if fresh.status != "deferred":
            raise DomainError(f"“{material.name}”刚被登记过，请刷新页面。")
        due = material.due_date
        material.status = "unkept"
        material.supplied_note = note
        material.save()
        case.updated_at = at
        case.save()
        timeline.record(case, timeline.actor_of(user), "commitment_unkept",
                        f"容缺材料逾期未补，承诺未履行：{material.name}（约定 {due.isoformat()} 前补交）；{note}",
                        {"key": material.key, "due_date": due.isoformat()})
        enqueue(case.id, events.COMMITMENT_UNKEPT,
                {"key": material.key, "name": material.name, "due_date": due.isoformat(), "note": note,
                 "by": user.username, "recorded_at": at.astimezone().isoformat(), "materials": material_rows(case)},
                catalog_version=case.catalog_version, deadline=case.committed_due)
    return material
