"""The one accessor for personal numbers and addresses stored on a case.

Every read and write of an ID number, phone or address goes through here. The stored form is
sealed with the station's key ring (AES-256-GCM, station/keys.py); the ID number also gets a
keyed blind index (HMAC) so the duplicate check and a search by ID number find a case without
the database ever holding the number. A value stored before sealing existed reads as it is
(the start-up pass seals such rows: :func:`seal_plain_cases`).
"""

from __future__ import annotations

from typing import Any

from rules.privacy import mask_id_number, mask_phone
from station import keys


def seal(value: str) -> str:
    """Turn a personal number or address into its stored form (sealed; "" stays "")."""
    return keys.ring().seal(value)


def unseal(stored: str) -> str:
    """Turn a stored personal number or address back into its value."""
    return keys.ring().unseal(stored)


def id_index(id_number: str) -> str:
    """The blind index an ID number is looked up by (current index key)."""
    return keys.ring().blind_index(id_number)


def id_indexes(id_number: str) -> list[str]:
    """The blind indexes under every index key in the ring: a lookup still finds rows mid-rotation."""
    return keys.ring().blind_indexes(id_number)


def applicant_id_number(case) -> str:  # noqa: ANN001 - a Case row
    return unseal(case.applicant_id_stored)


def applicant_phone(case) -> str:  # noqa: ANN001
    return unseal(case.applicant_phone_stored)


def applicant_address(case) -> str:  # noqa: ANN001
    return unseal(case.applicant_address)


def proxy_id_number(case) -> str:  # noqa: ANN001
    return unseal(case.proxy_id_stored)


def proxy_phone(case) -> str:  # noqa: ANN001
    return unseal(case.proxy_phone_stored)


def collector_id_number(case) -> str:  # noqa: ANN001
    """The ID number of whoever collected the result at the window (issue 19), or ""."""
    return unseal(case.collector_id_stored) if case.collector_id_stored else ""


def masked(case) -> dict[str, str]:  # noqa: ANN001
    """The masked numbers a list, a screen or a log may show."""
    return {
        "applicant_id": mask_id_number(applicant_id_number(case)),
        "applicant_phone": mask_phone(applicant_phone(case)),
        "proxy_id": mask_id_number(proxy_id_number(case)),
        "proxy_phone": mask_phone(proxy_phone(case)),
    }


def sealed_columns(applicant_id: str, applicant_phone: str, applicant_address: str,
                   proxy_id: str, proxy_phone: str) -> dict[str, Any]:
    """The stored columns of a case's personal data, blind index included (intake, rotation, sealing old rows)."""
    return {
        "applicant_id_stored": seal(applicant_id),
        "applicant_id_index": id_index(applicant_id),
        "applicant_phone_stored": seal(applicant_phone),
        "applicant_address": seal(applicant_address),
        "proxy_id_stored": seal(proxy_id),
        "proxy_phone_stored": seal(proxy_phone),
    }
