"""好差评 at the station, the county's 整改 of a 差评 as it comes down, and telling the resident.

``Evaluation`` is the same plain table as the hub's (level by name, case, visit, channel, time):
ratings taken on the kiosk here, and those given on the county's public page, pulled down.
"""

from __future__ import annotations

from peewee import AutoField, CharField, DateTimeField, ForeignKeyField, IntegerField

from station.models.base import BaseModel, OpenedTextField, SealedJSONField, SealedTextField, now
from station.models.cases import Case
from station.models.users import User


class Evaluation(BaseModel):
    """One rating; at most one ``first`` and one ``follow_up`` per case and visit (一次一评)."""

    id = AutoField()
    evaluation_id = CharField(max_length=36, unique=True)
    case = ForeignKeyField(Case, backref="evaluations", on_delete="CASCADE")
    visit = CharField(max_length=40)  # rules.evaluations.VISITS
    kind = CharField(max_length=16, default="first")  # first | follow_up
    level = CharField(max_length=24, index=True)  # rules.evaluations.LEVELS, by name
    reason_tag = CharField(max_length=24, default="")
    reason_text = SealedTextField(default="")  # the resident's words, numbers masked (rules.evaluations.clean_text); sealed (0029)
    channel = CharField(max_length=16)  # rules.evaluations.CHANNELS
    source = CharField(max_length=8)  # station (the kiosk) | hub (the county's public page)
    agent = CharField(max_length=60, default="")  # whose service was rated (username)
    created_at = DateTimeField(default=now, index=True)

    class Meta:
        indexes = ((("case", "visit", "kind"), True),)


class Remedy(BaseModel):
    """The county's 整改 of a 差评 about this station's service, as the last ``remedy.updated`` said."""

    id = AutoField()
    remedy_id = IntegerField(unique=True)  # the hub's id
    case = ForeignKeyField(Case, backref="remedies", on_delete="CASCADE")
    evaluation_id = CharField(max_length=36)
    status = CharField(max_length=16, index=True)  # open | fixed | closed
    data = SealedJSONField(default=dict)  # the change's payload: owner, due dates, contacts, fix, closing note (0028)
    updated_at = DateTimeField(default=now)


class ResidentNotice(BaseModel):
    """The resident was told (or an SMS was attempted): why, how, when, by whom."""

    id = AutoField()
    case = ForeignKeyField(Case, backref="notices", on_delete="CASCADE")
    reason = CharField(max_length=16)  # supplement | result_ready | deferred_due
    method = CharField(max_length=16)  # phone | sms | in_person | home_visit | paper
    outcome = CharField(max_length=16, default="told")  # told | no_answer | sms_not_sent | sms_sent
    note = OpenedTextField(default="")  # sealed by the writer: it may hold a number
    by = ForeignKeyField(User, on_delete="RESTRICT")
    told_at = DateTimeField(default=now, index=True)
