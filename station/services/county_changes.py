"""What each kind of county change means to this station (called by sync's pull, inside its transaction)."""

from __future__ import annotations

from typing import Any

from station.services import (
    appointments,
    forward_holds,
    home_visits,
    shared_cases,
    transfer_refusals,
    transfers,
)
from station.services.calendar import apply_hub_holidays
from station.services.case_deadlines import apply_county_dues
from station.services.cases import apply_conflict_resolution, apply_county_status
from station.services.catalog import import_catalog
from station.services.evaluations import apply_hub_rating, apply_remedy
from station.services.station_info import apply_hub_settings
from sync import protocol


def apply_change(kind: str, case_id: str, payload: dict[str, Any]) -> None:
    """Apply one change from the county's feed; a kind this release does not know is left alone.

    Raises a domain error (with a Chinese ``message``) for a change the station cannot apply;
    sync keeps it for a person and moves the cursor on.
    """
    if kind == protocol.CHANGE_CASE_STATUS:
        if apply_county_status(case_id, payload) is None:
            shared_cases.apply_status(case_id, payload)  # a case another device of this station took
    elif kind == protocol.CHANGE_CATALOG_PUBLISHED:
        import_catalog(payload, source="hub")
    elif kind == protocol.CHANGE_STATION_SETTINGS:
        apply_hub_settings(payload.get("settings") or {})
    elif kind == protocol.CHANGE_CONFLICT_RESOLVED:
        if apply_conflict_resolution(case_id, payload) is None:
            home_visits.apply_conflict_resolution(case_id, payload)  # a visit's events queue under its id
    elif kind == protocol.CHANGE_CASE_SHARED:
        shared_cases.apply_shared(case_id, payload)
    elif kind == protocol.CHANGE_APPOINTMENT:
        appointments.apply_from_hub(payload)
    elif kind == protocol.CHANGE_EVALUATION:
        apply_hub_rating(case_id, payload)
    elif kind == protocol.CHANGE_REMEDY:
        apply_remedy(case_id, payload)
    elif kind == protocol.CHANGE_TRANSFER_HANDOVER:
        transfers.apply_from_county(payload)
    elif kind == protocol.CHANGE_TRANSFER_HANDOVER_REFUSED:
        transfer_refusals.apply_county_refusal(payload)
    elif kind == protocol.CHANGE_HOLIDAYS:
        apply_hub_holidays(payload)
    elif kind == protocol.CHANGE_FORWARD_HELD:
        if forward_holds.apply_county_hold(case_id, payload) is None:
            shared_cases.apply_forward_hold(case_id, payload)  # a case another device of this station took
    elif kind == protocol.CHANGE_CASE_DUES:
        if apply_county_dues(case_id, payload) is None:
            shared_cases.apply_dues(case_id, payload)
