"""Authenticating station requests: key, signature, clock, and the shared nonce table."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping

from peewee import IntegrityError

from sync import protocol
from sync.hub import prepared
from sync.hub.extensions import db
from sync.hub.models import Device, Nonce, Station
from sync.hub.services import devices, personal

#: Written out, not rendered by peewee per request (that cost more than the insert).
_INSERT_NONCE = 'INSERT INTO "hub_nonce" ("station_id", "value", "seen_at") VALUES ({param}, {param}, {param})'


def authenticate(method: str, path_with_query: str, headers: Mapping[str, str], *,
                 window_s: int, prune_probability: float = 0.02,
                 now: float | None = None) -> tuple[Station, protocol.SignedRequest, Device | None]:
    """Return the station, its signed headers and the device that signed (None: the station PC).

    Raises :class:`protocol.ProtocolError`. A request naming a device (``X-Device``) is checked
    with that device's own secret; an unknown or revoked device is refused with its reason.

    The body digest is not checked here (the caller reads the body under a size limit first).
    The nonce is stored in the database under a unique index, so a replay is refused even when
    it reaches another worker process. Nonces are kept three clock windows: a request stamped
    at the edge of the window cannot be replayed after its nonce is pruned, because by then its
    timestamp is out of the window.
    """
    signed = protocol.parse_signed_headers(headers)
    station = Station.by_code(signed.station, heartbeat=False) if signed.station else None
    if station is None or not station.active:
        raise protocol.ProtocolError(protocol.ERR_UNKNOWN_STATION)
    device = devices.device_for(station, signed.device) if signed.device else None
    current = time.time() if now is None else now
    protocol.verify_request(personal.station_secret(device or station), method, path_with_query, headers, None,
                            now=current, window_s=window_s, signed=signed)
    try:  # one statement, committed on its own (no BEGIN/COMMIT round trips): the replay check every request pays
        prepared.execute(_INSERT_NONCE.format(param=db.param), (station.id, signed.nonce, int(current)))
    except IntegrityError as exc:
        raise protocol.ProtocolError(protocol.ERR_REPLAY) from exc
    if random.random() < prune_probability:
        prune_nonces(window_s, now=current)
    return station, signed, device


def prune_nonces(window_s: int, *, now: float | None = None) -> int:
    """Delete nonces too old to matter; returns how many went."""
    cutoff = int((time.time() if now is None else now) - 3 * window_s)
    with db.atomic():
        return Nonce.delete().where(Nonce.seen_at < cutoff).execute()
