"""撤回申请 (撤件): the applicant withdraws her application before the county has decided it.

An elderly resident applied at the village station and then changes her mind — her son did it in
the city, or she no longer needs it. Until today the station had no way to say so: the case stayed
open, on every to-do list and overdue list, and the county went on handling it.

The withdrawal is recorded like every other change of a case: the case's state is checked, the
case becomes 已撤回, the timeline records who asked and why, and one ``case.withdrawn`` event is
queued in the same transaction (the outbox delivers it exactly once). A refused withdrawal changes
nothing. The reason is the resident's own words: stored sealed (``Case.status_reason``) and shown
masked like every other free text on the case page.
"""

from __future__ import annotations

from rules import events
from rules.labels import WITHDRAW_REQUESTERS
from station.extensions import db
from station.models import Case, User
from station.models.base import now
from station.models.cases import OPEN_STATUSES
from station.services import timeline
from station.services.errors import DomainError, ValidationFailed
from sync.outbox import enqueue

REASON_MAX = 200

#: The statuses a case may be withdrawn from: collected and not yet decided for good by the county.
WITHDRAWABLE = OPEN_STATUSES


def refusal(case: Case) -> str | None:
    """Why this case cannot be withdrawn now, in Chinese; None when it can (the case page hides the form)."""
    if case.status == "withdrawn":
        return "该申请已撤回，不能重复撤回。"
    if case.status == "not_collected":
        return "该办件未收件（一次性告知），没有在办的申请可以撤回。"
    if case.status not in WITHDRAWABLE:
        return f"办件当前状态为“{case.status_name}”，县级已作出决定，不能再撤回申请。"
    return None


def withdraw(case: Case, user: User, reason: str, requested_by: str) -> Case:
    """Record that the applicant withdrew her application; the case becomes 已撤回 and the county is told.

    ``requested_by``: a key of rules.labels.WITHDRAW_REQUESTERS (申请人本人 / 代办人). A reason is
    required — the county's clerk and the case's record must show why a case ended without a decision.
    """
    why_not = refusal(case)
    if why_not:
        raise DomainError(why_not)
    reason = (reason or "").strip()
    errors: dict[str, str] = {}
    if not reason:
        errors["withdraw_reason"] = "请填写撤回原因（申请人为什么撤回申请）。"
    elif len(reason) > REASON_MAX:
        errors["withdraw_reason"] = f"撤回原因最多{REASON_MAX}字（现有{len(reason)}字）。"
    if requested_by not in WITHDRAW_REQUESTERS:
        errors["withdraw_requested_by"] = "请选择由谁提出撤回：申请人本人或代办人。"
    if errors:
        raise ValidationFailed(errors)
    at = now()
    with db.atomic("IMMEDIATE"):
        fresh = Case.get_by_id(case.id)  # re-read under the write lock: the county's decision may just have arrived
        why_not = refusal(fresh)
        if why_not:
            raise DomainError(why_not)
        case.status = "withdrawn"
        case.status_reason = reason
        case.closed_at = at
        case.updated_at = at
        case.save()
        who = WITHDRAW_REQUESTERS[requested_by]
        timeline.record(case, timeline.actor_of(user), "withdrawn", f"撤回申请（{who}提出）：{reason}",
                        {"requested_by": requested_by})
        enqueue(case.id, events.WITHDRAWN,
                {"reason": reason, "requested_by": requested_by, "by": user.username,
                 "withdrawn_at": at.astimezone().isoformat()},
                catalog_version=case.catalog_version, deadline=case.committed_due)
    return case
