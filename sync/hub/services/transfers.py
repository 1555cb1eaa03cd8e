"""物料流转 at the county: transfer batches known by their barcode, and where the papers are.

A batch reaches the county three ways, all kept in the same three tables:

- from the station that packed it, as events on its cases — ``case.originals_packed`` (the batch
  and that case's lines) and ``case.originals_handover`` (each handover scanned there); they ride
  the outbox, so they come by network or inside a USB bundle alike;
- from a township that received a village's batch on paper and scanned its barcode: the township
  does not hold the batch, so it sends its handovers by batch number (``POST /api/v1/transfers/
  handovers``, :func:`record_station_handovers`); a batch the county does not know yet is kept by
  that number until the village's events name it, its handovers pending (stored, not yet applied);
- from a county clerk who scans the barcode on the hub's 物料流转 page (:func:`record_at_county`).

Only a station on the batch's route records its handovers (:func:`route_refusal`): the one that packed
it, the township centre the county registered for that station (its ``township`` setting), the
station the batch is sent to (its name as the sheet's destination), and a station already holding
it per earlier handovers. Another station's handover is refused per item; a pending one is refused
(dropped, logged, and the station told by a ``transfer.handover_refused`` change) when the batch
becomes known, before anything of it is applied.

Every handover is announced as a ``transfer.handover`` change to each station that holds the batch
(the one that packed it, and any that scanned it) except the one that recorded it, so the village's
"where are the originals" is right after the papers have left it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from rules.transfers import (
    ARRIVED,
    IN_TRANSIT,
    ITEM_STATES,
    STATES,
    handover_problems,
    normalize_code,
    origin_of,
)
from sync import protocol
from sync.hub.china_time import to_china
from sync.hub.models import HubCase, HubTransfer, HubTransferHandover, HubTransferItem, Station, utcnow
from sync.hub.services import changes, decisions, stations
from sync.hub.services.errors import HubError
from sync.hub.services.stations import TOWNSHIP_SETTING

log = logging.getLogger(__name__)

MAX_PUSHED = 200  # handovers per township push
#: What a station's name and a typed destination may end with and still name the same centre.
_NAME_ENDINGS = ("便民服务中心", "便民服务站", "政务服务中心")


class TransferError(HubError):
    """A scan or handover the county cannot take; ``message`` in Chinese, ``errors`` by form field."""

    code = "transfer_refused"

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


def _station_of(batch_no: str) -> Station | None:
    """The station that packed a batch, read from its number (WL-{station code}-{date}-{nn})."""
    origin = origin_of(batch_no)
    return Station.by_code(origin) if origin else None


def _utc(value: Any) -> dt.datetime | None:
    china = to_china(value)
    return china.astimezone(dt.UTC).replace(tzinfo=None) if china is not None else None


def _text(value: Any, limit: int) -> str:
    return str(value or "").strip()[:limit]


def _names(value: Any) -> list[str]:
    return [_text(v, 200) for v in value if isinstance(v, str) and v.strip()][:100] if isinstance(value, list) else []


def _batch(batch_no: str, transfer_id: str | None = None,
           station: Station | None = None) -> tuple[HubTransfer, bool]:
    """The batch by its id, else the one known only by its number (tied to the id now), else a new one.

    The flag: the batch was known only by its number until now (its pending handovers wait to be settled).
    A peer county's batch numbers name stations of that county, which may share a code with one of
    this county's: a peer's batch (``station`` the peer) is never taken for this county's by its
    number, nor this county's for a peer's.
    """
    if transfer_id:
        known = HubTransfer.get_or_none(HubTransfer.transfer_id == transfer_id)
        if known is not None:
            return known, False
    if station is not None and station.is_peer:
        same_side = HubTransfer.station == station
    elif station is not None:
        same_side = HubTransfer.station.is_null() | (HubTransfer.station == station)
    else:
        peers = Station.select(Station.id).where(Station.is_peer == True)  # noqa: E712
        same_side = HubTransfer.station.is_null() | HubTransfer.station.not_in(peers)
    by_number = HubTransfer.select().where((HubTransfer.batch_no == batch_no) & same_side)
    placeholder = by_number.where(HubTransfer.transfer_id.is_null()).order_by(HubTransfer.id).first()
    if placeholder is None and not transfer_id:
        placeholder = by_number.order_by(HubTransfer.id.desc()).first()
    if placeholder is not None:
        if transfer_id and placeholder.transfer_id is None:
            placeholder.transfer_id = transfer_id
            placeholder.station = station or placeholder.station
            placeholder.save()
            return placeholder, True
        return placeholder, False
    return HubTransfer.create(transfer_id=transfer_id, batch_no=batch_no,
                              station=station or _station_of(batch_no)), False


def from_case_event(station_id: int, case_id: str, kind: str, payload: dict[str, Any], *,
                    received_station_name: str = "") -> None:
    """A station's ``case.originals_packed`` / ``case.originals_handover``: the batch, this case's lines, the handover.

    From a peer county (跨域办) the batch is its village's: its number names a station of that county
    (not looked up here), and its handovers are said to be recorded at ``received_station_name`` (the
    village that took the case), not at the county that forwarded them.
    """
    station = Station.get_by_id(station_id)
    batch_no = normalize_code(payload.get("batch_no"))
    transfer_id = _text(payload.get("transfer_id"), 26) or None
    owner = None if station.is_peer else _station_of(batch_no)
    known = HubTransfer.get_or_none(HubTransfer.transfer_id == transfer_id) if transfer_id else None
    if (owner is not None and owner.id != station.id) or (known is not None and known.station_id not in (None, station.id)):
        # a case event names the batch of its own station; another's is not this station's to write on
        log.warning("hub: %s of case %s by %s names batch %s of another station: not recorded on it", kind, case_id,
                    station.code, batch_no)
        return
    transfer, was_pending = _batch(batch_no, transfer_id, station)
    for key in ("direction", "destination", "created_by", "created_at"):
        if payload.get(key) and not getattr(transfer, key):
            setattr(transfer, key, _text(payload[key], 100 if key != "created_at" else 40))
    if was_pending:
        _settle(transfer)  # before this case's lines: a refused handover's missing papers must not mark them
    items = [i for i in payload.get("items") or [] if isinstance(i, dict) and i.get("material_name")]
    if items:
        HubTransferItem.delete().where((HubTransferItem.transfer == transfer)
                                       & (HubTransferItem.case_id == case_id)).execute()
        HubTransferItem.insert_many([
            {"transfer": transfer, "case_id": case_id, "case_no": "", "material_name": _text(i["material_name"], 200),
             "form": _text(i.get("form"), 20), "copies": i["copies"] if isinstance(i.get("copies"), int) else 1,
             "state": i.get("state") if i.get("state") in ITEM_STATES else "present"}
            for i in items if i.get("state") != "extra"]).execute()
        found_elsewhere = {name for h in HubTransferHandover.select(HubTransferHandover.missing).where(
            (HubTransferHandover.transfer == transfer) & (HubTransferHandover.via_event == False)  # noqa: E712
            & ((HubTransferHandover.recorded_at != station) | HubTransferHandover.recorded_at.is_null()
               | (HubTransferHandover.recorded_where != "")))  # a peer relaying a township's scan
            for name in h.missing or []}
        if found_elsewhere:  # a township that scanned the batch before its lines came found these missing
            HubTransferItem.update(state="missing").where(
                (HubTransferItem.transfer == transfer) & (HubTransferItem.case_id == case_id)
                & (HubTransferItem.material_name.in_(sorted(found_elsewhere)))).execute()
    if payload.get("case_no"):
        HubTransferItem.update(case_no=_text(payload["case_no"], 64)).where(
            (HubTransferItem.transfer == transfer) & (HubTransferItem.case_id == case_id)).execute()
    transfer.save()
    if kind != "case.originals_handover":
        return
    handover_id = _text(payload.get("handover_id"), 80) or f"{station.code}:{transfer_id or batch_no}:{payload.get('handover')}"
    _record(transfer, station, handover_id, payload, missing_lines=[],  # the items above carry each line's state
            recorded_where=received_station_name if station.is_peer else "", via_event=True)


def _record(transfer: HubTransfer, recorder: Station | None, handover_id: str, body: dict[str, Any], *,
            missing_lines: list[int] | None = None, pending: bool = False, recorded_where: str = "",
            via_event: bool = False) -> bool:
    """Keep one handover (once, by its id), mark what it found, announce it; False when already kept.

    ``missing_lines``: the lines found missing, by id; None when only their names are known (a
    township that holds the paper sheet, not the batch), which marks every present line of that name.
    ``pending``: the batch is known only by its number; the handover is kept and applied by
    :func:`_settle` once the batch is known (if its recorder may record it).
    """
    if HubTransferHandover.get_or_none(HubTransferHandover.handover_id == handover_id) is not None:
        return False
    handover = HubTransferHandover.create(
        handover_id=handover_id, transfer=transfer, recorded_at=recorder, giver=_text(body.get("giver"), 100),
        receiver=_text(body.get("receiver"), 100), receiver_kind=_text(body.get("receiver_kind"), 12) or "staff",
        place=_text(body.get("place"), 100), at=_utc(body.get("at")) or utcnow(), missing=_names(body.get("missing")),
        extra=_names(body.get("extra")), note=_text(body.get("note"), 500), arrived=bool(body.get("arrived")),
        recorded_by=_text(body.get("recorded_by"), 100), recorded_where=_text(recorded_where, 100),
        via_event=via_event)
    if not pending:
        _apply(transfer, handover, missing_lines)
    return True


def _apply(transfer: HubTransfer, handover: HubTransferHandover, missing_lines: list[int] | None) -> None:
    """What a kept handover changes on its batch: lines missing, papers extra, arrived; then announce it."""
    missing, extra = list(handover.missing or []), list(handover.extra or [])
    if missing_lines:
        HubTransferItem.update(state="missing").where(HubTransferItem.id.in_(missing_lines)).execute()
    elif missing and missing_lines is None:
        HubTransferItem.update(state="missing").where(
            (HubTransferItem.transfer == transfer) & (HubTransferItem.material_name.in_(missing))
            & (HubTransferItem.state == "present")).execute()
    known = {i.material_name for i in HubTransferItem.select().where(
        (HubTransferItem.transfer == transfer) & (HubTransferItem.state == "extra"))}
    for line in extra:
        if line not in known:
            HubTransferItem.create(transfer=transfer, material_name=line, form="", copies=0, state="extra")
    if handover.arrived or handover.receiver_kind == "resident":
        transfer.state = ARRIVED
    transfer.updated_at = utcnow()
    transfer.save()
    _announce(transfer, handover)


def _settle(transfer: HubTransfer) -> None:
    """The batch is known now: apply the handovers kept by its number, refuse those of stations off its route."""
    for handover in handovers_of(transfer):
        if handover.recorded_at_id is None:
            continue  # the county's own, applied when recorded
        refusal = route_refusal(transfer, handover.recorded_at, holders=False)
        if refusal:
            log.warning("hub: pending handover %s of batch %s by %s refused: %s", handover.handover_id,
                        transfer.batch_no, handover.recorded_at.code, refusal)
            _tell_refused(transfer, handover, refusal)
            handover.delete_instance()
            continue
        # missing papers by name: this case's lines are marked as they come (from_case_event)
        _apply(transfer, handover, missing_lines=[])


def _tell_refused(transfer: HubTransfer, handover: HubTransferHandover, reason: str) -> None:
    """A ``transfer.handover_refused`` change to the station that recorded a pending handover now refused.

    It was answered "stored" when it came, so the station counts it as sent and shows it as the
    papers' whereabouts; this tells it otherwise, by the id it gave the handover, with the reason.
    """
    station = handover.recorded_at
    own_id = handover.handover_id.removeprefix(f"{station.code}:")  # kept per station (record_station_handovers)
    changes.emit(protocol.CHANGE_TRANSFER_HANDOVER_REFUSED,
                 {"transfer_id": transfer.transfer_id, "batch_no": transfer.batch_no, "handover_id": own_id,
                  "reason": reason}, station=station)


def _same_centre(name: str, destination: str) -> bool:
    """Whether a station's registered name and a typed destination name the same centre."""
    def core(text: str) -> str:
        text = "".join(text.split())
        for ending in _NAME_ENDINGS:
            text = text.removesuffix(ending)
        return text
    return bool(core(name)) and core(name) == core(destination)


def route_refusal(transfer: HubTransfer, station: Station, *, holders: bool = True) -> str | None:
    """Why ``station`` may not record a handover of this known batch (None: it may).

    On the route: the station that packed it, the township centre the county registered for that
    station, the station the sheet sends it to, and (``holders``) one that already recorded a
    handover of it, so it holds or held the papers.
    """
    packer = transfer.station if transfer.station_id else None
    if packer is not None and packer.id == station.id:
        return None
    if packer is not None and (packer.settings or {}).get(TOWNSHIP_SETTING) == station.code:
        return None
    if transfer.destination and _same_centre(station.name, transfer.destination):
        return None
    if holders and HubTransferHandover.select().where((HubTransferHandover.transfer == transfer)
                                                      & (HubTransferHandover.recorded_at == station.id)).exists():
        return None
    whose = packer.name if packer is not None else "送出站点"
    return (f"批次 {transfer.batch_no} 不经过本站（{whose}的材料，送往{transfer.destination or '未知'}），"
            "本站不能登记它的交接；如确由本站转交，请县级在该村站的设置中填写所属乡镇中心。")


def _announce(transfer: HubTransfer, handover: HubTransferHandover) -> None:
    """A ``transfer.handover`` change to each station holding the batch, but the one that recorded it."""
    holders = {transfer.station_id} | {h.recorded_at_id for h in HubTransferHandover.select(
        HubTransferHandover.recorded_at).where(HubTransferHandover.transfer == transfer)}
    holders -= {None, handover.recorded_at_id}
    payload = change_payload(transfer, handover)
    for station in Station.select().where(Station.id.in_(sorted(holders))):
        changes.emit(protocol.CHANGE_TRANSFER_HANDOVER, payload, station=station)


def change_payload(transfer: HubTransfer, handover: HubTransferHandover) -> dict[str, Any]:
    """What a station needs to add the handover to its own copy of the batch."""
    where = handover.where
    return {"transfer_id": transfer.transfer_id, "batch_no": transfer.batch_no, "handover_id": handover.handover_id,
            "giver": handover.giver, "receiver": handover.receiver, "receiver_kind": handover.receiver_kind,
            "place": handover.place, "at": handover.at.replace(tzinfo=dt.UTC).isoformat(),
            "missing": list(handover.missing or []), "extra": list(handover.extra or []), "note": handover.note,
            "arrived": bool(handover.arrived), "recorded_by": handover.recorded_by, "recorded_where": where}


def record_peer_handover(area_code: str, peer_name: str, payload: dict[str, Any]) -> bool:
    """A handover the county handling a 跨域办 case recorded of a batch holding its originals (its
    ``transfer.handover`` change, read by the peer round): kept here once, and so told to the village.

    Only a batch whose every case that county handles: its word writes on no other, and a batch
    mixing this county's own cases with its would read as delivered there, this county's papers
    too. The village's "where are the originals" then ends where they are — received by the
    handling county — not at the handover out of this county. Returns True when kept anew.
    """
    transfer = HubTransfer.get_or_none(HubTransfer.transfer_id == _text(payload.get("transfer_id"), 26))
    handover_id = _text(payload.get("handover_id"), 80 - len(area_code) - 1)  # kept as "area:id"
    if transfer is None or not handover_id or _problem(payload):
        return False
    cases = HubTransferItem.select(HubTransferItem.case_id).where(
        (HubTransferItem.transfer == transfer) & (HubTransferItem.case_id != ""))
    handled = HubCase.select(HubCase.handling_area).where(HubCase.case_id.in_(cases)).distinct()
    if [case.handling_area for case in handled] != [area_code]:
        log.warning("hub: peer %s's handover of batch %s refused: not every case of the batch is handled there",
                    area_code, transfer.batch_no)
        return False
    # its clerk's login means nothing here: the county is named instead
    return _record(transfer, None, f"{area_code}:{handover_id}", {**payload, "recorded_by": peer_name})


def record_station_handovers(station: Station, rows: Any) -> tuple[int, list[dict[str, str]]]:
    """A station's handovers of batches it does not hold (a township scanning a village's barcode).

    Each is kept once by its ``handover_id``; a bad one is refused alone. Returns (stored anew, refused).

    A peer county (跨域办) sends the handovers of a batch of cases this county handles that were
    recorded before the batch came here — its township's scan, its own receipt — as a station would
    (``sync/hub/services/peers.py``). Its rows name the batch by ``transfer_id`` too (its number may
    also be a batch of this county's) and say who recorded each (``recorded_where``: kept, so the
    chain reads township → county, not the peer county for all). Its "送达终点" is not taken: the
    batch ends here when this county's clerk records receipt (and that goes back to the peer).
    """
    if not isinstance(rows, list) or len(rows) > MAX_PUSHED:
        raise TransferError(f"handovers 须为列表，每次最多 {MAX_PUSHED} 条。")
    stored, refused = 0, []
    for row in rows:
        handover_id = _text(row.get("handover_id"), 80) if isinstance(row, dict) else ""
        problem = _problem(row) if handover_id else "缺少 handover_id。"
        if problem:
            refused.append({"handover_id": handover_id, "reason": problem})
            continue
        where = ""
        if station.is_peer:
            transfer_id = _text(row.get("transfer_id"), 26)
            known = HubTransfer.get_or_none(HubTransfer.transfer_id == transfer_id) if transfer_id else None
            transfer = known or _batch(normalize_code(row["batch_no"]), None, station)[0]
            where = _text(row.get("recorded_where"), 100) or station.name
            row = {**row, "arrived": False}
        else:
            transfer, _ = _batch(normalize_code(row["batch_no"]))
        pending = transfer.transfer_id is None  # the village has not synced it: decided when it does
        refusal = None if pending else route_refusal(transfer, station)
        if refusal:
            log.warning("hub: handover %s of batch %s by %s refused: %s", handover_id, transfer.batch_no,
                        station.code, refusal)
            refused.append({"handover_id": handover_id, "reason": refusal})
            continue
        stored += _record(transfer, station, _kept_id(station, handover_id), row, pending=pending,
                          recorded_where=where)
    return stored, refused


def _kept_id(station: Station, handover_id: str) -> str:
    """The id a station's pushed handover is kept by: per station (two stations may number alike).

    A peer's ids are its own kept ids (a township's ``{code}:{id}``), so with this county's prefix
    they may pass the column's 80 characters: such a one is kept by a digest of the id instead.
    """
    kept = f"{station.code}:{handover_id}"
    if len(kept) <= 80:
        return kept
    return f"{station.code}:{hashlib.sha256(handover_id.encode()).hexdigest()}"[:80]


def _problem(row: dict[str, Any]) -> str | None:
    if not origin_of(normalize_code(row.get("batch_no"))):
        return "批次号格式不对。"
    for key in ("giver", "receiver", "at"):
        if not isinstance(row.get(key), str) or not row[key].strip():
            return f"缺少 {key}。"
    if _utc(row["at"]) is None:
        return "交接时间格式不对。"
    return None


def find_by_code(typed: str) -> HubTransfer:
    """The batch whose barcode was scanned (or typed) at the county; a clear message when there is none."""
    code = normalize_code(typed)
    if not code:
        raise TransferError("请扫描流转单上的条码（或输入批次号）。")
    transfer = HubTransfer.select().where(HubTransfer.batch_no == code).order_by(HubTransfer.id.desc()).first()
    if transfer is None:
        hint = ("该批次的信息尚未同步到县级（送出的站点同步后即可扫描）。" if origin_of(code)
                else "这不像流转单的批次号，是否扫了别的条码？")
        raise TransferError(f"没有找到批次 {code}：{hint}")
    return transfer


@dataclass(frozen=True)
class Custody:
    """Who holds a batch now, where, since when (China time)."""

    transfer: HubTransfer
    holder: str
    place: str
    since: dt.datetime | None
    handovers: int
    sender: str = ""  # 送出站点 as the page says it (:func:`sender_of`)

    @property
    def state_label(self) -> str:
        return STATES.get(self.transfer.state, self.transfer.state)

    def words(self) -> str:
        when = f"{self.since:%Y-%m-%d %H:%M}" if self.since else "时间不详"
        if self.transfer.state == ARRIVED:
            return f"已送达{self.place}，由 {self.holder} 接收（{when}）"
        return f"在途：由 {self.holder} 保管（{self.place}，{when} 起）"


def handovers_of(transfer: HubTransfer) -> list[HubTransferHandover]:
    """The handovers of a batch in the order they happened (by their time, then by arrival)."""
    return list(HubTransferHandover.select().where(HubTransferHandover.transfer == transfer)
                .order_by(HubTransferHandover.at, HubTransferHandover.id))


def packed_at(transfer: HubTransfer) -> str:
    """The station that packed the batch, by name ("" not known yet).

    A peer county's batch (跨域办) is filed under that county's platform, the "station" it came from here;
    the batch was packed at its village station, which the cases' snapshots name (``received_station_name``,
    as :func:`stations.receiving_station_name` says it on the case page).
    """
    if not transfer.station_id:
        return ""
    if not transfer.station.is_peer:
        return transfer.station.name
    cases = (HubCase.select(HubCase.station, HubCase.snapshot)
             .join(HubTransferItem, on=(HubTransferItem.case_id == HubCase.case_id))
             .where(HubTransferItem.transfer == transfer).order_by(HubCase.id).limit(1))
    found = next(iter(cases), None)
    return stations.receiving_station_name(transfer.station, found.snapshot or {}) if found else transfer.station.name


def sender_of(transfer: HubTransfer) -> str:
    """送出站点 as the batch pages say it: the village that packed it, and a peer county's platform as the way it came."""
    village = packed_at(transfer)
    if village and transfer.station.is_peer and village != transfer.station.name:
        return f"{village}（经{transfer.station.name}转来）"
    return village


def custody_of(transfer: HubTransfer) -> Custody:
    """The receiver of the batch's last handover; before any, whoever packed it at its station."""
    done = handovers_of(transfer)
    sender = sender_of(transfer)
    if not done:
        place = packed_at(transfer) or "送出站点"
        return Custody(transfer, transfer.created_by or "送出站点", place, to_china(transfer.created_at), 0, sender)
    last = done[-1]
    return Custody(transfer, last.receiver, last.place, to_china(last.at), len(done), sender)


def items_of(transfer: HubTransfer) -> list[HubTransferItem]:
    return list(HubTransferItem.select().where(HubTransferItem.transfer == transfer)
                .order_by(HubTransferItem.case_id.desc(), HubTransferItem.id))


def onward(items: list[HubTransferItem]) -> dict[str, str]:
    """跨域办: for each case of the batch another county handles, that county — its originals go on there.

    The station's sheet says so on paper; the county clerk who receives the batch reads it here too,
    so the originals are not filed with this county's papers.
    """
    case_ids = list({i.case_id for i in items if i.case_id})
    found = (HubCase.select().where(HubCase.case_id.in_(case_ids) & HubCase.handling_area.is_null(False))
             if case_ids else [])
    named = {case.case_id: decisions.handling_county(case) for case in found}
    return {case_id: county for case_id, county in named.items() if county}


def record_at_county(transfer: HubTransfer, *, giver: str, receiver: str, place: str, recorded_by: str,
                     missing: list[int] | None = None, extra: str = "", note: str = "",
                     arrived: bool = False, seen: int | None = None) -> HubTransferHandover:
    """A county clerk records receipt of a scanned batch: who gave, who received, what was missing or extra.

    ``seen``: how many handovers the form showed. One recorded since (the same form sent twice, a
    colleague, the station's own handover synced meanwhile) refuses this one: the chain would
    otherwise hold the same hand-over twice, and the station would be told so."""
    giver, receiver, place = _text(giver, 200), _text(receiver, 200), _text(place, 200)
    errors = handover_problems(giver, receiver, place)
    if errors:
        raise TransferError("请检查标红的项目。", errors)
    if transfer.state == ARRIVED:
        raise TransferError(f"批次 {transfer.batch_no} 已送达终点，不能再交接。")
    done = handovers_of(transfer)
    if seen is not None and seen != len(done):
        last = done[-1] if done else None
        raise TransferError(f"批次 {transfer.batch_no} 在您打开本页之后已登记过交接"
                            + (f"（最近一次：{last.giver} → {last.receiver}）" if last else "")
                            + "，本次未登记。请核对页面上的交接记录，确需再交接时重新填写。")
    lines = {i.id: i for i in items_of(transfer)}
    wanted = [int(i) for i in missing or []]
    if any(i not in lines or lines[i].state != "present" for i in wanted):
        raise TransferError("勾选的缺失材料不在本批次的随批清单中，请刷新页面后重试。")
    body = {"giver": giver, "receiver": receiver, "place": place or "县级政务服务中心",
            "at": utcnow().replace(tzinfo=dt.UTC).isoformat(), "missing": [lines[i].material_name for i in wanted],
            "extra": [line for line in (extra or "").splitlines() if line.strip()], "note": note,
            "arrived": arrived, "recorded_by": recorded_by}
    handover_id = protocol.new_id()
    _record(transfer, None, handover_id, body, missing_lines=wanted)  # by line: two cases may list one name
    return HubTransferHandover.get(HubTransferHandover.handover_id == handover_id)


def in_transit(limit: int = 200) -> list[Custody]:
    """Batches not yet at their destination, the longest without a handover first."""
    rows = (HubTransfer.select().where(HubTransfer.state == IN_TRANSIT).order_by(HubTransfer.updated_at).limit(limit))
    return [custody_of(t) for t in rows]



def batches_of_case(case_id: str) -> list[tuple[Custody, list[HubTransferHandover], list[HubTransferItem]]]:
    """For a case's page: each batch carrying its papers — who holds it now, every handover, this case's lines."""
    found = []
    for transfer in (HubTransfer.select().join(HubTransferItem).where(HubTransferItem.case_id == case_id)
                     .distinct().order_by(HubTransfer.id)):
        lines = [i for i in items_of(transfer) if i.case_id == case_id]
        found.append((custody_of(transfer), handovers_of(transfer), lines))
    return found
