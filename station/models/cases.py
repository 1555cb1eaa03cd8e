"""Cases (办件), the materials handed in, attachments and the append-only timeline."""

from __future__ import annotations

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from rules.labels import CASE_STATUSES, MATERIAL_STATUSES, MODES, SUPPLY_FORMS
from station.models.base import BaseModel, JSONField, SealedCharField, SealedJSONField, SealedTextField, now
from station.models.catalog import ServiceItem
from station.models.users import User

OPEN_STATUSES = ("collected", "deferred", "accepted", "supplement")


class Case(BaseModel):
    id = CharField(max_length=26, primary_key=True)  # ULID made at the station
    case_no = CharField(max_length=50, unique=True)
    query_code = CharField(max_length=12, unique=True)
    hub_case_no = CharField(max_length=50, default="")
    item = ForeignKeyField(ServiceItem, backref="cases", on_delete="RESTRICT")
    catalog_version = CharField(max_length=40)
    bundle_code = CharField(max_length=40, default="")
    bundle_group = CharField(max_length=26, default="", index=True)
    mode = CharField(max_length=10)
    decision = CharField(max_length=16)  # the station's intake decision, never changes
    status = CharField(max_length=16, index=True)
    applicant_kind = CharField(max_length=12, default="person")  # person / enterprise
    applicant_name = CharField(max_length=100)
    applicant_cert_type = CharField(max_length=8)
    # sealed personal data: read and written only through services.personal
    applicant_id_stored = CharField(max_length=64, index=True)
    applicant_id_index = CharField(max_length=64, default="", index=True)  # keyed blind index (migration 0007)
    applicant_phone_stored = CharField(max_length=32)
    applicant_address = TextField(default="")  # sealed
    applicant_area_code = CharField(max_length=12, default="", index=True)
    proxy_name = CharField(max_length=100, default="")
    proxy_cert_type = CharField(max_length=8, default="")
    proxy_id_stored = CharField(max_length=64, default="")
    proxy_phone_stored = CharField(max_length=32, default="")
    proxy_relation = CharField(max_length=40, default="")
    authorization_signed = BooleanField(default=False)
    form_values = SealedJSONField(default=dict)  # may hold mailing/move-in addresses
    pickup_method = CharField(max_length=10, default="window")
    agent = ForeignKeyField(User, backref="cases", on_delete="RESTRICT")
    received_at = DateTimeField(default=now, index=True)
    statutory_due = DateField(null=True)
    committed_due = DateField(null=True, index=True)
    deadline_provisional = BooleanField(default=False)  # either date below is provisional (sent to the county)
    statutory_provisional = BooleanField(default=False)  # each date's own mark (migration 0011)
    committed_provisional = BooleanField(default=False)
    deadline_warning = CharField(max_length=200, default="")
    closed_at = DateTimeField(null=True)
    result = CharField(max_length=12, default="")
    result_text = SealedTextField(default="")  # the county's words (free text: sealed, 0028)
    supplement_items = JSONField(default=list)
    status_reason = SealedTextField(default="")  # the county's reason (free text: sealed, 0028)
    updated_at = DateTimeField(default=now)
    personal_purged_at = DateTimeField(null=True)  # retention: scans and full numbers removed (0007)
    # after intake (migration 0009): the 补正 asked by key and when it was answered, the result's
    # certificate number, and the handover (送达) — its record and the collector's sealed ID number
    supplement_keys = JSONField(default=list)
    supplemented_at = DateTimeField(null=True)
    result_certificate_no = SealedCharField(max_length=60, default="")  # a 残疾人证's holds the ID number: sealed (0030)
    delivered_at = DateTimeField(null=True)
    delivery = SealedJSONField(default=dict)  # a postal delivery holds the address
    collector_id_stored = TextField(default="")  # read through services.personal
    # the county's 考核时限 for the item (working days) as this station held it at intake (migration 0031);
    # None: none known then, and the county's current setting applies (services/time_lines.py)
    assessed_days = IntegerField(null=True)

    class Meta:
        # the case list's order and its usual filters (migration 0003)
        indexes = (
            (("received_at", "id"), False),
            (("status", "received_at", "id"), False),
            (("status", "committed_due"), False),
            (("applicant_name", "case_no", "query_code"), False),
            (("applicant_name", "received_at", "id"), False),
            (("item_id", "status", "received_at", "id"), False),
        )

    @property
    def status_name(self) -> str:
        return CASE_STATUSES.get(self.status, self.status)

    @property
    def mode_name(self) -> str:
        return MODES.get(self.mode, self.mode)


class CaseMaterial(BaseModel):
    """A material requirement copied into the case at intake, with what the resident handed in."""

    case = ForeignKeyField(Case, backref="materials", on_delete="CASCADE")
    position = IntegerField(default=0)
    key = CharField(max_length=60)
    name = CharField(max_length=200)
    form = CharField(max_length=20)
    copies = IntegerField(default=1)
    essential = BooleanField(default=True)
    source = CharField(max_length=200, default="")
    status = CharField(max_length=12)
    due_date = DateField(null=True)
    e_license_no = SealedCharField(max_length=60, default="")  # a 残疾人证's holds the ID number: sealed (0030)
    received_at = DateTimeField(null=True)
    supplied_as = CharField(max_length=16, default="")  # rules.labels.SUPPLY_FORMS, after intake
    supplied_note = SealedTextField(default="")  # why 不适用 (free text: sealed, 0028)
    # what the material relied on (migration 0015): the kept material reused, and its verification
    # ({"reused": {...}}) or the county's licence ({"licence": {...}}); sealed, a licence number can
    # hold the ID number; the validity typed at verification (an ID card's expiry date)
    reused_from = CharField(max_length=26, default="")
    origin = SealedJSONField(default=dict)
    valid_until = DateField(null=True)
    condition = TextField(default="")  # the catalog's condition, when the material applies only to some (0014)

    @property
    def status_name(self) -> str:
        return MATERIAL_STATUSES.get(self.status, self.status)

    @property
    def supplied_name(self) -> str:
        return SUPPLY_FORMS.get(self.supplied_as, self.supplied_as)


class Attachment(BaseModel):
    id = CharField(max_length=26, primary_key=True)
    case = ForeignKeyField(Case, backref="attachments", on_delete="CASCADE")
    sha256 = CharField(max_length=64, index=True)
    filename = CharField(max_length=200)
    content_type = CharField(max_length=60)
    size = IntegerField()
    uploaded_by = ForeignKeyField(User, on_delete="RESTRICT")
    created_at = DateTimeField(default=now)

    class Meta:
        indexes = ((("case", "sha256"), True),)


class TimelineEntry(BaseModel):
    """Append-only history of a case: who did what, when. Never deleted; only retention rewrites a line,
    to take out free text that may name the resident (services/free_text.py)."""

    id = AutoField()
    case = ForeignKeyField(Case, backref="timeline", on_delete="CASCADE")
    at = DateTimeField(default=now)
    actor = CharField(max_length=60)
    action = CharField(max_length=30)
    message = SealedTextField()  # every line sealed (0028): a note or the county's reason may name a relative
    data = SealedJSONField(default=dict)  # the county's change payload holds its reason, result text and note


class DailySequence(BaseModel):
    """The last case number issued per day; incremented inside an immediate transaction."""

    day = CharField(max_length=8, primary_key=True)
    last = IntegerField(default=0)
