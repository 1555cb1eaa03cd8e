"""Initial hub schema: a frozen copy of the models as first released.

Generated with ``python -m playhouse.migrations … initial sync.hub.models:MODELS`` and kept
independent of ``sync/hub/models`` on purpose: later model changes come as new numbered
migrations, never as edits here. Python-side defaults (timestamps) are not part of the schema.
"""

from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    JSONField,
    Model,
    TextField,
)


def up(migrator, db):
    class Attachment(Model):
        sha256 = CharField(unique=True, max_length=64)
        size = IntegerField()
        content_type = CharField(null=True, max_length=100)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'hub_attachment'
    db.create_tables([Attachment])

    class Station(Model):
        code = CharField(unique=True, max_length=32)
        name = CharField(max_length=100)
        secret = CharField(max_length=128)
        active = BooleanField(default=True)
        created_at = DateTimeField()
        last_seen_at = DateTimeField(null=True)
        settings = JSONField(default=dict)
        heartbeat = JSONField(default=dict)
        heartbeat_at = DateTimeField(null=True)
        app_version = CharField(null=True, max_length=64)
        schema_version = CharField(null=True, max_length=64)
        protocol = IntegerField(null=True)
        queue_length = IntegerField(null=True)
        oldest_queued_age_s = BigIntegerField(null=True)
        set_aside_count = IntegerField(null=True)
        clock_offset_s = FloatField(null=True)
        free_disk_bytes = BigIntegerField(null=True)
        class Meta:
            database = db
            table_name = 'hub_station'
    db.create_tables([Station])

    class AttachmentLink(Model):
        station = ForeignKeyField(Station, on_delete='CASCADE')
        case_id = CharField(index=True, max_length=36)
        sha256 = CharField(index=True, max_length=64)
        filename = CharField(null=True)
        size = IntegerField(null=True)
        content_type = CharField(null=True, max_length=100)
        linked_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'hub_attachment_link'
            indexes = ((('case_id', 'sha256'), True),)
    db.create_tables([AttachmentLink])

    class AttachmentOwner(Model):
        station = ForeignKeyField(Station, on_delete='CASCADE')
        sha256 = CharField(max_length=64)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'hub_attachment_owner'
            indexes = ((('station', 'sha256'), True),)
    db.create_tables([AttachmentOwner])

    class AttachmentUpload(Model):
        station = ForeignKeyField(Station, on_delete='CASCADE')
        sha256 = CharField(max_length=64)
        total = IntegerField()
        received = IntegerField(default=0)
        content_type = CharField(null=True, max_length=100)
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'hub_attachment_upload'
            indexes = ((('station', 'sha256'), True),)
    db.create_tables([AttachmentUpload])

    class CatalogVersion(Model):
        version = CharField(unique=True, max_length=64)
        published_at = DateTimeField()
        published_by = CharField(max_length=64)
        item_count = IntegerField(default=0)
        body = JSONField()
        class Meta:
            database = db
            table_name = 'hub_catalog_version'
    db.create_tables([CatalogVersion])

    class Change(Model):
        station = ForeignKeyField(Station, null=True)
        kind = CharField(max_length=32)
        case_id = CharField(null=True, max_length=36)
        payload = JSONField()
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'hub_change'
    db.create_tables([Change])

    class Conflict(Model):
        event_id = CharField(index=True, max_length=36)
        station = ForeignKeyField(Station)
        case_id = CharField(index=True, max_length=36)
        seq = IntegerField()
        kind = CharField(max_length=64)
        digest = CharField(max_length=64)
        code = CharField(max_length=32)
        existing_event_id = CharField(null=True, max_length=36)
        body = JSONField()
        created_at = DateTimeField()
        resolved_at = DateTimeField(null=True)
        resolved_by = CharField(null=True, max_length=64)
        resolution_note = TextField(null=True)
        class Meta:
            database = db
            table_name = 'hub_conflict'
            indexes = ((('event_id', 'digest'), True),)
    db.create_tables([Conflict])

    class HubCase(Model):
        case_id = CharField(unique=True, max_length=36)
        station = ForeignKeyField(Station)
        case_no = CharField(index=True, null=True, max_length=64)
        query_code = CharField(null=True, max_length=32)
        hub_case_no = CharField(unique=True, null=True, max_length=50)
        item_code = CharField(null=True, max_length=64)
        impl_code = CharField(null=True, max_length=64)
        item_name = CharField(null=True, max_length=200)
        applicant_name = CharField(null=True, max_length=100)
        mode = CharField(null=True, max_length=16)
        station_decision = CharField(null=True, max_length=16)
        status = CharField(index=True, max_length=16, default='submitted')
        catalog_version = CharField(null=True, max_length=64)
        statutory_due = DateField(null=True)
        committed_due = DateField(null=True)
        received_at = CharField(null=True, max_length=40)
        last_seq = IntegerField(default=0)
        snapshot = JSONField(default=dict)
        supplied_at = DateTimeField(null=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'hub_case'
    db.create_tables([HubCase])

    class Decision(Model):
        case = ForeignKeyField(HubCase)
        kind = CharField(max_length=16)
        clerk = CharField(max_length=64)
        hub_case_no = CharField(null=True, max_length=50)
        reason = TextField(null=True)
        supplement_items = JSONField(default=list)
        result = CharField(null=True, max_length=16)
        result_text = TextField(null=True)
        decided_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'hub_decision'
    db.create_tables([Decision])

    class Event(Model):
        event_id = CharField(unique=True, max_length=36)
        station = ForeignKeyField(Station)
        case_id = CharField(max_length=36)
        seq = IntegerField()
        kind = CharField(max_length=64)
        digest = CharField(max_length=64)
        occurred_at = CharField(max_length=40)
        catalog_version = CharField(max_length=64)
        deadline = DateField(null=True)
        batch_id = CharField(null=True, max_length=36)
        body = JSONField()
        received_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'hub_event'
            indexes = ((('case_id', 'seq'), True),)
    db.create_tables([Event])

    class HubUser(Model):
        username = CharField(unique=True, max_length=64)
        name = CharField(max_length=100, default='')
        password_hash = CharField()
        active = BooleanField(default=True)
        created_at = DateTimeField()
        last_login_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'hub_user'
    db.create_tables([HubUser])

    class Nonce(Model):
        station = ForeignKeyField(Station, on_delete='CASCADE')
        value = CharField(max_length=128)
        seen_at = BigIntegerField(index=True)
        class Meta:
            database = db
            table_name = 'hub_nonce'
            indexes = ((('station', 'value'), True),)
    db.create_tables([Nonce])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('hub_nonce'))
    migrator.migrate(migrator.drop_table('hub_user'))
    migrator.migrate(migrator.drop_table('hub_event'))
    migrator.migrate(migrator.drop_table('hub_decision'))
    migrator.migrate(migrator.drop_table('hub_case'))
    migrator.migrate(migrator.drop_table('hub_conflict'))
    migrator.migrate(migrator.drop_table('hub_change'))
    migrator.migrate(migrator.drop_table('hub_catalog_version'))
    migrator.migrate(migrator.drop_table('hub_attachment_upload'))
    migrator.migrate(migrator.drop_table('hub_attachment_owner'))
    migrator.migrate(migrator.drop_table('hub_attachment_link'))
    migrator.migrate(migrator.drop_table('hub_station'))
    migrator.migrate(migrator.drop_table('hub_attachment'))
