"""物料流转 rules the station and the county share: the batch number a scanner types, and a handover's names.

Pure: no Flask, no database. A station records handovers of its batches (and of batches it received
on paper), the county records receipt on its own page; both read the barcode and check the form here,
so a batch number or a rule cannot drift between them.
"""

from __future__ import annotations

import re

IN_TRANSIT, ARRIVED = "in_transit", "arrived"
STATES = {IN_TRANSIT: "在途", ARRIVED: "已送达"}
ITEM_STATES = {"present": "随批", "missing": "缺失", "extra": "多出"}
NAME_MAX = 50
#: Paper originals reach the township within this many working days (DB14/T 2233-2020): a batch in
#: one hand longer than that is shown late — counted in working days, so a Friday's batch is not red on Monday.
HANDOVER_WORKING_DAYS = 3
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: ``WL-{station code}-{YYYYMMDD}-{nn}``, and on a second device of the station (a laptop on a home
#: visit) ``…-{nn}-{device}`` as its case numbers (rules/case_numbers.py): each device counts in its
#: own database, the suffix keeps two batches of one day apart. ASCII, printed as Code 128.
BATCH_NO = re.compile(r"^WL-([0-9A-Z-]{4,30}?)-\d{8}-\d{2,3}(?:-\d{2})?$")


def normalize_code(typed: str | None) -> str:
    """The batch number as a scanner typed it: CR/LF/tab it sent, spaces around it, lower case — gone."""
    return _CONTROL.sub("", typed or "").strip().upper()


def origin_of(code: str) -> str:
    """The code of the station that packed a batch, read from its number; "" when it is not a batch number."""
    match = BATCH_NO.match(code)
    return match.group(1) if match else ""


def handover_problems(giver: str, receiver: str, place: str) -> dict[str, str]:
    """What is wrong with a handover's names, by form field, in Chinese (empty: nothing)."""
    errors: dict[str, str] = {}
    if not giver:
        errors["giver"] = "请填写交出人。"
    if not receiver:
        errors["receiver"] = "请填写接收人。"
    elif receiver == giver:
        errors["receiver"] = "交出人和接收人不能是同一人。"
    for name, value in (("giver", giver), ("receiver", receiver), ("place", place)):
        if len(value) > NAME_MAX:
            errors[name] = f"最多{NAME_MAX}个字。"
    return errors
