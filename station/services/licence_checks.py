"""免证办 at intake: ask the county's licence register whether the resident holds the licence a material names.

Asked only with her consent (the same consent as her material library): without it, nothing is
asked and nothing is stored. Each answer is kept as a :class:`LicenceCheck` (sealed) and written to
the access log with who asked and why; the county logs the same lookup on its side. With the link
down the check says so, and the agent collects paper as before. The intake form then offers a
material satisfied by a found licence, and :func:`licence_choice` checks that offer when saved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ulid import ULID

from rules.privacy import mask_licence_number
from station.models import LicenceCheck, User
from station.models.base import now
from station.services import access_log, material_library, personal
from station.services.errors import DomainError
from sync.errors import LinkProblem
from sync.licences import lookup_licence
from sync.transport import HubLink

LICENSED = "licensed"  # the intake form's status for a material satisfied by a found licence
OUTCOME_WORDS = {"found": "有", "none": "无", "unreachable": "未能查询"}
NO_CONSENT = "申请人未同意查询电子证照（未勾选“同意保存材料并查询电子证照”），未向县级平台查询。"


def check_licences(id_number: str, kinds: list[str], user: User, reason: str, *,
                   consent_now: bool = False) -> list[LicenceCheck]:
    """Ask the hub about each licence kind for her; store and log each answer (unreachable included).

    Refused with :data:`NO_CONSENT` when she has not consented (nothing asked, nothing stored).
    """
    if material_library.consent_of(id_number) is None:
        if not consent_now:
            raise DomainError(NO_CONSENT)
        material_library.record_consent(id_number, user)
    link = HubLink.stored()
    checks = []
    for kind in dict.fromkeys(kinds):
        found: list[dict[str, Any]] = []
        note = ""
        try:
            found = lookup_licence(link, id_number, kind, user.name, reason)
            outcome = "found" if found else "none"
        except LinkProblem as exc:
            outcome, note = "unreachable", exc.message
        licence = dict(found[0]) if found else {"note": note}
        check = LicenceCheck.create(id=str(ULID()), resident_index=personal.id_index(id_number), kind=kind,
                                    asked_at=now(), asked_by=user.name, reason=reason[:200], outcome=outcome,
                                    licence=licence)
        access_log.record("licence_lookup", user=user, obj=id_number,
                          detail=f"查询电子证照「{kind}」：{OUTCOME_WORDS[outcome]}；理由：{reason}"
                                 + (f"（{note}）" if note else ""))
        checks.append(check)
    return checks


def todays_checks(id_number: str, kinds: list[str], today: dt.date) -> dict[str, LicenceCheck]:
    """Her newest check per licence kind made today (what the form shows)."""
    if not id_number or not kinds:
        return {}
    start = dt.datetime.combine(today, dt.time())
    rows = (LicenceCheck.select().where((LicenceCheck.resident_index.in_(personal.id_indexes(id_number)))
                                        & (LicenceCheck.kind.in_(kinds)) & (LicenceCheck.asked_at >= start))
            .order_by(LicenceCheck.asked_at.desc()))
    found: dict[str, LicenceCheck] = {}
    for row in rows:
        found.setdefault(row.kind, row)
    return found


def masked_number(check: LicenceCheck) -> str:
    """A licence number as a page shows it (a 残疾人证 number holds the ID number)."""
    return mask_licence_number(str(check.licence.get("number") or ""))


def licence_choice(key: str, name: str, kind: str | None, raw: Mapping[str, str], id_number: str,
                   today: dt.date, errors: dict[str, str]) -> dict[str, Any] | None:
    """For a line marked 电子证照（县级证照库）: the licence it relies on, or None with the reason in ``errors``."""
    field_name = f"mat__{key}__status"
    check_id = (raw.get(f"mat__{key}__check") or "").strip()
    check = LicenceCheck.get_or_none(LicenceCheck.id == check_id) if check_id else None
    if check is None or not kind:
        errors[field_name] = f"没有找到“{name}”的电子证照查询结果，请先点“查询已核验材料”。"
        return None
    if not id_number or check.resident_index not in personal.id_indexes(id_number):
        errors[field_name] = f"所选的电子证照查询结果不属于本申请人，不能用于“{name}”。"
        return None
    if check.kind != kind or check.outcome != "found":
        errors[field_name] = f"县级证照库中没有本申请人的“{kind}”，请收取纸质材料。"
        return None
    if material_library.consent_of(id_number) is None:
        errors[field_name] = NO_CONSENT
        return None
    licence = check.licence
    until = licence.get("valid_until")
    if until and until < today.isoformat():
        errors[field_name] = f"电子证照“{kind}”已过有效期（至 {until}），请收取纸质材料。"
        return None
    record = {"kind": kind, "number": str(licence.get("number")), "issuer": str(licence.get("issuer") or "县级平台"),
              "valid_until": until, "issued_on": licence.get("issued_on"), "check_id": check.id,
              "checked_at": check.asked_at.isoformat(timespec="seconds")}
    return {"e_license_no": record["number"][:60], "origin": {"licence": {k: v for k, v in record.items() if v}}}
