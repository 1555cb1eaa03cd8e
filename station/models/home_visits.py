"""Home visits (上门服务): an agent at a resident's home, and the cases taken there."""

from __future__ import annotations

from peewee import CharField, DateField, DateTimeField, TextField

from station.models.base import BaseModel, OpenedTextField, now


class HomeVisit(BaseModel):
    """One visit: who went, where, when, for whom, what was done, how it ended.

    The resident's name, phone and address are sealed like a booking's (services/home_visits.py), and
    cleared by retention like a case's (services/retention.py). What was done and the outcome note are
    free text (a relative's name, a number) and sealed by the writer too (migration 0027), read back opened.
    """

    id = CharField(max_length=36, primary_key=True)  # a ULID
    visited_on = DateField(index=True)
    started_at = CharField(max_length=5)  # HH:MM, the station's wall clock
    ended_at = CharField(max_length=5, default="")
    staff = CharField(max_length=200)  # who went (names, as written)
    resident_name_stored = TextField()
    resident_phone_stored = TextField(default="")
    address_stored = TextField()
    village_code = CharField(max_length=12, default="")  # 12-digit area code of the village (migration 0021)
    purpose = OpenedTextField(default="")  # what was done
    outcome = CharField(max_length=16)  # rules.home_visits.OUTCOMES
    outcome_note = OpenedTextField(default="")
    appointment_id = CharField(max_length=36, default="")  # the booking it answered, if any
    created_by = CharField(max_length=100, default="")
    created_at = DateTimeField(default=now)
    personal_purged_at = DateTimeField(null=True)  # retention: the resident's name, phone, address cleared (0024)


class HomeVisitCase(BaseModel):
    """A case taken during a visit (a case belongs to at most one visit)."""

    visit_id = CharField(max_length=36, index=True)
    case_id = CharField(max_length=26, unique=True)
