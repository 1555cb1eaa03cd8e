"""跨域办: telling a station that county A's forward of its case to the handling county is held, and when no longer.

The forward round (services/peers.py) records the peer's answers; an event the peer sets aside holds
its case back at this hub until a county admin sends it again or the peer settles it. The station
that took the case learns both turns by a ``case.forward_held`` change on its feed, written here in
the transaction that records the answers.
"""

from __future__ import annotations

from sync import protocol
from sync.hub.models import Change, HubCase, Peer, PeerForward
from sync.hub.services import changes

SET_ASIDE = "set_aside"  # PeerForward.state of an event the peer set aside (peers.SET_ASIDE)


def tell_stations(peer: Peer, held: dict[str, int], through: dict[str, int]) -> None:
    """Tell each case's station by a ``case.forward_held`` change when its forward is held, and when no longer.

    ``held``: cases an event of which the peer has just set aside; ``through``: cases an event of
    which it has just accepted (or settled), each with that event's seq. A case comes through
    again only after a person sent the held event again (``peers.resend``) or the peer settled it, so
    "no longer held" is said only to a station last told "held", and only once nothing of the case
    is set aside any more. Without this the village saw a case that seemed merely slow, and told the
    resident to wait for a decision nobody was yet able to take.
    """
    told = _last_told({**through, **held})
    still_aside = set(PeerForward.select(PeerForward.case_id).where(
        (PeerForward.peer == peer) & (PeerForward.state == SET_ASIDE)
        & PeerForward.case_id.in_(list(through) or [""])).tuples())
    cases = {case.case_id: case for case in HubCase.select().where(HubCase.case_id.in_(list({**through, **held}) or [""]))}
    for case_id, seq in held.items():
        if case_id in cases and told.get(case_id) is not True:  # sent again and set aside again: told already
            _tell(cases[case_id], peer, held=True, seq=seq)
    for case_id, seq in through.items():
        if case_id in cases and case_id not in held and told.get(case_id) is True and (case_id,) not in still_aside:
            _tell(cases[case_id], peer, held=False, seq=seq)


def _last_told(case_seqs: dict[str, int]) -> dict[str, bool]:
    """What each case's station was last told by ``case.forward_held`` (held or not); absent: never told."""
    if not case_seqs:
        return {}
    found: dict[str, bool] = {}
    station_ids = HubCase.select(HubCase.station).where(HubCase.case_id.in_(list(case_seqs)))
    for case_id, payload in (Change.select(Change.case_id, Change.payload)
                             .where(Change.station.in_(station_ids)  # the station's index: the kind is rare
                                    & (Change.kind == protocol.CHANGE_FORWARD_HELD)
                                    & Change.case_id.in_(list(case_seqs)))
                             .order_by(Change.id).tuples()):
        found[case_id] = bool((payload or {}).get("held"))
    return found


def _tell(case: HubCase, peer: Peer, *, held: bool, seq: int) -> None:
    changes.emit(protocol.CHANGE_FORWARD_HELD, {"held": held, "county": peer.name, "seq": seq},
                 station=case.station, case_id=case.case_id)
