"""The adapter seam between the sync API and whatever platform processes cases.

The API blueprint talks only to a :class:`CasePlatform`. :class:`LocalPlatform` is our reference
county platform (the services in this package). Connecting stations to a real provincial
platform means writing one class that implements the same methods — translating events into
that platform's API and its answers into :class:`protocol.EventResult` and changes — and naming
it in the ``HUB_PLATFORM`` setting. Authentication, signing, limits and versions stay here.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from typing import Any, Protocol

from flask import Flask

from sync import protocol
from sync.hub.models import Station
from sync.hub.services import attachments, changes, devices, ingest, station_state, stations

log = logging.getLogger(__name__)


class CasePlatform(Protocol):
    """What the sync API needs from a county platform."""

    def receive_batch(self, station: Station, batch: dict[str, Any], *, device: int = 0) -> list[protocol.EventResult]:
        """Classify and store every event of an (upgraded, current-version) batch sent by ``device`` (0: the PC)."""

    def changes(self, station: Station, cursor: int, limit: int, *, device: int = 0) -> changes.ChangePage:
        """Return the station's changes after ``cursor``, as its ``device`` sees them."""

    def record_heartbeat(self, station: Station, heartbeat: dict[str, Any]) -> None:
        """Remember a station's heartbeat."""

    def station_state(self, station: Station, since: dt.date | None, *, device: int = 0) -> dict[str, Any]:
        """What the hub holds of the station: its cases' last seq, the device's days' last case numbers."""

    def case_events(self, station: Station, case_id: str) -> list[dict[str, Any]] | None:
        """Every event of one of the station's cases as it sent them; None when it is not the station's."""

    def check_attachments(self, station: Station, digests: list[str]) -> list[str]:
        """Return the digests the station still has to upload."""

    def attachment_status(self, station: Station, sha256: str) -> dict[str, Any]:
        """Return upload progress for one file."""

    def put_attachment_chunk(self, station: Station, sha256: str, *, start: int, end: int, total: int,
                             data: bytes, content_type: str | None) -> dict[str, Any]:
        """Store one chunk of a file."""


class LocalPlatform:
    """The reference county platform: everything in this hub's own database and instance folder."""

    def __init__(self, app: Flask) -> None:
        self.grace_days = int(app.config["CATALOG_GRACE_DAYS"])
        self.page_bytes = int(app.config["MAX_CHANGES_PAGE_BYTES"])
        self.attachment_dir = app.config["ATTACHMENT_DIR"]
        self.max_attachment_bytes = int(app.config["MAX_ATTACHMENT_BYTES"])

    def receive_batch(self, station: Station, batch: dict[str, Any], *, device: int = 0) -> list[protocol.EventResult]:
        """Store heartbeat and events; see :mod:`sync.hub.services.ingest`.

        The cases stored (or answered duplicate, after a lost answer) are then announced to the
        station's other devices (:func:`sync.hub.services.devices.share_cases`).
        """
        heartbeat = stations.heartbeat_update(station, batch.get("heartbeat"))
        results, stored_beat = ingest.receive_batch(station, batch, grace_days=self.grace_days, also=heartbeat)
        stored = {result.event_id for result in results
                  if result.status in (protocol.STATUS_ACCEPTED, protocol.STATUS_DUPLICATE)}
        case_ids = [event["case_id"] for event in batch.get("events") or []
                    if isinstance(event, dict) and event.get("event_id") in stored]
        devices.share_cases(station, device, case_ids)
        if heartbeat is not None and not stored_beat:
            try:  # after the events: telemetry must never cost a station its batch
                heartbeat()
            except Exception:  # noqa: BLE001 - logged; the events are stored and answered
                log.exception("hub: heartbeat of %s not stored", station.code)
        return results

    def changes(self, station: Station, cursor: int, limit: int, *, device: int = 0) -> changes.ChangePage:
        """Page through the local changes table."""
        return changes.page_for(station, cursor, limit, max_bytes=self.page_bytes, device=device)

    def record_heartbeat(self, station: Station, heartbeat: dict[str, Any]) -> None:
        """Store the heartbeat on the station row."""
        stations.record_heartbeat(station, heartbeat)

    def station_state(self, station: Station, since: dt.date | None, *, device: int = 0) -> dict[str, Any]:
        """See :func:`sync.hub.services.station_state.state_of`."""
        return station_state.state_of(station, since, device=device)

    def case_events(self, station: Station, case_id: str) -> list[dict[str, Any]] | None:
        """See :func:`sync.hub.services.station_state.case_events`."""
        return station_state.case_events(station, case_id)

    def check_attachments(self, station: Station, digests: list[str]) -> list[str]:
        """See :func:`sync.hub.services.attachments.check`."""
        return attachments.check(station, digests)

    def attachment_status(self, station: Station, sha256: str) -> dict[str, Any]:
        """See :func:`sync.hub.services.attachments.status`."""
        return attachments.status(station, sha256)

    def put_attachment_chunk(self, station: Station, sha256: str, *, start: int, end: int, total: int,
                             data: bytes, content_type: str | None) -> dict[str, Any]:
        """See :func:`sync.hub.services.attachments.put_chunk`."""
        return attachments.put_chunk(self.attachment_dir, station, sha256, start=start, end=end, total=total,
                                     data=data, max_bytes=self.max_attachment_bytes,
                                     content_type=content_type)


def load_platform(app: Flask) -> CasePlatform:
    """Instantiate the platform named by ``HUB_PLATFORM`` (``module:Class``, called with the app)."""
    module_name, _, attr = str(app.config["HUB_PLATFORM"]).partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    return factory(app)
