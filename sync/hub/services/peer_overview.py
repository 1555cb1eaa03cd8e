"""How each link to a peer hub (跨域办) is doing, for the county admin's peers page.

Read-only: what waits to be forwarded (events, and the files they name — each with how much of it
the peer holds), what the peer set aside and why, the decisions it sent back, and the state of the
link. The peer's address is shown without the part that can hold a secret (user and password of a
proxy in front of it); a file's name without the personal numbers a scanner may have put in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from peewee import fn

from rules.privacy import mask_numbers_in
from sync.hub.models import Decision, Event, HubCase, Peer, PeerFile, PeerForward, PeerHandover, Station
from sync.hub.services import peers, personal
from sync.hub.services.bulk_sql import IN_CLAUSE

SET_ASIDE_SHOWN = 20
FILES_SHOWN = 50


@dataclass(frozen=True)
class FileToForward:
    """A file named by an event still to forward, and how much of it the peer holds."""

    case_id: str
    case_no: str
    filename: str  # personal numbers masked
    size: int
    held: int

    @property
    def done(self) -> bool:
        return self.held >= self.size > 0


@dataclass
class PeerLink:
    """One peer as the page shows it."""

    peer: Peer
    address: str
    cases: int
    waiting: int
    acked: int
    set_aside: int
    held_back: int
    files_waiting: int
    file_bytes_waiting: int
    files_done: int
    decisions: int
    last_decision_at: Any = None
    set_aside_rows: list[dict[str, Any]] = field(default_factory=list)
    file_rows: list[FileToForward] = field(default_factory=list)  # in flight first, at most FILES_SHOWN
    #: 物料流转: handovers of the peer's batches still to forward, delivered, and those it refused (newest first)
    handovers_waiting: int = 0
    handovers_acked: int = 0
    handovers_set_aside: list[PeerHandover] = field(default_factory=list)


def display_url(url: str) -> str:
    """The peer's address without its user and password (shown as ***; ``add_peer`` refuses a query)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    if parts.username or parts.password:
        host = f"***@{host}"
    return f"{parts.scheme}://{host}{parts.path}"


def _files_waiting(peer: Peer) -> list[FileToForward]:
    """Each file named by events still to forward (its bytes go first), with the first case naming it."""
    first_case: dict[str, str] = {}
    named: dict[str, dict[str, Any]] = {}
    for row in peers.waiting_events(peer).order_by(Event.case_id, Event.seq).iterator():
        for sha256, entry in peers.files_named([personal.open_body(row.body)]).items():
            if sha256 not in named:
                named[sha256], first_case[sha256] = entry, row.case_id
    held = _held(peer, list(named))
    return [FileToForward(case_id=first_case[sha256], case_no="",
                          filename=mask_numbers_in(str(entry.get("filename") or f"{sha256[:12]}…")),
                          size=size if isinstance(size := entry.get("size"), int) and size > 0 else 0,
                          held=held.get(sha256, 0))
            for sha256, entry in named.items()]


def _held(peer: Peer, digests: list[str]) -> dict[str, int]:
    """How much of each file the peer said it holds (files it was never asked about are absent)."""
    held: dict[str, int] = {}
    for at in range(0, len(digests), IN_CLAUSE):
        rows = PeerFile.select(PeerFile.sha256, PeerFile.held).where(
            (PeerFile.peer == peer) & PeerFile.sha256.in_(digests[at:at + IN_CLAUSE]))
        held.update((row.sha256, row.held) for row in rows)
    return held


def _shown(files: list[FileToForward]) -> list[FileToForward]:
    """The files to list: those in flight first (the peer holds part), then the rest, with case numbers."""
    chosen = sorted(files, key=lambda f: (not 0 < f.held < f.size, f.done, f.case_id))[:FILES_SHOWN]
    case_nos = {c.case_id: c.case_no for c in HubCase.select(HubCase.case_id, HubCase.case_no)
                .where(HubCase.case_id.in_([f.case_id for f in chosen] or [""]))}
    return [replace(f, case_no=case_nos.get(f.case_id) or f.case_id) for f in chosen]


def link_of(peer: Peer) -> PeerLink:
    """The forward queue, the set-aside events with their reasons and the decisions received of one peer."""
    handled = HubCase.handling_area == peer.area_code
    forwards = PeerForward.select().where(PeerForward.peer == peer)
    set_aside = (forwards.where(PeerForward.state == "set_aside")
                 .order_by(PeerForward.answered_at.desc(), PeerForward.id.desc()))
    case_nos = {c.case_id: c.case_no for c in HubCase.select(HubCase.case_id, HubCase.case_no)
                .where(HubCase.case_id.in_([r.case_id for r in set_aside.limit(SET_ASIDE_SHOWN)] or [""]))}
    decisions = Decision.select().join(HubCase).where(handled)
    last = decisions.order_by(Decision.decided_at.desc()).first()
    files = _files_waiting(peer)
    queue = peers.queue_for(peer)
    return PeerLink(
        peer=peer, address=display_url(peer.url), cases=HubCase.select().where(handled).count(),
        waiting=queue["waiting"], acked=forwards.where(PeerForward.state == "acked").count(),
        set_aside=queue["set_aside"], held_back=queue["held_back"], files_waiting=len(files), file_bytes_waiting=sum(f.size for f in files),
        files_done=PeerFile.select().where((PeerFile.peer == peer) & (PeerFile.held >= PeerFile.size)).count(),
        file_rows=_shown(files),
        decisions=decisions.count(), last_decision_at=last.decided_at if last else None,
        handovers_waiting=peers.handovers_to_forward(peer).count(),
        handovers_acked=PeerHandover.select().where((PeerHandover.peer == peer)
                                                    & (PeerHandover.state == peers.ACKED)).count(),
        handovers_set_aside=list(PeerHandover.select().where((PeerHandover.peer == peer)
                                                             & (PeerHandover.state == peers.SET_ASIDE))
                                 .order_by(PeerHandover.answered_at.desc(), PeerHandover.id.desc())
                                 .limit(SET_ASIDE_SHOWN)),
        set_aside_rows=[{"case_no": case_nos.get(r.case_id) or r.case_id, "case_id": r.case_id, "seq": r.seq,
                         "event_id": r.event_id, "conflict": r.code in peers.CONFLICT_CODES,
                         "reason": r.reason or r.code or "对端未说明原因", "at": r.answered_at}
                        for r in set_aside.limit(SET_ASIDE_SHOWN)])


def links() -> list[PeerLink]:
    """Every registered peer, by area code."""
    return [link_of(peer) for peer in Peer.select().order_by(Peer.area_code)]


@dataclass(frozen=True)
class UnlinkedArea:
    """A county this county's stations took 跨域办 cases for, with no peer registered: they wait here."""

    area_code: str
    name: str
    cases: int


def unlinked() -> list[UnlinkedArea]:
    """Handling counties named by this county's stations' cases that no peer stands for (by area code).

    Their cases are neither forwarded nor decided here (``decisions.decided_elsewhere``); without
    this list a county admin saw them nowhere but on each case's page.
    """
    own = str(current_app.config.get("AREA_CODE") or "")
    counts = (HubCase.select(HubCase.handling_area, fn.COUNT(HubCase.id).alias("n"), fn.MIN(HubCase.id).alias("first"))
              .join(Station, on=(HubCase.station == Station.id))
              .where(HubCase.handling_area.is_null(False) & (HubCase.handling_area != own)
                     & (Station.is_peer == False)  # noqa: E712 - cases a peer sent here are this county's
                     & HubCase.handling_area.not_in(Peer.select(Peer.area_code)))
              .group_by(HubCase.handling_area).order_by(HubCase.handling_area))
    found = []
    for row in counts:
        first = HubCase.get_by_id(row.first)
        found.append(UnlinkedArea(row.handling_area, str((first.snapshot or {}).get("handling_area_name") or ""), row.n))
    return found
