"""Cases as the county sees them: received events, the case they build, decisions, changes."""

from __future__ import annotations

from peewee import (
    AutoField,
    BigAutoField,
    BooleanField,
    CharField,
    CompositeKey,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from sync.hub.models.base import BaseModel, JSONText, SealedJSON, SealedText, utcnow
from sync.hub.models.stations import Station


class HubCase(BaseModel):
    """One 办件 received from a station; ``snapshot`` is the latest full case as sent."""

    case_id = CharField(max_length=36, unique=True)
    station = ForeignKeyField(Station, index=True)
    case_no = CharField(max_length=64, null=True, index=True)
    query_code = CharField(max_length=32, null=True, index=True)  # the resident's public page (migration 0007)
    bundle_group = CharField(max_length=40, null=True)  # cases a station took together (0007); indexed where set
    hub_case_no = CharField(max_length=50, null=True)  # unique where set (see the end of this class)
    item_code = CharField(max_length=64, null=True)
    # 跨域办 (migration 0016): 申报地 = received_area; 受理地 and 办结地 = handling_area, or this county when null
    received_area = CharField(max_length=12, null=True)
    handling_area = CharField(max_length=12, null=True)  # indexed where set
    impl_code = CharField(max_length=64, null=True)
    item_name = CharField(max_length=200, null=True)
    applicant_name = CharField(max_length=100, null=True)
    mode = CharField(max_length=16, null=True)
    station_decision = CharField(max_length=16, null=True)
    # submitted → accepted/supplement/rejected; accepted → completed (services/decisions.py).
    status = CharField(max_length=16, default="submitted")  # indexed by (status, committed_due)
    catalog_version = CharField(max_length=64, null=True)
    statutory_due = DateField(null=True)
    committed_due = DateField(null=True)
    received_at = CharField(max_length=40, null=True)  # as the station wrote it (with offset)
    last_seq = IntegerField(default=0)
    # The applicant's and proxy's ID number, phone and address are sealed inside (services/personal.py).
    snapshot = SealedJSON(default=dict)
    # Blind indexes (HMAC under the key ring's index key) of the two ID numbers: exact search only.
    applicant_id_index = CharField(max_length=64, null=True, index=True)
    proxy_id_index = CharField(max_length=64, null=True)  # indexed where set
    supplied_at = DateTimeField(null=True)  # station sent materials after a 补正 request
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    # for statistics and ledgers (migration 0012): received and closed in China time (naive), the
    # applicant's village code and the agent's name, copied out of the snapshot
    received_time = DateTimeField(null=True)
    area_code = CharField(max_length=12, default="")
    agent_name = CharField(max_length=100, default="")
    closed_at = DateTimeField(null=True)
    assessed_due = DateField(null=True)  # the county's 考核时限 in force when the case came in
    # the China day the station counted 法定/承诺 again and the hub took them (migration 0035); null: at receipt
    dues_counted_on = DateField(null=True)
    # the China day the 考核时限 was counted: at ingest, again on a holiday publication (migration 0036); null: at receipt
    assessed_counted_on = DateField(null=True)
    commitment = BooleanField(default=False)  # a material replaced by a signed 告知承诺
    deferred_total = IntegerField(default=0)  # 容缺 materials, as the latest materials list stands
    deferred_on_time = IntegerField(default=0)  # … brought on or before their date
    deferred_late = IntegerField(default=0)  # … brought after it (the rest are still outstanding)

    class Meta:
        indexes = (
            (("received_time", "station"), False),
            (("status", "committed_due"), False),
        )


# Columns most cases leave empty are indexed only where set (migration 0022): every case written
# paid for an index entry of its NULLs, and nothing looks a case up by a missing value.
for _column in (HubCase.bundle_group, HubCase.handling_area, HubCase.proxy_id_index):
    HubCase.add_index(HubCase.index(_column, where=_column.is_null(False)))
HubCase.add_index(HubCase.index(HubCase.hub_case_no, unique=True, where=HubCase.hub_case_no.is_null(False)))


class Event(BaseModel):
    """Every accepted event exactly once: ``event_id`` and ``(case_id, seq)`` are unique."""

    event_id = CharField(max_length=36, unique=True)
    station = ForeignKeyField(Station, index=False)  # never read by station alone (migration 0029)
    case_id = CharField(max_length=36)
    seq = IntegerField()
    kind = CharField(max_length=64)
    digest = CharField(max_length=64)
    occurred_at = CharField(max_length=40)
    catalog_version = CharField(max_length=64)
    deadline = DateField(null=True)
    batch_id = CharField(max_length=36, null=True)
    body = SealedJSON()  # sealed whole: a JSON string "enc1:…" (services/personal.py); digest is of the plain event
    received_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("case_id", "seq"), True),)


class Conflict(BaseModel):
    """A copy that clashes with what the hub holds; kept for a person, never dropped."""

    event_id = CharField(max_length=36, index=True)
    station = ForeignKeyField(Station, index=True)
    case_id = CharField(max_length=36, index=True)
    seq = IntegerField()
    kind = CharField(max_length=64)
    digest = CharField(max_length=64)
    code = CharField(max_length=32)  # content_mismatch | seq_taken
    existing_event_id = CharField(max_length=36, null=True)
    body = JSONText()  # the clashing copy, sealed whole like Event.body
    created_at = DateTimeField(default=utcnow)
    resolved_at = DateTimeField(null=True)
    resolved_by = CharField(max_length=64, null=True)
    resolution_note = TextField(null=True)
    resolution = CharField(max_length=16, null=True)  # keep_county | take_station | merge

    class Meta:
        indexes = ((("event_id", "digest"), True),)


class Decision(BaseModel):
    """A county clerk's decision on a case (受理 / 补正 / 不予受理 / 办结)."""

    case = ForeignKeyField(HubCase, backref="decisions", index=True)
    kind = CharField(max_length=16)
    clerk = CharField(max_length=64)
    hub_case_no = CharField(max_length=50, null=True)
    reason = TextField(null=True)
    supplement_items = JSONText(default=list)
    result = CharField(max_length=16, null=True)
    result_text = TextField(null=True)
    certificate_no = SealedText(null=True)  # 证书编号 of a granted result (0006); sealed (0032): it may hold the ID number
    decided_at = DateTimeField(default=utcnow)


class Change(BaseModel):
    """One entry of the changes feed; ``id`` is the station's cursor.

    Rows are never deleted, so SQLite never reuses an id and a cursor never skips or repeats.
    ``station`` is null for broadcasts (catalog versions, settings for everyone).
    """

    id = AutoField()
    station = ForeignKeyField(Station, null=True, index=True)
    kind = CharField(max_length=32)
    case_id = CharField(max_length=36, null=True)
    payload = JSONText()
    created_at = DateTimeField(default=utcnow)


class Setting(BaseModel):
    """A county-wide setting (migration 0012): ``assessed_days`` per item code, ``area_names``."""

    key = CharField(max_length=80, primary_key=True)
    value = JSONText()
    updated_at = DateTimeField(default=utcnow)
    updated_by = CharField(max_length=64, default="")


class CatalogVersion(BaseModel):
    """A published 事项目录 version; publication order (``id``) decides which is newer."""

    version = CharField(max_length=64, unique=True)
    published_at = DateTimeField(default=utcnow)
    published_by = CharField(max_length=64)
    item_count = IntegerField(default=0)
    body = JSONText()


class Attachment(BaseModel):
    """A complete, verified file, stored once by its SHA-256."""

    sha256 = CharField(max_length=64, unique=True)
    size = IntegerField()
    content_type = CharField(max_length=100, null=True)
    created_at = DateTimeField(default=utcnow)


class AttachmentUpload(BaseModel):
    """A station's upload in progress; the partial file grows chunk by chunk."""

    station = ForeignKeyField(Station, on_delete="CASCADE")
    sha256 = CharField(max_length=64)
    total = IntegerField()
    received = IntegerField(default=0)
    content_type = CharField(max_length=100, null=True)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("station", "sha256"), True),)


class AttachmentOwner(BaseModel):
    """A station that proved it holds the file by uploading it; only owners see it as present."""

    station = ForeignKeyField(Station, on_delete="CASCADE")
    sha256 = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("station", "sha256"), True),)


class AttachmentLink(BaseModel):
    """An attachment named in a case snapshot (what the clerk sees on the case page)."""

    station = ForeignKeyField(Station, on_delete="CASCADE")
    case_id = CharField(max_length=36, index=True)
    sha256 = CharField(max_length=64, index=True)
    filename = CharField(max_length=255, null=True)
    size = IntegerField(null=True)
    content_type = CharField(max_length=100, null=True)
    linked_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("case_id", "sha256"), True),)




class CaseTally(BaseModel):
    """The statistics roll-up (migration 0017): how many cases add to one figure on one day.

    ``station_id`` 0 is the whole county (the same figures summed over its stations, so the county
    page reads a few thousand rows, not a month of cases). ``day`` is the China day the case was
    received, except for ``closed`` (the day it was closed). The changes of a case are appended
    to :class:`CaseTallyDelta` in its transaction and folded in here later (services/tally.py);
    readers read :class:`TallyView`, the two together. ``open:<line>`` rows are labelled with the
    due date so "overdue" is decided when the page is read, against that day's date.

    The view ``hub_case_tally_all`` (migration 0024) depends on this table and on the delta table:
    on PostgreSQL a later migration changing either's columns drops the view first and makes it
    again. Migration 0017's ``backfill`` recounts this table only: fold first (the bench and the
    tests do), or the changes not folded would be counted twice.
    """

    station_id = IntegerField()
    day = DateField()
    figure = CharField(max_length=24)
    label = CharField(max_length=200)
    n = IntegerField(default=0)

    class Meta:
        primary_key = CompositeKey("station_id", "day", "figure", "label")
        indexes = ((("figure", "day"), False),)


class CaseTallyDelta(BaseModel):
    """What changes of cases add to the roll-up, not yet folded into it (migration 0024).

    Appended per station in the transaction that changes the case, folded into ``hub_case_tally``
    (with the county's sums) now and then (services/tally.py ``fold``). Adding to the roll-up's
    rows directly cost the database about 13 µs a row, and every batch of the county locked the
    county's rows for today; appending costs about 2. No index: only ever read whole.
    """

    id = BigAutoField()
    station_id = IntegerField()
    day = DateField()
    figure = CharField(max_length=24)
    label = CharField(max_length=200)
    n = IntegerField()


class TallyView(BaseModel):
    """The roll-up as it stands: ``hub_case_tally`` plus the changes not yet folded (a view, migration 0024).

    What every reader of the statistics reads: exact whether or not a fold has run. Not in
    ``MODELS`` (a view, not a table).
    """

    station_id = IntegerField()
    day = DateField()
    figure = CharField(max_length=24)
    label = CharField(max_length=200)
    n = IntegerField()

    class Meta:
        table_name = "hub_case_tally_all"
        primary_key = False
