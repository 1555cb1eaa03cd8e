"""Cases of this station taken on another of its devices, as the county's changes feed brought them."""

from __future__ import annotations

from peewee import CharField, DateTimeField, IntegerField

from station.models.base import BaseModel, SealedJSONField, now


class SharedCase(BaseModel):
    """A read-only copy of a case another device of this station took (docs/sync-protocol.md).

    Read-only because a case's events are numbered (``seq``) by the device that holds it: two
    devices adding events to one case offline would both write the same ``seq``, and the county
    would have to settle the clash by hand. Follow-up happens on the device that took the case.
    """

    id = CharField(max_length=36, primary_key=True)  # the case id, as on the device that took it
    case_no = CharField(max_length=64, index=True)
    query_code = CharField(max_length=32, default="")
    item_name = CharField(max_length=200, default="")
    applicant_name = CharField(max_length=100, default="")  # as on Case: plain, searched by staff
    origin_device = IntegerField(default=0)  # 0: the station PC
    status = CharField(max_length=16, default="")  # the county's status (submitted, accepted, …)
    hub_case_no = CharField(max_length=50, default="")
    received_at = CharField(max_length=40, default="")
    snapshot = SealedJSONField(default=dict)  # the case as sent: numbers, phone and address inside
    updated_at = DateTimeField(default=now)

    class Meta:
        table_name = "shared_case"
