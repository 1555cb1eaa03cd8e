"""How each link to a peer hub (跨域办) is doing, for the county admin's peers page.

Read-only: what waits to be forwarded (events, and the files they name), what the peer set aside
and why, the decisions it sent back, and the state of the link. The peer's address is shown
without the part that can hold a secret (user and password of a proxy in front of it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sync.hub.models import Decision, HubCase, Peer, PeerForward
from sync.hub.services import peers, personal

SET_ASIDE_SHOWN = 20


@dataclass
class PeerLink:
    """One peer as the page shows it."""

    peer: Peer
    address: str
    cases: int
    waiting: int
    acked: int
    set_aside: int
    files_waiting: int
    file_bytes_waiting: int
    decisions: int
    last_decision_at: Any = None
    set_aside_rows: list[dict[str, Any]] = field(default_factory=list)


def display_url(url: str) -> str:
    """The peer's address without its user and password (shown as ***; ``add_peer`` refuses a query)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    if parts.username or parts.password:
        host = f"***@{host}"
    return f"{parts.scheme}://{host}{parts.path}"


def _files_waiting(peer: Peer) -> tuple[int, int]:
    """Files named by events still to forward (their bytes go first), and their total size."""
    files = peers.files_named(personal.open_body(row.body) for row in peers.waiting_events(peer).iterator())
    sizes = [entry.get("size") for entry in files.values()]
    return len(files), sum(size for size in sizes if isinstance(size, int) and size > 0)


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
    files, file_bytes = _files_waiting(peer)
    queue = peers.queue_for(peer)
    return PeerLink(
        peer=peer, address=display_url(peer.url), cases=HubCase.select().where(handled).count(),
        waiting=queue["waiting"], acked=forwards.where(PeerForward.state == "acked").count(),
        set_aside=queue["set_aside"], files_waiting=files, file_bytes_waiting=file_bytes,
        decisions=decisions.count(), last_decision_at=last.decided_at if last else None,
        set_aside_rows=[{"case_no": case_nos.get(r.case_id) or r.case_id, "case_id": r.case_id, "seq": r.seq,
                         "reason": r.reason or r.code or "对端未说明原因", "at": r.answered_at}
                        for r in set_aside.limit(SET_ASIDE_SHOWN)])


def links() -> list[PeerLink]:
    """Every registered peer, by area code."""
    return [link_of(peer) for peer in Peer.select().order_by(Peer.area_code)]
