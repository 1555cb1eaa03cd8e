"""Appointments (预约) at the station: those its agents booked for callers and those residents booked at the county."""

from __future__ import annotations

from peewee import BooleanField, CharField, DateField, DateTimeField, IntegerField, TextField

from station.models.base import BaseModel, SealedCharField, now


class Appointment(BaseModel):
    """One booking; name, phone and address sealed (services/appointments.py), the phone blind-indexed.

    ``version`` counts the station's own changes and ``sent_version`` the last one the county
    confirmed, so a booking changed while a sync was sending it is sent again. Retention clears the
    resident of an old, finished, confirmed booking (services/retention.py).
    """

    id = CharField(max_length=36, primary_key=True)  # a ULID, made where it was booked
    code = CharField(max_length=16, unique=True)  # the resident's booking code
    slot_date = DateField(index=True)
    slot_start = CharField(max_length=5)
    slot_end = CharField(max_length=5)
    item_code = CharField(max_length=64, default="")
    item_name = CharField(max_length=200, default="")
    name_stored = TextField()
    phone_stored = TextField()
    phone_index = CharField(max_length=64, index=True)
    address_stored = TextField(default="")
    home_visit = BooleanField(default=False)
    status = CharField(max_length=16, default="booked")  # rules.appointments.STATUSES
    source = CharField(max_length=16, default="station")  # station | public
    case_id = CharField(max_length=36, default="")
    case_no = CharField(max_length=64, default="")
    case_query_code = CharField(max_length=32, default="")
    note = SealedCharField(max_length=200, default="")  # free text, up to 200 characters typed; sealed (0028)
    booked_by = CharField(max_length=100, default="")  # the agent, for a booking made at the station
    created_at = DateTimeField(default=now)
    updated_at = DateTimeField(default=now)
    version = IntegerField(default=0)
    sent_version = IntegerField(default=0)
    personal_purged_at = DateTimeField(null=True)  # retention: the resident's name, phone, address cleared (0026)
