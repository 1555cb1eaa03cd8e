"""The county's licence register (电子证照库, a reference one): licences the county issued or imported.

The holder's ID number and the licence number are sealed (``websec.sealing``); the holder is
found by the blind index of her ID number, a licence by the blind index of its number (one row
per kind and number, so importing the same file twice adds nothing).
"""

from __future__ import annotations

from peewee import CharField, DateField, DateTimeField, TextField

from sync.hub.models.base import BaseModel, utcnow


class Licence(BaseModel):
    kind = CharField(max_length=60)
    number_stored = TextField()  # sealed
    number_index = CharField(max_length=64)
    holder_index = CharField(max_length=64, index=True)
    holder_id_stored = TextField()  # sealed
    holder_name = CharField(max_length=100, default="")
    issuer = CharField(max_length=100)
    issued_on = DateField(null=True)
    valid_until = DateField(null=True)  # None: valid without a time limit
    source = CharField(max_length=16)  # case (issued by a case the county completed) / import
    case_id = CharField(max_length=36, null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("kind", "number_index"), True),)
