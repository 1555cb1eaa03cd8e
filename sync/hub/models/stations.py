"""The station registry: who may sync, with which key, and what their last heartbeat said."""

from __future__ import annotations

from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
)

from sync.hub.models.base import BaseModel, JSONText, utcnow


class Station(BaseModel):
    """A registered 便民服务站/中心 with its own signing secret."""

    code = CharField(max_length=32, unique=True)
    name = CharField(max_length=100)
    # HMAC needs the shared secret itself, so it is stored sealed, not hashed (opened on use by
    # services/personal.station_secret); shown once at creation. A sealed 43-character secret is ~110.
    secret = CharField(max_length=128)
    active = BooleanField(default=True)
    is_peer = BooleanField(default=False)  # another county's hub forwarding 跨域办 cases (migration 0016)
    created_at = DateTimeField(default=utcnow)
    last_seen_at = DateTimeField(null=True)
    settings = JSONText(default=dict)
    # Last heartbeat, flattened for the county's station list; the raw one in ``heartbeat``.
    heartbeat = JSONText(default=dict)
    heartbeat_at = DateTimeField(null=True)
    app_version = CharField(max_length=64, null=True)
    schema_version = CharField(max_length=64, null=True)
    protocol = IntegerField(null=True)
    queue_length = IntegerField(null=True)
    oldest_queued_age_s = BigIntegerField(null=True)
    set_aside_count = IntegerField(null=True)
    clock_offset_s = FloatField(null=True)
    free_disk_bytes = BigIntegerField(null=True)

    @classmethod
    def by_code(cls, code: str, *, heartbeat: bool = True) -> Station | None:
        """Return the station with this code, active or not.

        Every signed request asks this first, without the stored ``heartbeat``
        (``heartbeat=False``): decoding that telemetry, which no request uses, was most of the
        read's cost; such an instance is for reading only, never saved, and carries ``any_device``
        (whether the station has a second device), which every batch would otherwise ask apart.
        """
        names = ", ".join(f'"{field.column_name}"' for field in cls._meta.sorted_fields
                          if heartbeat or field.name != "heartbeat")
        if not heartbeat:  # and whether it has a second device, asked after each of its batches (devices.has_devices)
            names += ', EXISTS (SELECT 1 FROM "hub_device" WHERE "station_id" = "hub_station"."id") AS "any_device"'
        return cls.first_raw(f'SELECT {names} FROM "hub_station" WHERE "code" = {{param}}', code, prepare=True)


class Nonce(BaseModel):
    """A request nonce seen recently; the unique index is what refuses replays across workers."""

    # The station's id without a foreign key (hub migration 0031): the key's check locked the
    # station's row, a logged write that made every request's nonce wait for the log on disk.
    # A nonce lives minutes and is only ever looked up with its station; stations are never deleted.
    station = IntegerField(column_name="station_id")  # led by the unique (station, value)
    value = CharField(max_length=128)
    seen_at = BigIntegerField(index=True)  # unix seconds, pruned after the clock window

    class Meta:
        indexes = ((("station", "value"), True),)


class Device(BaseModel):
    """A second PC or laptop of a station (上门服务), with its own secret; revocable on its own.

    ``number`` (1…99) is what the device sends in ``X-Device`` and what its case numbers end
    with (``-NN``, docs/sync-protocol.md "A second device"); the station PC is number 0 and has
    no row. Numbers are never reused, even after a revocation, so a case number never repeats.
    """

    station = ForeignKeyField(Station, on_delete="CASCADE")
    number = IntegerField()
    name = CharField(max_length=60)
    secret = CharField(max_length=128)  # sealed like Station.secret
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    revoked_at = DateTimeField(null=True)
    revoked_reason = CharField(max_length=200, null=True)
    last_seen_at = DateTimeField(null=True)

    class Meta:
        table_name = "hub_device"
        indexes = ((("station", "number"), True), (("station", "name"), True))
