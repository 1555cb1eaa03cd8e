"""A resident's material library (issue 20): consent, kept materials, licence checks, and on each
case material what it relied on (an earlier verification or a county licence).

Numbered 0015 (numbers reserved per issue); the runner orders by number and does not mind a gap.
"""

from peewee import BooleanField, CharField, DateField, DateTimeField, IntegerField, Model, TextField


def up(migrator, db):
    class ResidentConsent(Model):
        resident_index = CharField(max_length=64, primary_key=True)
        masked_id = CharField(max_length=20, default="")
        resident_id_stored = TextField(default="")
        given_at = DateTimeField()
        given_by = CharField(max_length=100, default="")
        withdrawn_at = DateTimeField(null=True)
        withdrawn_by = CharField(max_length=100, default="")

        class Meta:
            database = db
            table_name = "resident_consent"

    class KeptMaterial(Model):
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
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "kept_material"
            indexes = ((("resident_index", "key"), False),)

    class LicenceCheck(Model):
        id = CharField(max_length=26, primary_key=True)
        resident_index = CharField(max_length=64, index=True)
        kind = CharField(max_length=60)
        asked_at = DateTimeField()
        asked_by = CharField(max_length=100)
        reason = CharField(max_length=200, default="")
        outcome = CharField(max_length=16)
        licence = TextField(default="{}")
        used = BooleanField(default=False)

        class Meta:
            database = db
            table_name = "licence_check"

    db.create_tables([ResidentConsent, KeptMaterial, LicenceCheck])
    migrator.migrate(
        migrator.add_column("case_material", "reused_from", CharField(max_length=26, default="")),
        migrator.add_column("case_material", "origin", TextField(default="{}")),
        migrator.add_column("case_material", "valid_until", DateField(null=True)),
    )
