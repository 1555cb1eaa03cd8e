"""Paper originals by one code (物料流转): batches, handovers by scanning, and where the papers are.

A batch gathers the papers of several cases under one barcode (the 物料流转单). Every change of
hands is recorded by scanning that barcode — a USB scanner types it like a keyboard and ends with
Enter — with who gave, who received, where and when, and any line found missing or any paper
found extra. The batch (its lines per case) and each handover go to the county as events on each
case of the batch — by network or inside a USB bundle — so a county clerk can scan the barcode
too. A station that receives another station's batch on paper (a township, from a village)
records its handovers by the barcode alone (:func:`receive_foreign`); those go to the county by
batch number (``sync/transfers_push.py``). Handovers recorded elsewhere come back down the
county's feed (:func:`apply_from_county`), so "where are the originals" stays right here; so does
the county's refusal of one recorded here (``station/services/transfer_refusals.py``): it is shown
with its reason, no longer counts for where the papers are, and is sent again each round.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from peewee import JOIN, fn
from ulid import ULID

from printouts.data import Handover, TransferDoc, TransferLine
from rules import case_numbers, events
from rules.privacy import mask_name, mask_numbers_in
from rules.transfers import (
    ARRIVED,
    HANDOVER_WORKING_DAYS,
    IN_TRANSIT,
    STATES,
    handover_problems,
    normalize_code,
    origin_of,
)
from rules.workdays import WorkCalendar
from station.models import Case, CaseMaterial, Transfer, TransferHandover, TransferItem, User
from station.services import timeline
from station.services.errors import DomainError, NotFound, ValidationFailed
from station.services.station_info import get_profile
from sync import state
from sync.local_db import db, now, seal_text
from sync.outbox import enqueue

UP, RESIDENT = "up", "resident"
DIRECTIONS = {UP: "上报（村 → 乡镇 → 县）", RESIDENT: "退还申请人"}
PAPER_STATUSES = ("provided",)  # handed in on paper at intake (not 容缺, 承诺 or 电子证照)


def _on_paper() -> Any:
    """Which material rows exist on paper: handed in at intake, or brought later as an original seen or a copy."""
    return CaseMaterial.status.in_(PAPER_STATUSES) | CaseMaterial.supplied_as.in_(("original_seen", "copy"))


def papers_of(case: Case) -> list[CaseMaterial]:
    """The materials of a case that exist on paper at the station.

    A case turned away (一次性告知) kept nothing: the resident took what she showed back home.
    """
    if case.status == "not_collected":
        return []
    return list(CaseMaterial.select().where((CaseMaterial.case == case) & _on_paper()).order_by(CaseMaterial.position))


def cases_awaiting_transfer(limit: int = 200) -> list[Case]:
    """Cases with papers at this station that no batch carries yet, oldest first.

    Papers are asked of the database before the limit: a station with many old cases kept wholly
    as 容缺 or 电子证照 once got a list of their first ``limit``, filtered down to a few.
    """
    carried = TransferItem.select(TransferItem.case).where(TransferItem.case.is_null(False))
    with_papers = CaseMaterial.select(CaseMaterial.case).where(_on_paper())
    return list(Case.select().where(Case.id.not_in(carried) & (Case.status != "not_collected")
                                    & Case.id.in_(with_papers))
                .order_by(Case.received_at).limit(limit))


def _new_batch_no(day: dt.date) -> str:
    """The day's next batch number of this device; a laptop's carry its device suffix, as its case numbers do."""
    code = re.sub(r"[^0-9A-Z-]", "", (get_profile().code or "ST").upper())[:30] or "ST"
    prefix = f"WL-{code}-{day:%Y%m%d}-"
    suffix = case_numbers.device_suffix(state.device_number())
    mine = re.compile(re.escape(prefix) + r"\d{2,3}" + re.escape(suffix) + "$")
    taken = sum(1 for (no,) in Transfer.select(Transfer.batch_no).where(Transfer.batch_no.startswith(prefix)).tuples()
                if mine.match(no))
    return f"{prefix}{taken + 1:02d}{suffix}"


def create_transfer(case_ids: list[str], *, destination: str, direction: str, user: User) -> Transfer:
    """Put the papers of these cases into a new batch, one line per material, held by ``user``."""
    errors: dict[str, str] = {}
    destination = (destination or "").strip()
    if not destination:
        errors["destination"] = "请填写送往何处（如：东关镇便民服务中心）。"
    elif len(destination) > 100:
        errors["destination"] = "送往单位名称过长（最多100字）。"
    if direction not in DIRECTIONS:
        errors["direction"] = "请选择流转方向。"
    cases = list(Case.select().where(Case.id.in_(list(dict.fromkeys(case_ids))))) if case_ids else []
    if not cases:
        errors["cases"] = "请至少选择一件办件。"
    if errors:
        raise ValidationFailed(errors)
    with db.atomic("IMMEDIATE"):  # the write lock first: a double click must find the first batch made
        _refuse_papers_already_packed(cases)
        lines = [(case, m) for case in cases for m in papers_of(case)]
        if not lines:
            raise DomainError("所选办件在本站没有纸质材料，无需流转。")
        stamp = now()
        transfer = Transfer.create(id=str(ULID()), batch_no=_new_batch_no(stamp.date()), direction=direction,
                                   destination=destination, state=IN_TRANSIT, created_by=user.name,
                                   created_at=stamp, updated_at=stamp)
        for case, material in lines:
            TransferItem.create(transfer=transfer, case=case, material=material, case_no=case.case_no,
                                item_name=case.item.name, material_name=material.name, form=material.form,
                                copies=material.copies)
        for case in cases:
            timeline.record(case, timeline.actor_of(user), "transfer",
                            f"纸质材料装入流转批次 {transfer.batch_no}，送往{destination}")
            mine = [m for c, m in lines if c.id == case.id]
            enqueue(case.id, events.ORIGINALS_PACKED,
                    {"transfer_id": transfer.id, "batch_no": transfer.batch_no, "direction": direction,
                     "destination": destination, "created_by": user.name, "created_at": _iso(stamp),
                     "items": [{"material_name": m.name, "form": m.form, "copies": m.copies, "state": "present"}
                               for m in mine]},
                    catalog_version=case.catalog_version, deadline=case.committed_due)
    return transfer


def _refuse_papers_already_packed(cases: list[Case]) -> None:
    """One case's papers travel in one batch: a second batch of the same papers (a double click on
    建立, or a form left open at two desks) would give the county two holders for one original."""
    packed = (TransferItem.select(TransferItem.case_no, Transfer.batch_no).join(Transfer)
              .where(TransferItem.case.in_([c.id for c in cases])).distinct().order_by(TransferItem.case_no).tuples())
    by_batch: dict[str, list[str]] = {}
    for case_no, batch_no in packed:
        by_batch.setdefault(batch_no, []).append(case_no)
    if by_batch:
        raise DomainError("所选办件的纸质材料已装入流转批次，不能重复装入："
                          + "；".join(f"{batch} 已装 {'、'.join(nos)}" for batch, nos in sorted(by_batch.items()))
                          + "。请在“物料流转”页打开该批次打印流转单。")


def _iso(at: dt.datetime) -> str:
    return at.astimezone().replace(microsecond=0).isoformat()


class NotHere(NotFound):
    """A well-formed batch number of another station: its papers came here on paper only (receive them)."""

    def __init__(self, code: str, origin: str) -> None:
        super().__init__(f"批次 {code} 是 {origin} 制作的，本站尚无记录：请登记接收。")
        self.code, self.origin = code, origin


def find_by_code(typed: str) -> Transfer:
    """The batch whose barcode was scanned (or typed); :class:`NotHere` for another station's batch."""
    code = normalize_code(typed)
    if not code:
        raise DomainError("请扫描流转单上的条码（或输入批次号）。")
    transfer = Transfer.get_or_none(Transfer.batch_no == code)
    if transfer is None:
        origin = origin_of(code)
        if origin and origin != (get_profile().code or "").upper():
            raise NotHere(code, origin)
        hint = "" if origin else "（这不像流转单的批次号，是否扫了别的条码？）"
        raise NotFound(f"没有找到批次 {code}{hint}")
    return transfer


def receive_foreign(typed: str, *, user: User, **handover: Any) -> TransferHandover:
    """Another station's batch handed over here on paper: keep it by its barcode and record the handover.

    Lines are not known here (they are on the paper sheet and at the county), so what is found
    missing is written by name. The handover goes to the county by batch number with the next sync.
    """
    code = normalize_code(typed)
    origin = origin_of(code)
    if not origin:
        raise DomainError(f"{mask_numbers_in(code) or '（空）'} 不是流转单的批次号，请重新扫描。")
    with db.atomic("IMMEDIATE"):
        transfer = Transfer.get_or_none(Transfer.batch_no == code)
        if transfer is None:
            stamp = now()
            transfer = Transfer.create(id=str(ULID()), batch_no=code, direction=UP, origin_station=origin,
                                       destination=get_profile().name or "本站", state=IN_TRANSIT,
                                       created_by=origin, created_at=stamp, updated_at=stamp)
        return record_handover(transfer, user=user, **handover)


@dataclass(frozen=True)
class Custody:
    """Who holds a batch now, where, since when — for a page and for the answer to "where is it"."""

    transfer: Transfer
    holder: str
    place: str
    since: dt.datetime
    handovers: int
    refused: int = 0  # handovers recorded here that the county did not take (not counted above)

    @property
    def state_label(self) -> str:
        return STATES.get(self.transfer.state, self.transfer.state)

    def hours(self, at: dt.datetime | None = None) -> int:
        return int(((at or now()) - self.since).total_seconds() // 3600)

    def late(self, today: dt.date, calendar: WorkCalendar) -> bool:
        """In one hand past HANDOVER_WORKING_DAYS working days (the day it was handed over does not count)."""
        return today > calendar.add_working_days(self.since.date(), HANDOVER_WORKING_DAYS).due

    def words(self) -> str:
        """One line a clerk reads aloud."""
        if self.transfer.state == ARRIVED:
            return f"已送达{self.place}，由 {self.holder} 接收（{self.since:%Y-%m-%d %H:%M}）"
        return f"在途：由 {self.holder} 保管（{self.place}，{self.since:%Y-%m-%d %H:%M} 起）"


def custody_of(transfer: Transfer) -> Custody:
    """The batch's holder: the receiver of its last handover, else the one who packed it at this station.

    A handover the county refused does not count: the county and the packing station do not know it,
    and this station must not answer otherwise while it waits to be taken.
    """
    refused = (TransferHandover.select().where((TransferHandover.transfer == transfer)
                                               & (TransferHandover.refusal != "")).count()
               if transfer.foreign else 0)  # only handovers of another station's batch go by the push
    last = (TransferHandover.select().where((TransferHandover.transfer == transfer)  # by when, wherever recorded
                                            & (TransferHandover.refusal == ""))
            .order_by(TransferHandover.at.desc(), TransferHandover.seq.desc()).first())
    if last is None:
        place = transfer.origin_station if transfer.foreign else get_profile().name or "本站"
        return Custody(transfer, transfer.created_by, place, transfer.created_at, 0, refused)
    holder = mask_name(last.receiver) if last.receiver_kind == "resident" else last.receiver
    return Custody(transfer, holder, last.place, last.at, last.seq, refused)


def handovers_so_far(transfer: Transfer | None) -> int:
    """The number of the batch's last handover (0: none yet, or a batch not held here): a handover form
    carries it, so a second click on it records nothing twice (record_handover's ``seen_handovers``)."""
    if transfer is None:
        return 0
    return TransferHandover.select(fn.MAX(TransferHandover.seq)).where(TransferHandover.transfer == transfer).scalar() or 0


def record_handover(transfer: Transfer, *, giver: str, receiver: str, place: str, user: User,
                    missing: list[int] | None = None, extra: str = "", note: str = "", arrived: bool = False,
                    receiver_kind: str = "staff", at: dt.datetime | None = None,
                    missing_names: str = "", seen_handovers: int | None = None) -> TransferHandover:
    """Record one change of hands; lines found missing and papers found extra are kept on the batch.

    Each case of the batch gets an ``case.originals_handover`` event in the same transaction, so
    the county learns who holds its papers exactly once. ``missing_names`` (one a line): what was
    found missing of another station's batch, whose lines this station does not hold.
    ``seen_handovers``: how many handovers the form's page showed; when one was recorded since (a
    second click on 登记交接, a second desk), nothing is recorded and the user is told.
    """
    giver, receiver, place = (giver or "").strip(), (receiver or "").strip(), (place or "").strip()
    errors = handover_problems(giver, receiver, place)
    if receiver_kind not in ("staff", "resident"):
        errors["receiver_kind"] = "接收人类型不正确。"
    if errors:
        raise ValidationFailed(errors)
    if transfer.state == ARRIVED:
        raise DomainError(f"批次 {transfer.batch_no} 已于 {transfer.updated_at:%Y-%m-%d %H:%M} 送达终点，不能再交接。")
    items = {i.id: i for i in TransferItem.select().where(TransferItem.transfer == transfer)}
    wanted_missing = [int(i) for i in (missing or [])]
    unknown = [i for i in wanted_missing if i not in items or items[i].state != "present"]
    if unknown:
        raise DomainError("勾选的缺失材料不在本批次的随批清单中，请刷新页面后重试。")
    extras = _lines(extra)
    stamp = at or now()
    with db.atomic("IMMEDIATE"):  # the write lock first: a second click waits here, then sees the first
        seq = handovers_so_far(transfer) + 1
        if seen_handovers is not None and seen_handovers != seq - 1:
            last = TransferHandover.get((TransferHandover.transfer == transfer) & (TransferHandover.seq == seq - 1))
            raise DomainError(f"批次 {transfer.batch_no} 在本页打开后已登记了第 {last.seq} 次交接"
                              f"（{last.at:%H:%M}，{last.place}），这次未重复登记。请核对现在的保管人后再登记。")
        handover = TransferHandover.create(
            transfer=transfer, seq=seq, giver=giver, place=place or get_profile().name or "本站",
            receiver=seal_text(receiver) if receiver_kind == "resident" else receiver, receiver_kind=receiver_kind,
            at=stamp, missing=[items[i].material_name for i in wanted_missing] + _lines(missing_names), extra=extras,
            note=(note or "").strip()[:500], recorded_by=user.name, handover_id=str(ULID()))
        if wanted_missing:
            TransferItem.update(state="missing").where(TransferItem.id.in_(wanted_missing)).execute()
        for line in extras:
            TransferItem.create(transfer=transfer, material_name=line, state="extra", form="", copies=0)
        if arrived or receiver_kind == "resident":
            transfer.state = ARRIVED
        transfer.updated_at = stamp
        transfer.save()
        _tell_the_county(transfer, handover, receiver if receiver_kind == "staff" else mask_name(receiver), user,
                         wanted_missing)
    return handover


def _lines(text: str) -> list[str]:
    return [line.strip()[:200] for line in (text or "").splitlines() if line.strip()][:100]


def _tell_the_county(transfer: Transfer, handover: TransferHandover, receiver_shown: str, user: User,
                     found_missing: list[int]) -> None:
    """One event per case of the batch (in the handover's transaction), and a line on each case's timeline."""
    lines = list(TransferItem.select().where(TransferItem.transfer == transfer).order_by(TransferItem.id))
    by_case: dict[str, list[TransferItem]] = {}
    for line in lines:
        if line.case_id:
            by_case.setdefault(line.case_id, []).append(line)
    for case in Case.select().where(Case.id.in_(list(by_case))):
        mine = by_case[case.id]
        payload: dict[str, Any] = {
            "transfer_id": transfer.id, "batch_no": transfer.batch_no, "handover": handover.seq,
            "handover_id": handover.handover_id,
            "giver": handover.giver, "receiver": receiver_shown, "receiver_kind": handover.receiver_kind,
            "place": handover.place, "at": _iso(handover.at),
            "direction": transfer.direction, "destination": transfer.destination,
            "arrived": transfer.state == ARRIVED,
            "items": [{"material_name": i.material_name, "form": i.form, "copies": i.copies, "state": i.state}
                      for i in mine],
            # what this handover found: the lines of this case found missing now, the papers found extra now
            "missing": [i.material_name for i in mine if i.id in found_missing],
            "extra": list(handover.extra or []),
            "note": handover.note,
        }
        enqueue(case.id, events.ORIGINALS_HANDOVER, payload, catalog_version=case.catalog_version,
                deadline=case.committed_due)
        missing = f"，缺失：{'、'.join(payload['missing'])}" if payload["missing"] else ""
        timeline.record(case, timeline.actor_of(user), "transfer",
                        f"批次 {transfer.batch_no} 第 {handover.seq} 次交接：{handover.giver} → {receiver_shown}"
                        f"（{handover.place}）{missing}")


def where_are_papers(case: Case) -> list[dict[str, Any]]:
    """For a case: each batch that carries its papers, who holds them, and what of them is missing."""
    found = []
    rows = (TransferItem.select(TransferItem, Transfer).join(Transfer)
            .where(TransferItem.case == case).order_by(Transfer.created_at))
    seen: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = seen.get(row.transfer.id)
        if entry is None:
            entry = seen[row.transfer.id] = {"custody": custody_of(row.transfer), "items": []}
            found.append(entry)
        entry["items"].append(row)
    return found


def in_transit(limit: int = 200) -> list[Custody]:
    """Batches not yet at their destination, the longest in transit first (by their last handover)."""
    transfers = (Transfer.select().join(TransferItem, JOIN.LEFT_OUTER).where(Transfer.state == IN_TRANSIT)
                 .group_by(Transfer.id).order_by(Transfer.updated_at).limit(limit))
    return sorted((custody_of(t) for t in transfers), key=lambda c: c.since)


def recent(limit: int = 50) -> list[Custody]:
    """The newest batches, whatever their state."""
    return [custody_of(t) for t in Transfer.select().order_by(Transfer.created_at.desc()).limit(limit)]


def transfer_doc(transfer: Transfer) -> TransferDoc:
    """The 物料流转单 of a batch: a line per material (extra papers too), the handovers so far (resident masked)."""
    lines = tuple(TransferLine(i.case_no or "（清单外）", i.item_name or "—",
                               i.material_name + ("（缺失）" if i.state == "missing" else "（多出）" if i.state == "extra" else ""),
                               i.form or "original", i.copies,
                               handling_area_name=i.case.item.handling_area_name if i.case_id else "")
                  for i in TransferItem.select().where(TransferItem.transfer == transfer).order_by(TransferItem.id))
    handovers = tuple(
        Handover(mask_name(h.receiver) if h.receiver_kind == "resident" else h.receiver, h.at, h.place,
                 f"第{h.seq}次 {h.giver}交出")
        for h in TransferHandover.select().where(TransferHandover.transfer == transfer).order_by(TransferHandover.seq))
    return TransferDoc(batch_no=transfer.batch_no, from_station=get_profile().name or "本站",
                       to_station=transfer.destination, created_at=transfer.created_at, handed_by=transfer.created_by,
                       lines=lines, handovers=handovers)


def apply_from_county(payload: dict[str, Any]) -> TransferHandover | None:
    """A handover recorded elsewhere (the county, or a township that scanned our batch), from the feed.

    Added once (by its id) to the batch this station holds, whether it packed it or received it
    on paper; a batch this station does not hold is left alone. Inside the pull's transaction.
    """
    handover_id = str(payload.get("handover_id") or "")[:80]
    transfer = None
    if payload.get("transfer_id"):
        transfer = Transfer.get_or_none(Transfer.id == str(payload["transfer_id"]))
    if transfer is None:
        transfer = Transfer.get_or_none(Transfer.batch_no == normalize_code(str(payload.get("batch_no") or "")))
    if transfer is None or not handover_id or TransferHandover.get_or_none(TransferHandover.handover_id == handover_id):
        return None
    try:
        at = dt.datetime.fromisoformat(str(payload.get("at"))).astimezone().replace(tzinfo=None, microsecond=0)
    except ValueError:
        at = now()
    missing = [str(m)[:200] for m in payload.get("missing") or [] if isinstance(m, str)]
    extras = [str(m)[:200] for m in payload.get("extra") or [] if isinstance(m, str)]
    seq = (TransferHandover.select(fn.MAX(TransferHandover.seq))
           .where(TransferHandover.transfer == transfer).scalar() or 0) + 1
    where = str(payload.get("recorded_where") or "县级平台")[:60]
    handover = TransferHandover.create(
        transfer=transfer, seq=seq, giver=str(payload.get("giver") or "")[:100],
        receiver=str(payload.get("receiver") or "")[:100], receiver_kind="staff",  # a resident comes masked
        place=str(payload.get("place") or where)[:100], at=at, missing=missing, extra=extras,
        note=str(payload.get("note") or "")[:500], recorded_by=f"{where} {payload.get('recorded_by') or ''}".strip(),
        handover_id=handover_id, source="county")
    if missing:
        TransferItem.update(state="missing").where(
            (TransferItem.transfer == transfer) & (TransferItem.material_name.in_(missing))
            & (TransferItem.state == "present")).execute()
    known = {i.material_name for i in TransferItem.select().where(
        (TransferItem.transfer == transfer) & (TransferItem.state == "extra"))}
    for line in extras:
        if line not in known:
            TransferItem.create(transfer=transfer, material_name=line, state="extra", form="", copies=0)
    if payload.get("arrived"):
        transfer.state = ARRIVED
    transfer.updated_at = max(transfer.updated_at, at)
    transfer.save()
    cases = {i.case_id for i in TransferItem.select(TransferItem.case).where(
        (TransferItem.transfer == transfer) & TransferItem.case.is_null(False))}
    for case in Case.select().where(Case.id.in_(list(cases))):
        timeline.record(case, where, "transfer", f"批次 {transfer.batch_no} 在{where}交接：{handover.giver} → "
                                                 f"{handover.receiver}（{handover.place}）")
    return handover


def pending_push(limit: int = 200) -> list[dict[str, Any]]:
    """Handovers recorded here of other stations' batches, not yet confirmed by the county (oldest first)."""
    rows = (TransferHandover.select(TransferHandover, Transfer).join(Transfer)
            .where(Transfer.origin_station != "", TransferHandover.source == "here", TransferHandover.sent_at.is_null())
            .order_by(TransferHandover.id).limit(limit))
    rows = list(rows)
    last = {t: seq for t, seq in TransferHandover.select(TransferHandover.transfer, fn.MAX(TransferHandover.seq))
            .where(TransferHandover.transfer.in_([h.transfer_id for h in rows]))
            .group_by(TransferHandover.transfer).tuples()}
    return [{"handover_id": h.handover_id, "batch_no": h.transfer.batch_no, "giver": h.giver,
             "receiver": mask_name(h.receiver) if h.receiver_kind == "resident" else h.receiver,
             "receiver_kind": h.receiver_kind, "place": h.place, "at": _iso(h.at), "missing": list(h.missing or []),
             "extra": list(h.extra or []), "note": h.note,
             # the batch's end was recorded with its last handover here, not with the ones before it
             "arrived": h.transfer.state == ARRIVED and h.seq == last.get(h.transfer_id),
             "recorded_by": h.recorded_by} for h in rows]


def push_confirmed(handover_ids: list[str]) -> None:
    """The county stored these handovers (or had them already): they are not sent again, nor shown refused."""
    with db.atomic():
        TransferHandover.update(sent_at=now(), refusal="").where(
            TransferHandover.handover_id.in_(handover_ids)).execute()
