"""Appointments (预约): what each station offers, and the bookings for it (issue 16)."""

from __future__ import annotations

from peewee import BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from sync.hub.models.base import BaseModel, JSONText, SealedText, utcnow
from sync.hub.models.stations import Station


class AppointmentOffer(BaseModel):
    """A station's published offer (rules/appointments.normalise_offer), as its last sync sent it.

    ``bookings`` counts the bookings taken against it: every booking bumps it first, which
    serialises bookings for one station on both databases (the row lock is the queue).
    """

    station = ForeignKeyField(Station, unique=True, on_delete="CASCADE")
    body = JSONText(default=dict)
    published_at = DateTimeField(default=utcnow)
    bookings = IntegerField(default=0)


class Appointment(BaseModel):
    """One booking; the name, phone and address are sealed, the phone also blind-indexed.

    Past the retention period a finished booking keeps its name and phone masked only, no address and
    no blind index (``personal_purged_at``, services/retention.py).
    """

    appointment_id = CharField(max_length=36, unique=True)  # a ULID, made where it was booked
    station = ForeignKeyField(Station, index=True, on_delete="CASCADE")
    code = CharField(max_length=16, unique=True)  # the resident's booking code (query-code alphabet)
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
    source = CharField(max_length=16, default="public")  # public | station
    case_id = CharField(max_length=36, null=True)
    case_no = CharField(max_length=64, null=True)
    case_query_code = CharField(max_length=32, null=True)
    note = SealedText(default="")  # free text, up to 200 characters: sealed (0032), as the station seals it
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    personal_purged_at = DateTimeField(null=True)  # the resident cleared after retention (migration 0025)
