"""Case numbers (办件编号) minted offline by every device of a station, never colliding.

``{station area code, 12}{YYYYMMDD}{4-digit daily sequence}`` (DOMAIN.md) on the station PC; a
second device of the same station (a laptop on a home visit, registered at the hub as device
``N``, 1…99) appends ``-NN``. Each device counts its own daily sequence in its own database, so
two devices numbering the same minute offline still differ by the suffix, and the PC's numbers
keep the form printed before devices existed. docs/sync-protocol.md "A second device" says more.
"""

from __future__ import annotations

MAX_DEVICE = 99
#: YYYYMMDD + the 4-digit daily sequence: the tail of every number before a device suffix.
DAY_AND_SEQUENCE = 12


def device_suffix(device: int) -> str:
    """What ``device``'s case numbers end with: "" for the station PC (0), ``-01`` … ``-99`` otherwise."""
    if not 0 <= int(device) <= MAX_DEVICE:
        raise ValueError(f"device number {device} outside 0…{MAX_DEVICE}")
    return f"-{int(device):02d}" if device else ""


def compose(area_code: str, day_key: str, sequence: int, device: int = 0) -> str:
    """The case number of the ``sequence``-th case of ``day_key`` (YYYYMMDD) on ``device``."""
    return f"{area_code}{day_key}{sequence:04d}{device_suffix(device)}"


def day_and_sequence(case_no: str | None, device: int = 0) -> tuple[str, int] | None:
    """(YYYYMMDD, sequence) of a number ``device`` minted, or None for another device's or another form."""
    number = case_no or ""
    suffix = device_suffix(device)
    if suffix:
        if not number.endswith(suffix):
            return None
        number = number[:-len(suffix)]
    tail = number[-DAY_AND_SEQUENCE:]
    if len(tail) != DAY_AND_SEQUENCE or not tail.isdigit():
        return None
    return tail[:8], int(tail[8:])
