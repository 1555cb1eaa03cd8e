"""只提交一次: a resident's verified materials kept for her next cases, with her consent.

A material whose original the agent checked and whose scan was taken for one case is kept for
the resident (keyed by the blind index of her ID number) until its validity ends: an ID card
until the expiry date typed at verification, a 户口簿 page for some months (a per-material
setting, :func:`validity_rule`). At her next intake the agent reuses it in one click; the new
case records which verification it relies on, and the scan is linked to the new case by its
SHA-256, so the county, which already holds that file for this station, is not sent it again.

Her consent is recorded once and can be withdrawn: then her kept materials and their files are
deleted and the withdrawal is written to the access log. The kept copy of a scan is sealed like
every scan (services/attachments.write_sealed) under ``ATTACHMENT_DIR/library/`` — inside the
attachment folder, so backups carry it — apart from the case's own scans, which the case keeps
under retention whatever the library does.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from ulid import ULID

from rules.periods import add_months
from rules.privacy import mask_id_number
from station import keys
from station.extensions import db
from station.models import (
    Attachment,
    Case,
    CaseMaterial,
    KeptMaterial,
    Material,
    ResidentConsent,
    Setting,
    User,
)
from station.models.base import now
from station.services import access_log, attachments, personal, timeline
from station.services.bundles import members as bundle_cases
from station.services.errors import DomainError
from station.services.station_info import get_profile

log = logging.getLogger(__name__)

LIBRARY_FOLDER = "library"
REUSED = "reused"  # the intake form's status for "已核验，可复用" (saved as provided, with its origin)
TYPED = "typed"  # validity: the expiry date typed at verification
#: How long a verification stays good, per material key: TYPED, or a number of months.
#: A station admin overrides one with the setting ``library_validity:<key>``.
DEFAULT_VALIDITY: Mapping[str, str | int] = {
    "id_card": TYPED, "guardian_id_card": TYPED, "hukou_book": 6, "marriage_cert": 120,
    "bank_card": 24, "real_estate_cert": 60,
}
DEFAULT_MONTHS = 12
CONSENT_FIELD = "library_consent"
CONSENT_TEXT = "申请人同意本站保存其已核验的材料（有效期内下次办事直接复用），并同意向县级平台查询其电子证照；可随时撤回。"


# --- settings ---------------------------------------------------------------------------------------
def validity_rule(key: str) -> str | int:
    """TYPED or a number of months for material ``key`` (the station's setting first)."""
    stored = Setting.get_value(f"library_validity:{key}")
    if stored == TYPED:
        return TYPED
    if stored.isdigit() and int(stored) > 0:
        return int(stored)
    return DEFAULT_VALIDITY.get(key, DEFAULT_MONTHS)


def set_validity(key: str, rule: str) -> str | int:
    """Admin setting: how long a verification of material ``key`` stays good (``typed`` or 1–600 months)."""
    rule = (rule or "").strip()
    known = {m.key for m in Material.select(Material.key).distinct()}
    if key not in known:
        raise DomainError("目录中没有这项材料。")
    if rule != TYPED and not (rule.isdigit() and 1 <= int(rule) <= 600):
        raise DomainError("有效期须为 1–600 个月，或选择“按证件有效期”。")
    Setting.set_value(f"library_validity:{key}", rule)
    return validity_rule(key)


def material_name(key: str) -> str:
    """The catalog's name for material ``key`` (what the admin reads in the access log), or the key."""
    row = Material.select(Material.name).where(Material.key == key).first()
    return row.name if row is not None else key


def validity_table() -> list[tuple[str, str, str | int]]:
    """Every material key of the catalog with its name and validity rule, for the admin page."""
    names: dict[str, str] = {}
    for key, name in Material.select(Material.key, Material.name).tuples():
        names.setdefault(key, name)
    return [(key, names[key], validity_rule(key)) for key in sorted(names)]


# --- consent ------------------------------------------------------------------------------------------
def consent_of(id_number: str) -> ResidentConsent | None:
    """Her consent if it stands (given and not withdrawn), else None."""
    if not id_number:
        return None
    row = (ResidentConsent.select().where(ResidentConsent.resident_index.in_(personal.id_indexes(id_number)))
           .first())
    return row if row is not None and row.active else None


def record_consent(id_number: str, user: User) -> ResidentConsent:
    """Record her consent (once: a standing consent is left as it was given)."""
    standing = consent_of(id_number)
    if standing is not None:
        return standing
    index = personal.id_index(id_number)
    with db.atomic():
        ResidentConsent.delete().where(ResidentConsent.resident_index.in_(personal.id_indexes(id_number))).execute()
        row = ResidentConsent.create(resident_index=index, masked_id=mask_id_number(id_number),
                                     resident_id_stored=personal.seal(id_number), given_at=now(), given_by=user.name)
        access_log.record("library_consent", user=user, obj=id_number,
                          detail="申请人同意保存已核验材料并查询电子证照")
    return row


def consent_by_index(resident_index: str) -> ResidentConsent | None:
    """Her standing consent by the blind index a page carries (so no page echoes her full number)."""
    row = ResidentConsent.get_or_none(ResidentConsent.resident_index == resident_index)
    return row if row is not None and row.active else None


def withdraw_consent(resident_index: str, user: User, root: str) -> int:
    """Withdraw her consent: her kept materials and their files are deleted; returns how many went."""
    standing = consent_by_index(resident_index) if resident_index else None
    if standing is None:
        raise DomainError("该居民没有有效的材料保存同意，无需撤回。")
    with db.atomic("IMMEDIATE"):
        kept = list(KeptMaterial.select().where(KeptMaterial.resident_index == resident_index))
        KeptMaterial.delete().where(KeptMaterial.resident_index == resident_index).execute()
        ResidentConsent.update(withdrawn_at=now(), withdrawn_by=user.name).where(
            ResidentConsent.resident_index == resident_index).execute()
        names = "、".join(k.name for k in kept) or "无"
        access_log.record("library_withdraw", user=user, obj=standing.masked_id,
                          detail=f"申请人撤回材料保存同意，已删除保存的材料 {len(kept)} 份：{names}")
    for row in kept:  # after the commit: a failed delete never leaves a row pointing at nothing
        kept_file(root, row.id).unlink(missing_ok=True)
    return len(kept)


# --- the kept materials ---------------------------------------------------------------------------
def kept_file(root: str, kept_id: str) -> Path:
    """Where a kept material's own sealed copy of its scan lives."""
    return Path(root) / LIBRARY_FOLDER / kept_id


def kept_for(id_number: str) -> dict[str, KeptMaterial]:
    """Her newest kept material per key (valid or not: the form says which may be reused)."""
    if not id_number or consent_of(id_number) is None:
        return {}
    rows = (KeptMaterial.select().where(KeptMaterial.resident_index.in_(personal.id_indexes(id_number)))
            .order_by(KeptMaterial.verified_at.desc(), KeptMaterial.created_at.desc()))
    found: dict[str, KeptMaterial] = {}
    for row in rows:
        found.setdefault(row.key, row)
    return found


def read_kept(root: str, kept: KeptMaterial) -> bytes | None:
    """A kept material's scan as scanned (None when its file is gone)."""
    path = kept_file(root, kept.id)
    return keys.ring().unseal_bytes(path.read_bytes()) if path.exists() else None


def is_valid(kept: KeptMaterial, today: dt.date) -> bool:
    return kept.valid_until is not None and kept.valid_until >= today


def verification_of(kept: KeptMaterial) -> dict[str, Any]:
    """The original verification a reuse relies on: who, where, when — what the county is told."""
    return {
        "kept_id": kept.id, "verified_at": kept.verified_at.isoformat(timespec="seconds"),
        "verified_by": kept.verified_by, "station_code": kept.station_code, "station_name": kept.station_name,
        "case_no": kept.case_no, "valid_until": kept.valid_until.isoformat() if kept.valid_until else None,
        "sha256": kept.sha256,
    }


def keep_scan(case: Case, material: CaseMaterial, attachment: Attachment, data: bytes, root: str) -> KeptMaterial | None:
    """Keep a scan taken for a verified material of the case, if she consented; else None.

    A material reused from the library is already kept; one handed in otherwise than as a
    verified original (missing, deferred, promised) is not a verification to keep.
    """
    id_number = personal.applicant_id_number(case)
    if material.status != "provided" or material.reused_from or consent_of(id_number) is None:
        return None
    verified_on = case.received_at.date()
    rule = validity_rule(material.key)
    valid_until = material.valid_until if rule == TYPED else add_months(verified_on, int(rule))
    if valid_until is None:
        return None
    profile = get_profile()
    kept = KeptMaterial.create(
        id=str(ULID()), resident_index=personal.id_index(id_number), key=material.key, name=material.name,
        sha256=attachment.sha256, filename=attachment.filename, content_type=attachment.content_type,
        size=attachment.size, verified_at=case.received_at, verified_by=case.agent.name,
        station_code=profile.code, station_name=profile.name, case_id=case.id, case_no=case.case_no,
        valid_until=valid_until)
    attachments.write_sealed(kept_file(root, kept.id), data)
    timeline.record(case, "系统", "library_kept", f"已存入申请人材料库：{material.name}（有效期至 {valid_until.isoformat()}）",
                    {"kept_id": kept.id})
    return kept


@dataclass
class ScanResult:
    attachment: Attachment
    kept: KeptMaterial | None = None
    also_on: list[str] = field(default_factory=list)  # case numbers of the bundle's other cases


def scan_material(case: Case, user: User, filename: str, data: bytes, root: str, max_bytes: int,
                  material_key: str = "") -> ScanResult:
    """Store a scan for a case, naming the material it shows (optional).

    Named, it goes on every case of the 一件事 bundle that asks for that material (the resident
    hands it over once for all of them; the county gets the file once, by its SHA-256), and a
    verified original is kept for her next cases when she consented.
    """
    material = None
    if material_key:
        material = CaseMaterial.get_or_none((CaseMaterial.case == case) & (CaseMaterial.key == material_key))
        if material is None:
            raise DomainError("所选材料不在本办件的材料清单中。")
    attachment = attachments.add_attachment(case, user, filename, data, root, max_bytes)
    result = ScanResult(attachment)
    if material is None:
        return result
    for other in bundle_cases(case):
        if other.id == case.id or other.status == "not_collected":
            continue
        asks = CaseMaterial.select().where((CaseMaterial.case == other) & (CaseMaterial.key == material_key)).exists()
        holds = Attachment.select().where((Attachment.case == other) & (Attachment.sha256 == attachment.sha256)).exists()
        if asks and not holds:
            attachments.add_attachment(other, user, filename, data, root, max_bytes)
            result.also_on.append(other.case_no)
    with db.atomic():
        result.kept = keep_scan(case, material, attachment, data, root)
    return result


# --- intake ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Offer:
    """A kept material the intake form offers for one line of its checklist."""

    kept: KeptMaterial
    valid: bool

    @property
    def verified_on(self) -> dt.date:
        return self.kept.verified_at.date()


def offers_for(id_number: str, keys: list[str], today: dt.date) -> dict[str, Offer]:
    """What the library holds for her, for the checklist's material keys."""
    kept = kept_for(id_number)
    return {key: Offer(kept[key], is_valid(kept[key], today)) for key in keys if key in kept}


def consent_ticked(raw: Mapping[str, str]) -> bool:
    return (raw.get(CONSENT_FIELD) or "") == "1"


def reuse_choice(key: str, name: str, raw: Mapping[str, str], id_number: str, today: dt.date,
                 errors: dict[str, str]) -> dict[str, Any] | None:
    """For a checklist line marked 可复用: the reuse it stands for, or None with the reason in ``errors``.

    Returns ``{"reused_from", "origin"}``. Refused (nothing saved): a kept material of another
    resident, of another material, past its validity, or with her consent withdrawn.
    """
    field_name = f"mat__{key}__status"
    kept_id = (raw.get(f"mat__{key}__kept") or "").strip()
    kept = KeptMaterial.get_or_none(KeptMaterial.id == kept_id) if kept_id else None
    if kept is None:
        errors[field_name] = f"没有找到可复用的“{name}”，请重新核验原件。"
        return None
    if not id_number or kept.resident_index not in personal.id_indexes(id_number):
        errors[field_name] = f"所选的已核验“{name}”不属于本申请人，不能复用。"
        return None
    if kept.key != key:
        errors[field_name] = f"所选的已核验材料不是“{name}”，不能复用。"
        return None
    if consent_of(id_number) is None:
        errors[field_name] = "申请人已撤回保存材料的同意，不能复用，请重新核验原件。"
        return None
    if not is_valid(kept, today):
        until = kept.valid_until.isoformat() if kept.valid_until else "未知"
        errors[field_name] = f"已核验的“{name}”已过有效期（至 {until}），不能复用，请重新核验原件。"
        return None
    verification = verification_of(kept)
    if (raw.get(f"mat__{key}__recheck") or "") == "1":
        verification["rechecked"] = True
    return {"reused_from": kept.id, "origin": {"reused": verification}}


def typed_validity(key: str, name: str, raw: Mapping[str, str], today: dt.date,
                   errors: dict[str, str]) -> dt.date | None:
    """The expiry date typed at verification for a material kept until it (an ID card), checked.

    Asked only when she consents to keeping materials: without it the verification cannot be kept.
    """
    if validity_rule(key) != TYPED or not consent_ticked(raw):
        return None
    text = (raw.get(f"mat__{key}__valid_until") or "").strip()
    if text in ("长期", "long"):
        return dt.date(9999, 12, 31)
    try:
        until = dt.date.fromisoformat(text)
    except ValueError:
        errors[f"mat__{key}__valid_until"] = f"请填写“{name}”的有效期截止日期（证件上印的，长期有效填“长期”）。"
        return None
    if until < today:
        errors[f"mat__{key}__valid_until"] = f"“{name}”已过有效期（{until.isoformat()}），请申请人换领后再办。"
        return None
    return until


def link_reused(case: Case, agent: User, root: str | None = None) -> None:
    """Inside the intake transaction, before the case is queued: put each reused scan on the new case.

    A reused material's file goes on the case under the same SHA-256 (the county already holds
    it for this station, so it is not sent again); a file gone from the case folder (a purged
    old case) is copied back from the kept copy.
    """
    for material in CaseMaterial.select().where((CaseMaterial.case == case) & (CaseMaterial.reused_from != "")):
        kept = KeptMaterial.get_or_none(KeptMaterial.id == material.reused_from)
        if kept is None:
            raise DomainError(f"可复用的“{material.name}”刚被删除（申请人撤回了同意），请重新核验原件。")
        _link_file(case, kept, agent, root or attachment_root())  # the folder is asked for only when used
        timeline.record(case, timeline.actor_of(agent), "material_reused",
                        f"复用 {kept.verified_at:%Y-%m-%d} {kept.station_name} 核验的{kept.name}（办件 {kept.case_no}）",
                        {"kept_id": kept.id})
        access_log.record("library_reuse", user=agent, case_id=case.id, obj=case.case_no,
                          detail=f"复用 {kept.verified_at:%Y-%m-%d} 核验的{kept.name}（办件 {kept.case_no}）")


def _link_file(case: Case, kept: KeptMaterial, agent: User, root: str) -> None:
    path = attachments.blob_path(root, kept.sha256)
    if not path.exists():
        data = read_kept(root, kept)
        if data is None:
            raise DomainError(f"已核验的“{kept.name}”扫描件丢失，不能复用，请重新核验原件并扫描。")
        attachments.write_sealed(path, data)
    if not Attachment.select().where((Attachment.case == case) & (Attachment.sha256 == kept.sha256)).exists():
        Attachment.create(id=str(ULID()), case=case, sha256=kept.sha256, filename=kept.filename,
                          content_type=kept.content_type, size=kept.size, uploaded_by=agent)


def attachment_root() -> str:
    return str(current_app.config["ATTACHMENT_DIR"])


@dataclass(frozen=True)
class IntakePanel:
    """What the intake form shows of her library: her consent and the offers per checklist line."""

    consent: ResidentConsent | None
    offers: dict[str, Offer]
    licences: dict[str, Any] = field(default_factory=dict)  # licence kind → today's LicenceCheck

    @property
    def reusable(self) -> int:
        return sum(1 for offer in self.offers.values() if offer.valid)


def intake_panel(id_number: str, keys: list[str], today: dt.date, licences: dict[str, Any] | None = None) -> IntakePanel:
    """Her library as the intake form shows it (nothing when the number is not a resident's yet)."""
    if not id_number:
        return IntakePanel(None, {})
    return IntakePanel(consent_of(id_number), offers_for(id_number, keys, today), licences or {})
