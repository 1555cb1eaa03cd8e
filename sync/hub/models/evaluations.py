"""好差评 and 差评整改 at the county: ratings in one plain table, and the follow-up of each 差评.

``HubEvaluation`` is deliberately flat (level by name, station, case, visit, channel, time) so
statistics can count satisfaction with one GROUP BY; it names the case by its client id, as
events do, because a rating can arrive in the same batch as the case it rates.
"""

from __future__ import annotations

from peewee import CharField, DateField, DateTimeField, ForeignKeyField, TextField

from sync.hub.models.base import BaseModel, utcnow
from sync.hub.models.stations import Station


class HubEvaluation(BaseModel):
    """One rating: at most one ``first`` and one ``follow_up`` (追评) per case and visit."""

    evaluation_id = CharField(max_length=36, unique=True)  # made where the rating was given
    station = ForeignKeyField(Station, index=True)
    case_id = CharField(max_length=36, index=True)
    case_no = CharField(max_length=64, null=True)
    visit = CharField(max_length=40)  # rules.evaluations.VISITS: "case", "intake", "handover", …
    kind = CharField(max_length=16, default="first")  # first | follow_up (评价类型 首次 / 追加)
    level = CharField(max_length=24, index=True)  # rules.evaluations.LEVELS, by name
    reason_tag = CharField(max_length=24, default="")
    reason_text = TextField(default="")
    channel = CharField(max_length=16)  # rules.evaluations.CHANNELS
    source = CharField(max_length=8)  # station (came through the outbox) | hub (the public page)
    agent = CharField(max_length=64, default="")  # the station user whose service was rated
    created_at = DateTimeField(default=utcnow, index=True)  # when the resident rated (UTC)

    class Meta:
        indexes = ((("case_id", "visit", "kind"), True),)


class Remedy(BaseModel):
    """整改: the county's follow-up of one 差评, from the first call-back to a closing note."""

    evaluation_id = CharField(max_length=36, unique=True)
    station = ForeignKeyField(Station, index=True)
    case_id = CharField(max_length=36, index=True)
    owner = CharField(max_length=64, default="")  # the county user who answers for it
    status = CharField(max_length=16, default="open", index=True)  # open | fixed | closed
    opened_at = DateTimeField(default=utcnow)
    callback_due = DateField()
    fix_due = DateField()
    first_contact_at = DateTimeField(null=True)
    fix_text = TextField(default="")
    fixed_at = DateTimeField(null=True)
    resident_answer = TextField(default="")
    closing_note = TextField(default="")
    closed_at = DateTimeField(null=True)
    closed_by = CharField(max_length=64, default="")
    updated_at = DateTimeField(default=utcnow)


class RemedyContact(BaseModel):
    """One contact with the resident about a 差评 (回访): when, how, what was said."""

    remedy = ForeignKeyField(Remedy, backref="contacts", on_delete="CASCADE")
    at = DateTimeField()
    method = CharField(max_length=16)  # phone | visit | sms | in_person
    said = TextField()
    by = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
