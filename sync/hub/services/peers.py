"""跨域办 between county platforms: forward cross-area cases to the county that handles them, and bring
that county's decisions back to the station that took them.

This hub is registered as a station at the peer (``add-station --peer`` there, ``add-peer`` here),
so forwarding speaks the same signed protocol as a station and inherits its guarantees: the peer
stores each event once by its id, answers per event, and refuses what is not its to take.

The forward queue is not a separate copy of the events. An event of a case whose
``handling_area`` is a peer's area is "to forward" until a :class:`PeerForward` row records the
peer's final answer (accepted or duplicate → ``acked``; refused → ``set_aside`` with its reason).
A retryable answer, a timeout, a peer killed mid-batch or an answer lost on the way write nothing,
so the event simply goes again and the peer recognises it. No cursor over event ids can skip an
event committed late. Files go first (check, then upload what the peer lacks), because the peer
links a file to a case only if this hub uploaded it.

The way back: the peer's changes feed for this hub is read from ``Peer.changes_cursor``; each
``case.status`` change of a forwarded case is recorded here as a decision with the same service a
county clerk uses (:func:`decisions.decide`), in the transaction that moves the cursor — so it
reaches the station down this hub's own feed exactly once, and the resident's page shows it here
as it does at the peer. A case held back is told to its station too (services/peer_holds.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import current_app
from peewee import JOIN, IntegrityError

from rules import events as event_kinds
from rules.privacy import mask_numbers_in
from sync import protocol
from sync.errors import CaseProblem, HubFault
from sync.file_upload import FileUploader
from sync.hub.china_time import china_naive
from sync.hub.extensions import db, key_ring
from sync.hub.models import (
    Event,
    HubCase,
    HubTransfer,
    HubTransferHandover,
    HubTransferItem,
    Peer,
    PeerFile,
    PeerForward,
    PeerHandover,
)
from sync.hub.models.base import utcnow
from sync.hub.services import (
    attachments,
    case_view,
    decisions,
    peer_holds,
    personal,
    stations,
    tally,
    transfers,
)
from sync.hub.services.classify import named_files
from sync.hub.services.errors import InvalidTransition, NotFound, ValidationError
from websec.sealing import SealedFile
from websec.urls import web_url_problem

log = logging.getLogger(__name__)

AREA_DIGITS = 6
ACKED, SET_ASIDE = "acked", "set_aside"
#: the peer holds a different event under this id or seq: the same event sent again conflicts again
CONFLICT_CODES = (protocol.CODE_CONTENT_MISMATCH, protocol.CODE_SEQ_TAKEN)
BATCH_EVENTS = 100
TIMEOUT = (5.0, 60.0)


class PeerUnreachable(Exception):
    """The peer did not give a verified answer; nothing was recorded, everything goes again later."""


@dataclass
class ForwardReport:
    """What one forwarding round did for one peer (for the CLI, the log and tests)."""

    peer: str
    forwarded: int = 0
    acked: int = 0
    set_aside: int = 0
    retry_later: int = 0
    files_uploaded: int = 0
    files_not_sent: dict[str, str] = field(default_factory=dict)  # sha256 → why this hub could not send it
    file_bytes_sent: int = 0
    decisions_applied: int = 0
    changes_skipped: int = 0
    handovers_acked: int = 0
    handovers_set_aside: int = 0
    error: str = ""
    details: list[str] = field(default_factory=list)


def add_peer(area_code: str, name: str, url: str, station_code: str, secret: str) -> Peer:
    """Register (or update) the county hub that handles ``area_code``'s items, with our credentials there."""
    area_code, name, url, station_code = (v.strip() for v in (area_code, name, url, station_code))
    if not (area_code.isdigit() and len(area_code) == AREA_DIGITS):
        raise ValidationError("对端县级平台的行政区划代码须为 6 位数字。")
    if area_code == str(current_app.config.get("AREA_CODE") or ""):  # its own cases would leave for itself
        raise ValidationError(f"{area_code} 是本县的行政区划代码：对端须是办理这些事项的另一个县的平台。")
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise ValidationError("对端县级平台的地址须以 http:// 或 https:// 开头。")
    if problem := web_url_problem(url):  # "http://a b" was stored, and every round then failed in requests
        raise ValidationError(f"对端县级平台的地址有误：{problem}")
    if urlsplit(url).query or urlsplit(url).fragment:
        raise ValidationError("对端县级平台的地址不能带“?”或“#”后的参数：请只填写平台的根地址。")
    if not name or not station_code or len(secret or "") < 16:
        raise ValidationError("请填写对端名称、本平台在对端的站点编码和对端签发的密钥。")
    for value, limit, what in ((name, 100, "对端名称"), (station_code, 32, "本平台在对端的站点编码"),
                               (url, 300, "对端地址")):
        if len(value) > limit:  # PostgreSQL refused the row with a traceback; SQLite kept it whole
            raise ValidationError(f"{what}过长（最多 {limit} 个字符，现在 {len(value)} 个）。")
    sealed = personal.seal_secret(secret)
    peer = Peer.get_or_none(Peer.area_code == area_code)
    if peer is None:
        return Peer.create(area_code=area_code, name=name, url=url.rstrip("/"), station_code=station_code,
                           secret=sealed)
    peer.name, peer.url, peer.station_code, peer.secret, peer.active = name, url.rstrip("/"), station_code, sealed, True
    peer.save()
    return peer


class PeerClient:
    """Signed requests to one peer as the station this hub is there; only verified answers count."""

    def __init__(self, peer: Peer, session: requests.Session | None = None) -> None:
        self.peer = peer
        self.secret = personal.station_secret(peer)  # sealed like a station secret
        self.session = session or requests.Session()
        self.clock_offset_s = 0.0  # the peer's clock minus ours, learned from a clock_skew refusal

    def call(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
             *, _retry_clock: bool = True) -> tuple[int, dict[str, Any]]:
        prepared = requests.Request(method, self.peer.url + path, data=body or None,
                                    headers={"Accept-Encoding": "gzip", **(headers or {})}).prepare()
        signed = protocol.sign_request(self.secret, method, prepared.path_url, body, station=self.peer.station_code,
                                       clock_offset_s=self.clock_offset_s)
        prepared.headers.update(signed)
        try:
            response = self.session.send(prepared, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise PeerUnreachable(f"无法连接对端县级平台（{self.peer.name}）。") from exc
        if response.status_code == 503 and "Retry-After" in response.headers:
            raise PeerUnreachable(f"对端县级平台（{self.peer.name}）繁忙，稍后自动重试。")
        if response.status_code == 401:
            refusal = _json_object(response)
            if refusal.get("error") == protocol.ERR_CLOCK_SKEW and _retry_clock \
                    and isinstance(refusal.get("server_time"), int | float):
                self.clock_offset_s = float(refusal["server_time"]) - protocol.server_time()
                return self.call(method, path, body, headers, _retry_clock=False)
            if refusal.get("error"):
                # unsigned by design (a refusal of the credentials themselves): said as what it is,
                # not as an answer that failed its signature check
                message = refusal.get("message") or protocol.ERROR_MESSAGES.get(str(refusal["error"]), "")
                raise PeerUnreachable(
                    f"对端县级平台（{self.peer.name}）拒绝了本平台的请求：{message}"
                    f"请核对登记对端时填写的本平台站点编码（{self.peer.station_code}）和对端签发的密钥"
                    "（python -m sync.hub add-peer 可重新登记）。")
        if not protocol.verify_response(self.secret, signed[protocol.H_NONCE], response.status_code,
                                        response.headers, response.content):
            raise PeerUnreachable(f"对端县级平台（{self.peer.name}）的应答未通过签名验证，本次不计为已送达。")
        return response.status_code, _json_object(response)


def _json_object(response: requests.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _unanswered(peer: Peer) -> Any:
    """Events of cases handled by ``peer`` with no final answer from it yet."""
    answered = PeerForward.select(PeerForward.event_id)
    return (Event.select()
            .join(HubCase, on=(Event.case_id == HubCase.case_id))
            .where((HubCase.handling_area == peer.area_code) & Event.event_id.not_in(answered)))


def _set_aside_cases(peer: Peer) -> Any:
    return PeerForward.select(PeerForward.case_id).where(
        (PeerForward.peer == peer) & (PeerForward.state == SET_ASIDE))


def _refused(what: str, status: int, answer: dict[str, Any]) -> str:
    """A signed answer other than 200, said as a person reads it: the peer's fault (tried again) or a refusal."""
    if status >= 500:
        return f"对端县级平台出错（{status}），{what}未送达，稍后自动重试。"
    return f"对端县级平台拒绝了{what}（{status}）：{answer.get('message') or '未说明原因'}"


def waiting_events(peer: Peer) -> Any:
    """The query of the forward queue: events still to forward, except those of a case the peer set one aside of.

    Such a case is held back as at a station's outbox (``sync.backlog``): its later events would only
    come back "out of order" round after round, and ahead of every newer case in the queue's order —
    a hundred of them filled each batch and nothing else went. It goes on once a person sends the
    set-aside event again (:func:`resend`) or the peer settles its conflict.
    """
    return _unanswered(peer).where(Event.case_id.not_in(_set_aside_cases(peer)))


def held_back_events(peer: Peer) -> Any:
    """The query of events waiting behind a set-aside event of their case (not sent until it is settled)."""
    return _unanswered(peer).where(Event.case_id.in_(_set_aside_cases(peer)))


def _to_forward(peer: Peer, limit: int) -> list[tuple[Event, dict[str, Any]]]:
    """The next events of the forward queue, each case in seq order."""
    rows = waiting_events(peer).order_by(Event.case_id, Event.seq).limit(limit)
    return [(row, personal.open_body(row.body)) for row in rows]


def _upload_files(client: PeerClient, envelopes: list[dict[str, Any]], report: ForwardReport) -> None:
    """Give the peer the files the events name before the events, so it links them to the case.

    Each file goes with the station's own uploader: in chunks, read piece by piece from this hub's
    sealed store, from where the peer's status says a cut transfer stopped. A file the peer
    refuses (or this hub lacks) is noted; the peer then refuses the events that name it, which
    sets them aside here with its reason while the other cases go on. How much of each file the
    peer holds is kept for the peers page (:class:`PeerFile`), after every chunk it takes.
    """
    files = files_named(envelopes)
    if not files:
        return
    status, answer = client.call("POST", "/api/v1/attachments/check",
                                 protocol.encode_body({"sha256": sorted(files)}, compress=False),
                                 {"Content-Type": "application/json"})
    if status != 200:
        raise PeerUnreachable(_refused("附件核对", status, answer))
    missing = answer.get("missing") or []
    for sha256 in set(files) - set(missing):  # whole at the peer already (a round whose last answer was lost, too)
        if isinstance(size := files[sha256].get("size"), int):
            note_held(client.peer, sha256, size, size)
    lacking: set[str] = set()

    def open_here(sha256: str) -> SealedFile | None:
        stored = _stored_file(sha256)
        if stored is None:
            lacking.add(sha256)
        return stored

    uploader = FileUploader(client, open_here,
                            progress=lambda sha256, held, size: note_held(client.peer, sha256, held, size))
    for sha256 in missing:
        if sha256 not in files:
            continue
        try:
            report.file_bytes_sent += uploader.upload_one(sha256, files[sha256])
        except HubFault as exc:
            raise PeerUnreachable(f"对端县级平台（{client.peer.name}）{exc}，稍后自动续传。") from exc
        except CaseProblem as exc:
            name = str(files[sha256].get("filename") or f"{sha256[:12]}…")
            why = f"本平台存储中缺少附件“{name}”" if sha256 in lacking else str(exc)  # not the station's words
            report.files_not_sent[sha256] = mask_numbers_in(why)  # a scanner may name files by ID number
            report.details.append(f"附件 {sha256[:12]}…：{report.files_not_sent[sha256]}")
            continue
        report.files_uploaded += 1


def files_named(envelopes: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each file the events name, with the name and type its event gives it (for the peer's refusals)."""
    files: dict[str, dict[str, Any]] = {}
    for envelope in envelopes:
        items = {item.get("sha256"): item for item in envelope["payload"].get("attachments") or []
                 if isinstance(item, dict)} if named_files(envelope) else {}
        for sha256 in named_files(envelope):
            files.setdefault(sha256, items[sha256])
    return files


def note_held(peer: Peer, sha256: str, held: int, size: int) -> None:
    """Remember that ``peer`` holds the first ``held`` of the file's ``size`` bytes (for the peers page)."""
    now = utcnow()
    (PeerFile.insert(peer=peer, sha256=sha256, size=size, held=held, updated_at=now)
     .on_conflict(conflict_target=[PeerFile.peer, PeerFile.sha256],
                  update={PeerFile.size: size, PeerFile.held: held, PeerFile.updated_at: now})
     .execute())


def _stored_file(sha256: str) -> SealedFile | None:
    """A complete file of this hub's store, opened to be read in pieces (None when it is not here)."""
    path = attachments.blob_path(current_app.config["ATTACHMENT_DIR"], sha256)
    return key_ring.open_file(path) if path.exists() else None


def _record_answers(peer: Peer, sent: list[tuple[Event, dict[str, Any]]], results: list[dict[str, Any]],
                    report: ForwardReport) -> None:
    by_id = {row.event_id: row for row, _envelope in sent}
    envelopes = {row.event_id: envelope for row, envelope in sent}
    now = utcnow()
    held: dict[str, int] = {}  # case id → seq of its event set aside in this batch
    through: dict[str, int] = {}  # case id → seq of its first event acked in this batch
    with db.atomic():
        for result in results:
            row = by_id.get(str(result.get("event_id")))
            if row is None:
                continue
            status = result.get("status")
            if status in (protocol.STATUS_ACCEPTED, protocol.STATUS_DUPLICATE):
                state = ACKED
                report.acked += 1
            elif result.get("retryable"):
                report.retry_later += 1
                continue  # no row: it goes again next round
            else:
                state = SET_ASIDE
                report.set_aside += 1
                result = {**result, "reason": _own_part(result, envelopes[row.event_id], report)}
                report.details.append(f"{row.case_id} 第 {row.seq} 条：{result.get('reason') or result.get('code')}")
            try:
                with db.atomic():
                    PeerForward.create(event_id=row.event_id, peer=peer, case_id=row.case_id, seq=row.seq,
                                       state=state, code=result.get("code"), reason=result.get("reason"),
                                       answered_at=now)
            except IntegrityError:
                continue  # another worker recorded the same answer first (and told the station)
            (held if state == SET_ASIDE else through).setdefault(row.case_id, row.seq)
        peer_holds.tell_stations(peer, held, through)


def _own_part(result: dict[str, Any], envelope: dict[str, Any], report: ForwardReport) -> str:
    """The peer's reason for a refusal, with this hub's own when it caused it.

    A file this hub could not send (missing from its store) makes the peer refuse the event as
    naming a file "not uploaded by this station, scan it again" — words for a station, which sent
    a person looking at the wrong end. The county admin reads what this hub lacks first.
    """
    reason = str(result.get("reason") or result.get("code") or "")
    ours = [report.files_not_sent[sha256] for sha256 in named_files(envelope) if sha256 in report.files_not_sent]
    if result.get("code") != protocol.CODE_NOT_YOUR_FILE or not ours:
        return reason
    return (f"本平台未能转送：{'；'.join(ours)}。请先核查本平台的附件存储（如从备份恢复该文件）后再重新转送"
            f"（对端答复：{reason}）")


def forward(peer: Peer, client: PeerClient | None = None, report: ForwardReport | None = None) -> ForwardReport:
    """Send every event still to forward to ``peer``, batch by batch, recording its final answers."""
    client = client or PeerClient(peer)
    report = report or ForwardReport(peer.name)
    while True:
        sent = _to_forward(peer, BATCH_EVENTS)
        if not sent:
            return report
        envelopes = [envelope for _row, envelope in sent]
        _upload_files(client, envelopes, report)
        body = protocol.encode_body({"protocol": protocol.PROTOCOL_VERSION, "station": peer.station_code,
                                     "batch_id": protocol.new_id(), "heartbeat": {}, "events": envelopes})
        status, answer = client.call("POST", "/api/v1/events", body,
                                     {"Content-Encoding": "gzip", "Content-Type": "application/json"})
        if status != 200:
            raise PeerUnreachable(_refused("本批次事件", status, answer))
        report.forwarded += len(sent)
        before = report.acked + report.set_aside
        _record_answers(peer, sent, answer.get("results") or [], report)
        if report.acked + report.set_aside == before:
            return report  # everything retryable (e.g. waiting for an earlier event): try next round


def _decision_from(payload: dict[str, Any]) -> decisions.DecisionInput:
    return decisions.DecisionInput(
        kind=str(payload.get("status") or ""), hub_case_no=payload.get("hub_case_no"),
        reason=payload.get("reason"),
        supplement_keys=tuple(str(item.get("key")) for item in payload.get("supplement_items") or []
                              if isinstance(item, dict) and item.get("key")),
        result=payload.get("result"), result_text=payload.get("result_text"),
        certificate_no=payload.get("certificate_no"))


def pull_decisions(peer: Peer, client: PeerClient | None = None, report: ForwardReport | None = None
                   ) -> ForwardReport:
    """Apply the peer's decisions on the cases forwarded to it, each with the cursor that passes it."""
    client = client or PeerClient(peer)
    report = report or ForwardReport(peer.name)
    while True:
        path = f"/api/v1/changes?cursor={int(peer.changes_cursor)}&limit=100"
        status, page = client.call("GET", path)
        if status != 200:
            raise PeerUnreachable(_refused("决定读取", status, page))
        for change in page.get("changes") or []:
            with db.atomic():
                _apply(peer, change, report)
                peer.changes_cursor = int(change["change_id"])
                Peer.update(changes_cursor=peer.changes_cursor, last_contact_at=utcnow(), last_error="").where(
                    Peer.id == peer.id).execute()
        if not page.get("has_more"):
            return report


def _decided_at(text: Any) -> dt.datetime | None:
    """When the handling county decided (UTC, naive as the hub stores it); None (now) when unreadable or ahead.

    Recorded when this hub pulled it instead, a decision read after the link between the counties was
    down for days closed the case days late here and at the station: late on its lines, on the wrong
    day of the trend, and the resident's 办结 date wrong.
    """
    try:
        when = dt.datetime.fromisoformat(str(text or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when if when <= utcnow() else None


def _apply(peer: Peer, change: dict[str, Any], report: ForwardReport) -> None:
    """One change of the peer's feed: a decision on a case we forwarded is recorded; the rest is not ours."""
    kind = change.get("kind")
    if kind == protocol.CHANGE_TRANSFER_HANDOVER and isinstance(change.get("payload"), dict):
        # the handling county received (or passed on) the originals of a case it handles
        if transfers.record_peer_handover(peer.area_code, peer.name, change["payload"]):
            report.details.append(f"物料流转批次 {change['payload'].get('batch_no')}：对端登记交接")
        else:
            report.changes_skipped += 1
        return
    case = HubCase.get_or_none(HubCase.case_id == str(change.get("case_id") or ""))
    if kind not in (protocol.CHANGE_CASE_STATUS, protocol.CHANGE_CONFLICT_RESOLVED, protocol.CHANGE_CASE_DUES) \
            or case is None or case.handling_area != peer.area_code:
        report.changes_skipped += 1  # the peer's catalogs and settings are for its own stations
        return
    payload = change.get("payload") if isinstance(change.get("payload"), dict) else {}
    if kind == protocol.CHANGE_CONFLICT_RESOLVED:
        _settle_conflict(peer, case, payload, report)
        return
    if kind == protocol.CHANGE_CASE_DUES:
        _take_dues(peer, case, payload, report)
        return
    if case.status == "withdrawn" and payload.get("status") not in (decisions.REJECT, decisions.COMPLETE):
        # taken before her withdrawal reached the peer, which then closed the case too: withdrawn stands, as here
        report.changes_skipped += 1
        report.details.append(f"{case.case_no or case.case_id}：对端在收到撤回申请前作出「{payload.get('status')}」，"
                              "申请人已撤回申请，办件仍为已撤回")
        return
    clerk = f"{peer.name}·{payload.get('clerk_name') or payload.get('clerk') or '县级'}"[:64]  # older peers: a login
    try:
        with db.atomic():
            decisions.decide(case.case_id, _decision_from(payload), clerk=clerk, from_peer=True,
                             at=_decided_at(payload.get("decided_at")))
        report.decisions_applied += 1
    except (InvalidTransition, ValidationError, NotFound) as exc:
        # already recorded (a change read twice) or a state this hub no longer shares: kept visible
        log.warning("peer %s: decision %s on %s not applied: %s", peer.area_code, payload.get("status"),
                    case.case_id, exc)
        report.details.append(f"{case.case_no or case.case_id}：对端决定「{payload.get('status')}」未记录：{exc}")


def _take_dues(peer: Peer, case: HubCase, payload: dict[str, Any], report: ForwardReport) -> None:
    """The handling county's 法定/承诺 dates for a case it handles: they are the ones in force, here too.

    B moved them on after a 补正 pause with its calendar, or kept its own over a recount: skipped, this
    county and the village kept their own dates (lists, 预警, the resident's page) while B's ran. B is the
    authority for a case it handles, as this county is for its own (``case_view.tell_dues``): its dates are
    taken, and the station is told the same way (``case.dues`` down this hub's feed, served as they are
    now). A date B sends as null (it holds none) leaves ours; the same dates again change nothing.
    """
    moved: dict[str, dt.date] = {}
    for column in ("statutory_due", "committed_due"):
        if payload.get(column) is None:
            continue
        try:
            day = dt.date.fromisoformat(str(payload[column]))
        except ValueError:
            report.details.append(f"{case.case_no or case.case_id}：对端发来的办件期限无法识别，未采用")
            return
        if day != getattr(case, column):
            moved[column] = day
    if not moved:
        report.changes_skipped += 1
        return
    firm = not payload.get("statutory_provisional") and not payload.get("committed_provisional")
    counted = {"dues_counted_on": (china_naive(utcnow()) or utcnow()).date()} if firm else {}
    held_now = tally.current([case.id])[case.id]
    HubCase.update(**moved, **counted).where(HubCase.id == case.id).execute()
    tally.record(held_now, **moved)
    case_view.tell_dues(case, str(payload.get("reason") or "handling_county")[:40], None)
    report.details.append(f"{case.case_no or case.case_id}：采用{peer.name}的办件期限")


def _settle_conflict(peer: Peer, case: HubCase, payload: dict[str, Any], report: ForwardReport) -> None:
    """The peer settled its conflict over an event we forwarded: it holds what it decided, so the event
    counts as delivered and the case's later events, held back behind it, go at the next round."""
    note = f"对端已核对处理：{payload.get('note') or payload.get('resolution') or ''}"[:500]
    settled = (PeerForward.update(state=ACKED, reason=note, answered_at=utcnow())
               .where((PeerForward.peer == peer) & (PeerForward.case_id == case.case_id)
                      & (PeerForward.event_id == str(payload.get("event_id") or ""))
                      & (PeerForward.state == SET_ASIDE))
               .execute())
    if settled:
        report.details.append(f"{case.case_no or case.case_id}：{note}")
        seq = PeerForward.get(PeerForward.event_id == str(payload.get("event_id"))).seq
        peer_holds.tell_stations(peer, {}, {case.case_id: seq})
    else:
        report.changes_skipped += 1


def handovers_to_forward(peer: Peer) -> Any:
    """The query of handovers still to forward to ``peer``: the custody of its cases' originals before them.

    Of a batch whose every case the peer handles (the rule :func:`transfers.record_peer_handover`
    takes the peer's by: a batch holding one of this county's own cases is not the peer's to read),
    once the peer holds the batch — every packing event of its cases delivered, so it never meets a
    handover of a batch it does not know. Not one that came as its village's case event (it goes
    with the case's events), nor one the peer told us (``{area}:…``), nor one it answered already.
    """
    others = (HubTransferItem.select(HubTransferItem.transfer)
              .join(HubCase, JOIN.LEFT_OUTER, on=(HubTransferItem.case_id == HubCase.case_id))
              .where((HubTransferItem.case_id != "")
                     & (HubCase.handling_area.is_null() | (HubCase.handling_area != peer.area_code))))
    with_cases = HubTransferItem.select(HubTransferItem.transfer).where(HubTransferItem.case_id != "")
    delivered = PeerForward.select(PeerForward.event_id).where((PeerForward.peer == peer)
                                                               & (PeerForward.state == ACKED))
    handled = HubCase.select(HubCase.case_id).where(HubCase.handling_area == peer.area_code)
    packing_not_there = Event.select(Event.case_id).where(
        (Event.kind == event_kinds.ORIGINALS_PACKED) & Event.case_id.in_(handled) & Event.event_id.not_in(delivered))
    unknown_there = HubTransferItem.select(HubTransferItem.transfer).where(
        HubTransferItem.case_id.in_(packing_not_there))
    answered = PeerHandover.select(PeerHandover.handover_id).where(PeerHandover.peer == peer)
    return (HubTransferHandover.select(HubTransferHandover, HubTransfer).join(HubTransfer)
            .where(HubTransferHandover.transfer.in_(with_cases) & HubTransferHandover.transfer.not_in(others)
                   & HubTransferHandover.transfer.not_in(unknown_there)
                   & (HubTransferHandover.via_event == False)  # noqa: E712
                   & ~HubTransferHandover.handover_id.startswith(f"{peer.area_code}:")
                   & HubTransferHandover.handover_id.not_in(answered)))


def _handover_row(handover: HubTransferHandover) -> dict[str, Any]:
    """A handover as a station sends it, with the batch's id and who recorded it (a township, or "" — us)."""
    transfer = handover.transfer
    return {"handover_id": handover.handover_id, "transfer_id": transfer.transfer_id, "batch_no": transfer.batch_no,
            "giver": handover.giver, "receiver": handover.receiver, "receiver_kind": handover.receiver_kind,
            "place": handover.place, "at": handover.at.replace(tzinfo=dt.UTC).isoformat(),
            "missing": list(handover.missing or []), "extra": list(handover.extra or []), "note": handover.note,
            "arrived": bool(handover.arrived), "recorded_by": handover.recorded_by,
            "recorded_where": handover.recorded_at.name if handover.recorded_at_id else ""}


def forward_handovers(peer: Peer, client: PeerClient | None = None, report: ForwardReport | None = None
                      ) -> ForwardReport:
    """Send the peer the handovers of its batches recorded here, as a station sends its own; record its answers.

    Stored (or already held: it keeps each by its id) → acked; refused → set aside with its reason,
    for the peers page; no verified answer → nothing written, they go again next round.
    """
    client = client or PeerClient(peer)
    report = report or ForwardReport(peer.name)
    while True:
        rows = list(handovers_to_forward(peer).order_by(HubTransfer.id, HubTransferHandover.at, HubTransferHandover.id)
                    .limit(transfers.MAX_PUSHED))
        if not rows:
            return report
        status, answer = client.call("POST", "/api/v1/transfers/handovers",
                                     protocol.encode_body({"handovers": [_handover_row(h) for h in rows]}),
                                     {"Content-Encoding": "gzip", "Content-Type": "application/json"})
        if status != 200:
            raise PeerUnreachable(_refused("物料交接记录", status, answer))
        refused = {str(r.get("handover_id")): str(r.get("reason") or "对端未说明原因")
                   for r in answer.get("refused") or [] if isinstance(r, dict)}
        now = utcnow()
        with db.atomic():
            for handover in rows:
                reason = refused.get(handover.handover_id)
                try:
                    with db.atomic():
                        PeerHandover.create(handover_id=handover.handover_id, peer=peer,
                                            batch_no=handover.transfer.batch_no,
                                            state=SET_ASIDE if reason is not None else ACKED,
                                            reason=mask_numbers_in(reason)[:500] if reason is not None else None,
                                            answered_at=now)
                except IntegrityError:
                    continue  # another worker recorded the same answer first
                if reason is None:
                    report.handovers_acked += 1
                else:
                    report.handovers_set_aside += 1
                    report.details.append(f"物料流转批次 {handover.transfer.batch_no} 的交接：{reason}")


def sync_peer(peer: Peer, session: requests.Session | None = None) -> ForwardReport:
    """One round with one peer: forward, bring decisions back, then the custody of its batches.

    The handovers go after the events, so the peer knows their batch; a failure there is stored on
    the peer like any other (they go again next round) and the decisions are in already.
    """
    report = ForwardReport(peer.name)
    try:
        client = PeerClient(peer, session)
        forward(peer, client, report)
        pull_decisions(peer, client, report)
        forward_handovers(peer, client, report)
        Peer.update(last_contact_at=utcnow(), last_error="").where(Peer.id == peer.id).execute()
    except PeerUnreachable as exc:
        report.error = str(exc)
        Peer.update(last_error=report.error[:500]).where(Peer.id == peer.id).execute()
        log.warning("peer %s: %s", peer.area_code, exc)
    return report


def sync_all(session: requests.Session | None = None) -> list[ForwardReport]:
    """A round with every active peer (the hub's scheduler and ``python -m sync.hub peers --once``)."""
    return [sync_peer(peer, session) for peer in Peer.select().where(Peer.active == True)]  # noqa: E712


def queue_for(peer: Peer) -> dict[str, int]:
    """How many events wait for the peer, how many it set aside, and how many wait behind those (peers page)."""
    waiting = waiting_events(peer).count()
    set_aside = PeerForward.select().where((PeerForward.peer == peer) & (PeerForward.state == SET_ASIDE)).count()
    return {"waiting": waiting, "set_aside": set_aside, "held_back": held_back_events(peer).count()}


def resend(peer: Peer, event_id: str) -> PeerForward:
    """A county admin looked at an event the peer set aside and forwards it again at the next round.

    The peer de-duplicates by event id, so sending again can never store it twice; what it changes
    is that the case's events go out again (they were held back behind this one). An event the
    peer holds in conflict is refused: the same content would only conflict again.
    """
    with db.atomic():
        row = PeerForward.get_or_none((PeerForward.event_id == event_id) & (PeerForward.peer == peer))
        if row is None or row.state != SET_ASIDE:
            raise InvalidTransition("只有被对端搁置的事件才能重新转送（该事件可能已由他人处理，请刷新本页）。")
        if row.code in CONFLICT_CODES:
            raise InvalidTransition("该事件与对端县级平台已有记录内容冲突，原样重新转送会再次冲突；"
                                    f"请联系{peer.name}在其“冲突”页面核对处理，处理结果会自动同步到本平台。")
        row.delete_instance()
    return row


def resend_handover(peer: Peer, handover_id: str) -> PeerHandover:
    """A county admin looked at a handover the peer refused and forwards it again at the next round.

    The peer keeps each handover by its id, so sending again can never store it twice.
    """
    with db.atomic():
        row = PeerHandover.get_or_none((PeerHandover.handover_id == handover_id) & (PeerHandover.peer == peer))
        if row is None or row.state != SET_ASIDE:
            raise InvalidTransition("只有被对端拒收的交接记录才能重新转送（可能已由他人处理，请刷新本页）。")
        row.delete_instance()
    return row


def forward_state(case: HubCase) -> dict[str, Any] | None:
    """For a county's case page: is it handled elsewhere, and how far has it gone there."""
    if not case.handling_area:
        return None
    peer = Peer.get_or_none(Peer.area_code == case.handling_area)
    total = Event.select().where(Event.case_id == case.case_id).count()
    rows = list(PeerForward.select().where(PeerForward.case_id == case.case_id))
    set_aside = [r.reason or r.code for r in rows if r.state == SET_ASIDE]
    answered = {r.event_id for r in rows}
    unanswered = Event.select().where(Event.case_id == case.case_id).count() - len(answered)
    return {"peer": peer.name if peer else None, "area": case.handling_area, "events": total,
            "received_by": stations.receiving_station_name(case.station, case.snapshot or {}),
            "acked": sum(r.state == ACKED for r in rows), "set_aside": set_aside,
            "held_back": unanswered if set_aside else 0, "waiting": 0 if set_aside else unanswered,
            "last_error": peer.last_error if peer else ""}

