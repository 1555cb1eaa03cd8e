"""Cases this station took on its other devices (a laptop on a home visit), shown read-only.

The county's changes feed brings each one as a ``case.shared`` change (sync/hub/services/devices.py)
with the county's view of it; it is stored here as a copy — personal numbers and the address
sealed inside the snapshot — and updated by later changes. Why read-only: see
:class:`station.models.SharedCase`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from peewee import fn

from rules.labels import HUB_CASE_STATUSES
from rules.privacy import mask_id_number, mask_phone
from station.models import Case, SharedCase
from station.models.base import now
from station.services import shared_case_retention
from station.services.errors import DomainError
from station.services.restored_cases import local_time


def apply_shared(case_id: str, payload: dict[str, Any]) -> SharedCase | None:
    """Store or refresh the copy of another device's case (inside the pull transaction).

    A case this PC holds itself is left alone (its own record is the real one); a change without
    a case (the county no longer has it) is ignored so the cursor moves on.
    """
    case_id = str(payload.get("case_id") or case_id or "")
    if not case_id or Case.get_or_none(Case.id == case_id) is not None:
        return None
    snapshot = payload.get("snapshot")
    if not isinstance(snapshot, dict):
        raise DomainError("县级平台发来的其他设备办件缺少内容。")
    held = SharedCase.get_or_none(SharedCase.id == case_id)
    purged_at = (held.snapshot or {}).get(shared_case_retention.PURGED_MARK) if held is not None else None
    county = dict((held.snapshot or {}).get(COUNTY_KEY) or {}) if held is not None else {}
    status = str(payload.get("status") or "submitted")[:16]
    if status == "withdrawn" and (held is None or held.status != "withdrawn"):
        _note(county, f"申请人已撤回申请（在{device_label(int(payload.get('origin_device') or 0))}办理），县级平台已停止办理")
    if county:  # what the county told this copy since (its dates, a forward held) outlives a refresh
        snapshot = {**snapshot, COUNTY_KEY: county}
    if purged_at:  # retention cleared this copy: sent again, it stays cleared
        snapshot = shared_case_retention.cleared({**snapshot, shared_case_retention.PURGED_MARK: purged_at})
    fields = {
        "case_no": str(payload.get("case_no") or snapshot.get("case_no") or "")[:64],
        "query_code": str(payload.get("query_code") or snapshot.get("query_code") or "")[:32],
        "item_name": str(payload.get("item_name") or snapshot.get("item_name") or "")[:200],
        "applicant_name": str(payload.get("applicant_name") or "")[:100],
        "origin_device": int(payload.get("origin_device") or 0),
        "status": status,
        "hub_case_no": str(payload.get("hub_case_no") or "")[:50],
        "received_at": str(payload.get("received_at") or snapshot.get("received_at") or "")[:40],
        "snapshot": snapshot,
        "updated_at": now(),
    }
    (SharedCase.insert(id=case_id, **fields)
     .on_conflict(conflict_target=[SharedCase.id], update=fields).execute())
    return SharedCase.get_by_id(case_id)


#: Inside a copy's snapshot: what the county told this PC about the case after it was shared — its 法定/承诺
#: dates (``case.dues``), whether its 跨域办 forward is held (``case.forward_held``), and the lines the copy's
#: page lists under 县级平台通知. Kept apart from the case as sent, so a later ``case.shared`` keeps it.
COUNTY_KEY = "county"


def _note(county: dict[str, Any], text: str) -> None:
    county["notes"] = [*(county.get("notes") or []), {"at": now().isoformat(sep=" ")[:16], "text": text}]


def _county_of(case_id: str) -> tuple[SharedCase, dict[str, Any]] | None:
    copy = SharedCase.get_or_none(SharedCase.id == case_id)
    return None if copy is None else (copy, dict((copy.snapshot or {}).get(COUNTY_KEY) or {}))


def _save_county(copy: SharedCase, county: dict[str, Any]) -> None:
    SharedCase.update(snapshot={**(copy.snapshot or {}), COUNTY_KEY: county}, updated_at=now()).where(
        SharedCase.id == copy.id).execute()


def apply_forward_hold(case_id: str, payload: dict[str, Any]) -> bool:
    """A ``case.forward_held`` change for another device's case: the copy shows the hold, or that it is over.

    Every device of the station pulls the same feed, so the agent on the station PC can tell the resident
    why a case the laptop took waits, as the laptop can. A turn the copy is in already writes nothing (the
    feed read again). False when this PC holds no copy.
    """
    from station.services.forward_holds import held_message

    found = _county_of(case_id)
    held = payload.get("held")
    if found is None or not isinstance(held, bool):
        return False
    copy, county = found
    if bool(county.get("forward_held")) == held:
        return True
    place = str(payload.get("county") or "").strip()[:100] or "办理地县级平台"
    county["forward_held"] = held
    _note(county, held_message(place) if held else f"转送办理地（{place}）已恢复，办件已送达办理地")
    _save_county(copy, county)
    return True


def apply_dues(case_id: str, payload: dict[str, Any]) -> bool:
    """A ``case.dues`` change for another device's case: the copy holds the county's 法定/承诺 dates.

    The station's 报表 and ledger count the copy by its dates (:meth:`Received.due`); the same dates again
    write nothing. A date the county sends as null, or one that is not a date, leaves the copy's. False
    when this PC holds no copy.
    """
    found = _county_of(case_id)
    if found is None:
        return False
    copy, county = found
    said = []
    for name, label in (("committed", "承诺期限"), ("statutory", "法定期限")):
        value = payload.get(f"{name}_due")
        try:
            day = dt.date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
        except ValueError:
            day = None
        key, provisional = f"{name}_due", payload.get(f"{name}_provisional") is True
        current = county.get(key) or str((copy.snapshot or {}).get(key) or "")[:10]
        if day is None or (day.isoformat() == current and county.get(f"{name}_provisional", provisional) == provisional):
            continue
        county[key], county[f"{name}_provisional"] = day.isoformat(), provisional
        said.append(f"{label} {day.isoformat()}" + ("（暂定）" if payload.get(f"{name}_provisional") is True else ""))
    if said:
        _note(county, "以县级平台的期限为准：" + "；".join(said))
        _save_county(copy, county)
    return True


def apply_status(case_id: str, payload: dict[str, Any]) -> bool:
    """A county decision on another device's case: the copy shows the new status; False if no copy."""
    status = payload.get("status")
    if not isinstance(status, str) or status not in HUB_CASE_STATUSES:
        return False
    updated = (SharedCase.update(status=status, hub_case_no=str(payload.get("hub_case_no") or "")[:50] or
                                 SharedCase.hub_case_no, updated_at=now())
               .where(SharedCase.id == case_id).execute())
    return bool(updated)


@dataclass(frozen=True)
class SharedRow:
    """One line of the list of the other devices' cases (masked, as every list)."""

    id: str
    case_no: str
    item_name: str
    applicant_name: str
    applicant_id: str  # masked
    status: str
    origin: str
    received_at: str


def device_label(number: int) -> str:
    """How a page names a device: 站点电脑 or 第 N 号设备."""
    return "站点电脑" if not number else f"第 {number} 号设备"


def recent(limit: int = 50, text: str = "") -> list[SharedRow]:
    """The newest copies first; ``text`` finds a case number, query code or applicant name."""
    query = SharedCase.select()
    text = (text or "").strip()
    if text:
        query = query.where((SharedCase.case_no == text) | (SharedCase.query_code == text.upper())
                            | SharedCase.applicant_name.contains(text))
    rows = query.order_by(SharedCase.received_at.desc(), SharedCase.case_no.desc()).limit(limit)
    return [SharedRow(r.id, r.case_no, r.item_name, r.applicant_name,
                      mask_id_number(((r.snapshot or {}).get("applicant") or {}).get("id_number")),
                      HUB_CASE_STATUSES.get(r.status, r.status), device_label(r.origin_device),
                      r.received_at[:16].replace("T", " ")) for r in rows]


@dataclass(frozen=True)
class Received:
    """A copy of another device's case received in a period, as the station's 报表 counts it."""

    copy: SharedCase
    received_at: dt.datetime  # the station's local time, as its own cases' ``received_at``

    @property
    def snapshot(self) -> dict[str, Any]:
        return self.copy.snapshot or {}

    @property
    def status(self) -> str:
        """The copy's state as the station words its own cases' (a key of rules.labels.CASE_STATUSES).

        Waiting for the county, a station's own case reads 已收件 or 容缺收件 (a material still
        deferred), and one never collected 未收件（一次性告知）; the county's 待受理 and 仅备案 beside
        them in one table would count the same state twice.
        """
        if self.copy.status == "submitted":
            owed = any(isinstance(m, dict) and m.get("status") == "deferred" for m in self.snapshot.get("materials") or [])
            return "deferred" if owed else "collected"
        return self.copy.status

    def due(self, name: str) -> dt.date | None:
        """``statutory_due`` or ``committed_due``: the county's (``case.dues``) or as the device set it at intake."""
        county = self.snapshot.get(COUNTY_KEY) or {}
        try:
            return dt.date.fromisoformat(str(county.get(name) or self.snapshot.get(name) or "")[:10])
        except ValueError:
            return None


    def provisional(self, name: str) -> bool:
        """Whether ``statutory``'s or ``committed``'s date is 暂定: as the county said with its dates, else at intake."""
        county = self.snapshot.get(COUNTY_KEY) or {}
        if f"{name}_provisional" in county:
            return bool(county[f"{name}_provisional"])
        return bool(self.snapshot.get("deadline_provisional"))


def received_between(start: dt.datetime, stop: dt.datetime) -> list[Received]:
    """The copies received in [start, stop) (station time), oldest first.

    The station's ledger and statistics are the station's, not one PC's: a case its laptop took on
    a home visit belongs in them as much as one taken at the counter (the county counts it for the
    station too). ``received_at`` is kept as the device wrote it (with its offset): the text is
    narrowed a day either side, then each time is read as station time.
    """
    wider = ((start - dt.timedelta(days=1)).date().isoformat(), (stop + dt.timedelta(days=1)).date().isoformat())
    found = []
    for copy in SharedCase.select().where((SharedCase.received_at >= wider[0]) & (SharedCase.received_at < wider[1])):
        at = local_time(copy.received_at)
        if at is not None and start <= at < stop:
            found.append(Received(copy, at))
    return sorted(found, key=lambda r: (r.received_at, r.copy.case_no))


def count() -> int:
    """How many copies this PC holds."""
    return SharedCase.select(fn.COUNT(SharedCase.id)).scalar() or 0


def masked_detail(case_id: str) -> dict[str, Any]:
    """One copy for its read-only page: numbers masked, the address shown as on a case page."""
    copy = SharedCase.get_or_none(SharedCase.id == case_id)
    if copy is None:
        raise DomainError("没有这个办件。")
    snapshot = copy.snapshot or {}
    applicant = dict(snapshot.get("applicant") or {})
    applicant["id_number"] = mask_id_number(applicant.get("id_number"))
    applicant["phone"] = mask_phone(applicant.get("phone"))
    county = snapshot.get(COUNTY_KEY) or {}
    return {"copy": copy, "applicant": applicant, "snapshot": snapshot, "origin": device_label(copy.origin_device),
            "status": HUB_CASE_STATUSES.get(copy.status, copy.status), "county": county,
            "dues": {name: county.get(name) or str(snapshot.get(name) or "")[:10] for name in ("statutory_due", "committed_due")}}
