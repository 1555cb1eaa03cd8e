"""A resident's material library (只提交一次): her consent, the materials verified for her, licence checks.

Everything is keyed by the blind index of her ID number (services.personal.id_index), never the
number itself. A kept material holds its own sealed copy of the scan (``ATTACHMENT_DIR/library``),
apart from the case's scans: withdrawing consent deletes the kept copies and leaves the cases'
records (under retention) as they are.
"""

from __future__ import annotations

from peewee import BooleanField, CharField, DateField, DateTimeField, IntegerField, TextField

from station.models.base import BaseModel, SealedJSONField, now


class ResidentConsent(BaseModel):
    """The resident's consent to keep her verified materials and to ask the county for her licences."""

    resident_index = CharField(max_length=64, primary_key=True)
    masked_id = CharField(max_length=20, default="")  # 110105********002X, for pages and the log
    resident_id_stored = TextField(default="")  # sealed: key rotation recomputes the blind indexes from it
    given_at = DateTimeField(default=now)
    given_by = CharField(max_length=100, default="")
    withdrawn_at = DateTimeField(null=True)
    withdrawn_by = CharField(max_length=100, default="")

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


class KeptMaterial(BaseModel):
    """One material verified (original seen) and scanned for a case, kept for her next cases."""

    id = CharField(max_length=26, primary_key=True)
    resident_index = CharField(max_length=64, index=True)
    key = CharField(max_length=60)
    name = CharField(max_length=200)
    sha256 = CharField(max_length=64)
    filename = CharField(max_length=200, default="")
    content_type = CharField(max_length=60, default="")
    size = IntegerField(default=0)
    verified_at = DateTimeField()
    verified_by = CharField(max_length=100)
    station_code = CharField(max_length=40, default="")
    station_name = CharField(max_length=200, default="")
    case_id = CharField(max_length=26, default="")
    case_no = CharField(max_length=50, default="")
    valid_until = DateField(null=True)
    created_at = DateTimeField(default=now)

    class Meta:
        indexes = ((("resident_index", "key"), False),)


class LicenceCheck(BaseModel):
    """A lookup of the county's licence register for one resident and licence kind, with its answer.

    ``outcome``: found / none / unreachable; ``licence`` (sealed): number, issuer, valid_until.
    """

    id = CharField(max_length=26, primary_key=True)
    resident_index = CharField(max_length=64, index=True)
    kind = CharField(max_length=60)
    asked_at = DateTimeField(default=now)
    asked_by = CharField(max_length=100)
    reason = CharField(max_length=200, default="")
    outcome = CharField(max_length=16)
    licence = SealedJSONField(default=dict)
    used = BooleanField(default=False)
