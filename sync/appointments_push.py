"""Sending the station's appointment offer and its bookings to the county, after the access log in each round.

The station hands them over through ``StationHooks.appointments_pending`` (None: nothing new) and
is told through ``appointments_confirmed`` what the county stored, only on a verified answer. The
county stores each booking by its id, so an answer lost on the way only means the same bookings
are sent again. A failure here does not end the round: the county's changes are still pulled.
"""

from __future__ import annotations

import logging

from sync.errors import LinkProblem
from sync.hooks import StationHooks
from sync.transport import HubClient, refuse_unless_ok

log = logging.getLogger(__name__)

PATH = "/api/v1/appointments"


def push_appointments(client: HubClient, hooks: StationHooks) -> int:
    """Send what changed; return how many bookings the county stored anew (0 when nothing went)."""
    if hooks.appointments_pending is None or hooks.appointments_confirmed is None:
        return 0
    try:
        body = hooks.appointments_pending()
        if body is None:
            return 0
        status, answer = client.post_json(PATH, body)
        if status == 404:
            log.warning("the hub does not take appointments yet; they wait")
            return 0
        refuse_unless_ok(status, answer, "预约")
    except LinkProblem as exc:
        log.warning("appointments not sent this round: %s", exc.message)
        return 0
    for refused in answer.get("refused") or []:
        log.warning("the county refused booking %s: %s", refused.get("appointment_id"), refused.get("reason"))
    hooks.appointments_confirmed(body)
    return int(answer.get("stored") or 0)
