"""The licence register (免证办): licences issued by completed cases or imported, and the stations' lookups.

A station asks "does this resident hold a licence of kind K" over the signed API; the answer is
the valid licences of that kind (number, issuer, validity) and nothing else of hers. Every
lookup is written to the hub's access log with the station, the agent and the reason given.
A completed case of an item the county lists in ``LICENCE_ISSUING_ITEMS`` registers the licence
its certificate number names (a 残疾人证 when the county completes 残疾人证办理).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import Any

from flask import current_app
from peewee import IntegrityError

from rules.privacy import mask_id_number
from sync.hub.china_time import china_today
from sync.hub.extensions import db, key_ring
from sync.hub.models import Decision, HubCase, Licence, Station, utcnow
from sync.hub.services import access_log, personal

ID_NUMBER = re.compile(r"^[1-9]\d{16}[\dX]$")
MAX_KIND, MAX_TEXT, MAX_REASON = 60, 100, 200
CSV_COLUMNS = ("kind", "number", "holder_id_number", "holder_name", "issuer", "issued_on", "valid_until")


class LookupRefused(ValueError):
    """A lookup the hub cannot answer (bad input); the message is Chinese."""


@dataclass(frozen=True)
class Lookup:
    """A station's question, checked."""

    id_number: str
    kind: str
    asked_by: str
    reason: str


def _text(body: dict[str, Any], key: str, limit: int, what: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise LookupRefused(f"请提供{what}（{key}）。")
    value = value.strip()
    if len(value) > limit:
        raise LookupRefused(f"{what}（{key}）最长 {limit} 个字。")
    return value


def parse_lookup(body: Any) -> Lookup:
    """Check a lookup request body; raises :class:`LookupRefused` with the reason."""
    if not isinstance(body, dict):
        raise LookupRefused("请求须为 JSON 对象：{\"id_number\", \"kind\", \"asked_by\", \"reason\"}。")
    number = _text(body, "id_number", 18, "居民身份证号码").upper()
    if not ID_NUMBER.match(number):
        raise LookupRefused("id_number 须为18位居民身份证号码。")
    return Lookup(number, _text(body, "kind", MAX_KIND, "证照类型"), _text(body, "asked_by", MAX_TEXT, "查询人"),
                  _text(body, "reason", MAX_REASON, "查询理由"))


def _as_answer(licence: Licence) -> dict[str, Any]:
    return {"kind": licence.kind, "number": key_ring.unseal(licence.number_stored), "issuer": licence.issuer,
            "issued_on": licence.issued_on.isoformat() if licence.issued_on else None,
            "valid_until": licence.valid_until.isoformat() if licence.valid_until else None}


def lookup(station: Station, body: Any, today: dt.date | None = None) -> dict[str, Any]:
    """Answer a station's lookup with her valid licences of the kind asked; logged with who and why."""
    asked = parse_lookup(body)
    today = today or china_today()  # the county's day: a server on UTC is a day behind China until 08:00
    rows = (Licence.select().where((Licence.holder_index.in_(key_ring.blind_indexes(asked.id_number)))
                                   & (Licence.kind == asked.kind))
            .order_by(Licence.id.desc()))
    found = [_as_answer(row) for row in rows if row.valid_until is None or row.valid_until >= today]
    access_log.record(None, "licence_lookup", actor_name=f"{station.code} {asked.asked_by}"[:100],
                      obj=mask_id_number(asked.id_number),
                      detail=f"站点 {station.name} 查询电子证照「{asked.kind}」：{'有' if found else '无'}；理由：{asked.reason}")
    return {"found": bool(found), "kind": asked.kind, "licences": found}


def register(kind: str, number: str, holder_id: str, *, holder_name: str, issuer: str, source: str,
             issued_on: dt.date | None = None, valid_until: dt.date | None = None,
             case_id: str | None = None) -> bool:
    """Add a licence to the register; False when the same kind and number is already there."""
    try:
        with db.atomic():
            Licence.create(kind=kind, number_stored=key_ring.seal(number), number_index=key_ring.blind_index(number),
                           holder_index=key_ring.blind_index(holder_id), holder_id_stored=key_ring.seal(holder_id),
                           holder_name=holder_name[:MAX_TEXT], issuer=issuer[:MAX_TEXT], issued_on=issued_on,
                           valid_until=valid_until, source=source, case_id=case_id, created_at=utcnow())
    except IntegrityError:
        return False
    return True


def issue_for_decision(case: HubCase, decision: Decision) -> bool:
    """After an approved 办结 with a certificate number: register the licence the item issues, if it issues one."""
    issuing = current_app.config.get("LICENCE_ISSUING_ITEMS") or {}
    spec = issuing.get(case.item_code or "")
    if not spec or decision.result != "approved" or not decision.certificate_no:
        return False
    applicant = personal.open_snapshot(case.snapshot).get("applicant") or {}
    holder = str(applicant.get("id_number") or "").upper()
    if not ID_NUMBER.match(holder):
        return False
    issued_on = decision.decided_at.date()
    years = int(spec.get("valid_years") or 0)
    valid_until = issued_on.replace(year=issued_on.year + years) if years else None
    return register(spec["kind"], decision.certificate_no, holder, holder_name=case.applicant_name or "",
                    issuer=spec.get("issuer") or "县级平台", source="case", issued_on=issued_on,
                    valid_until=valid_until, case_id=case.case_id)


def _date(value: str, line: int, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise LookupRefused(f"第 {line} 行：{name} 须为 YYYY-MM-DD 格式的日期。") from None


def import_csv(text: str) -> tuple[int, int]:
    """Import existing licences from CSV (a header row of CSV_COLUMNS); all or nothing.

    Returns (added, already there). Raises :class:`LookupRefused` naming the first bad line.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise LookupRefused("CSV 缺少列：" + "、".join(missing))
    rows = []
    for line, row in enumerate(reader, start=2):
        holder = (row.get("holder_id_number") or "").strip().upper()
        if not ID_NUMBER.match(holder):
            raise LookupRefused(f"第 {line} 行：holder_id_number 须为18位居民身份证号码。")
        kind, number, issuer = ((row.get(k) or "").strip() for k in ("kind", "number", "issuer"))
        if not kind or not number or not issuer:
            raise LookupRefused(f"第 {line} 行：kind、number、issuer 不能为空。")
        if len(kind) > MAX_KIND or len(number) > MAX_KIND or len(issuer) > MAX_TEXT:
            raise LookupRefused(f"第 {line} 行：内容过长。")
        rows.append((kind, number, holder, (row.get("holder_name") or "").strip(), issuer,
                     _date((row.get("issued_on") or "").strip(), line, "issued_on"),
                     _date((row.get("valid_until") or "").strip(), line, "valid_until")))
    added = 0
    with db.atomic():
        for kind, number, holder, name, issuer, issued_on, valid_until in rows:
            added += register(kind, number, holder, holder_name=name, issuer=issuer, source="import",
                              issued_on=issued_on, valid_until=valid_until)
    return added, len(rows) - added
