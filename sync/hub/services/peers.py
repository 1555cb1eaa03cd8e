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
as it does at the peer.
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
from peewee import IntegrityError

from sync import protocol
from sync.errors import CaseProblem, HubFault
from sync.file_upload import FileUploader
from sync.hub.extensions import db, key_ring
from sync.hub.models import Event, HubCase, Peer, PeerFile, PeerForward
from sync.hub.models.base import utcnow
from sync.hub.services import attachments, decisions, personal
from sync.hub.services.classify import named_files
from sync.hub.services.errors import InvalidTransition, NotFound, ValidationError
from websec.sealing import SealedFile

log = logging.getLogger(__name__)

AREA_DIGITS = 6
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
    file_bytes_sent: int = 0
    decisions_applied: int = 0
    changes_skipped: int = 0
    error: str = ""
    details: list[str] = field(default_factory=list)


def add_peer(area_code: str, name: str, url: str, station_code: str, secret: str) -> Peer:
    """Register (or update) the county hub that handles ``area_code``'s items, with our credentials there."""
    area_code, name, url, station_code = (v.strip() for v in (area_code, name, url, station_code))
    if not (area_code.isdigit() and len(area_code) == AREA_DIGITS):
        raise ValidationError("对端县级平台的行政区划代码须为 6 位数字。")
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise ValidationError("对端县级平台的地址须以 http:// 或 https:// 开头。")
    if urlsplit(url).query or urlsplit(url).fragment:
        raise ValidationError("对端县级平台的地址不能带“?”或“#”后的参数：请只填写平台的根地址。")
    if not name or not station_code or len(secret or "") < 16:
        raise ValidationError("请填写对端名称、本平台在对端的站点编码和对端签发的密钥。")
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

    def call(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
             ) -> tuple[int, dict[str, Any]]:
        prepared = requests.Request(method, self.peer.url + path, data=body or None,
                                    headers={"Accept-Encoding": "gzip", **(headers or {})}).prepare()
        signed = protocol.sign_request(self.secret, method, prepared.path_url, body, station=self.peer.station_code)
        prepared.headers.update(signed)
        try:
            response = self.session.send(prepared, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise PeerUnreachable(f"无法连接对端县级平台（{self.peer.name}）。") from exc
        if response.status_code == 503 and "Retry-After" in response.headers:
            raise PeerUnreachable(f"对端县级平台（{self.peer.name}）繁忙，稍后自动重试。")
        if not protocol.verify_response(self.secret, signed[protocol.H_NONCE], response.status_code,
                                        response.headers, response.content):
            raise PeerUnreachable(f"对端县级平台（{self.peer.name}）的应答未通过签名验证，本次不计为已送达。")
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        return response.status_code, payload if isinstance(payload, dict) else {}


def waiting_events(peer: Peer) -> Any:
    """The query of events of cases handled by ``peer`` with no final answer from it yet (the forward queue)."""
    answered = PeerForward.select(PeerForward.event_id)
    return (Event.select()
            .join(HubCase, on=(Event.case_id == HubCase.case_id))
            .where((HubCase.handling_area == peer.area_code) & Event.event_id.not_in(answered)))


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
        raise PeerUnreachable(f"对端县级平台拒绝了附件核对（{status}）：{answer.get('message', '')}")
    missing = answer.get("missing") or []
    for sha256 in set(files) - set(missing):  # whole at the peer already (a round whose last answer was lost, too)
        if isinstance(size := files[sha256].get("size"), int):
            note_held(client.peer, sha256, size, size)
    uploader = FileUploader(client, _stored_file,
                            progress=lambda sha256, held, size: note_held(client.peer, sha256, held, size))
    for sha256 in missing:
        if sha256 not in files:
            continue
        try:
            report.file_bytes_sent += uploader.upload_one(sha256, files[sha256])
        except HubFault as exc:
            raise PeerUnreachable(f"对端县级平台（{client.peer.name}）{exc}，稍后自动续传。") from exc
        except CaseProblem as exc:
            report.details.append(f"附件 {sha256[:12]}…：{exc}")
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
    now = utcnow()
    with db.atomic():
        for result in results:
            row = by_id.get(str(result.get("event_id")))
            if row is None:
                continue
            status = result.get("status")
            if status in (protocol.STATUS_ACCEPTED, protocol.STATUS_DUPLICATE):
                state = "acked"
                report.acked += 1
            elif result.get("retryable"):
                report.retry_later += 1
                continue  # no row: it goes again next round
            else:
                state = "set_aside"
                report.set_aside += 1
                report.details.append(f"{row.case_id} 第 {row.seq} 条：{result.get('reason') or result.get('code')}")
            try:
                with db.atomic():
                    PeerForward.create(event_id=row.event_id, peer=peer, case_id=row.case_id, seq=row.seq,
                                       state=state, code=result.get("code"), reason=result.get("reason"),
                                       answered_at=now)
            except IntegrityError:
                pass  # another worker recorded the same answer first


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
            raise PeerUnreachable(f"对端县级平台拒收本批次（{status}）：{answer.get('message', '')}")
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
            raise PeerUnreachable(f"对端县级平台拒绝了变更读取（{status}）：{page.get('message', '')}")
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
    case = HubCase.get_or_none(HubCase.case_id == str(change.get("case_id") or ""))
    if change.get("kind") != protocol.CHANGE_CASE_STATUS or case is None or case.handling_area != peer.area_code:
        report.changes_skipped += 1  # the peer's catalogs and settings are for its own stations
        return
    payload = change.get("payload") if isinstance(change.get("payload"), dict) else {}
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


def sync_peer(peer: Peer, session: requests.Session | None = None) -> ForwardReport:
    """One round with one peer: forward, then bring decisions back; a failure is stored on the peer."""
    report = ForwardReport(peer.name)
    try:
        client = PeerClient(peer, session)
        forward(peer, client, report)
        pull_decisions(peer, client, report)
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
    """How many events wait for the peer, and how many it set aside (the county's peers page)."""
    waiting = waiting_events(peer).count()
    set_aside = PeerForward.select().where((PeerForward.peer == peer) & (PeerForward.state == "set_aside")).count()
    return {"waiting": waiting, "set_aside": set_aside}


def forward_state(case: HubCase) -> dict[str, Any] | None:
    """For a county's case page: is it handled elsewhere, and how far has it gone there."""
    if not case.handling_area:
        return None
    peer = Peer.get_or_none(Peer.area_code == case.handling_area)
    total = Event.select().where(Event.case_id == case.case_id).count()
    rows = list(PeerForward.select().where(PeerForward.case_id == case.case_id))
    return {"peer": peer.name if peer else None, "area": case.handling_area, "events": total,
            "acked": sum(r.state == "acked" for r in rows),
            "set_aside": [r.reason or r.code for r in rows if r.state == "set_aside"],
            "last_error": peer.last_error if peer else ""}

