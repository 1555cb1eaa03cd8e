"""Station foundation: users, settings, holiday table, catalog, cases, timeline, numbering.

A frozen copy of the schema as it was when this migration was written; the application models
may move on, this file never changes.
"""

import datetime

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class User(Base):
        username = CharField(max_length=40, unique=True)
        name = CharField(max_length=40)
        role = CharField(max_length=10)
        password_hash = CharField(max_length=256)
        phone = CharField(max_length=20, default="")
        active = BooleanField(default=True)
        created_at = DateTimeField(default=datetime.datetime.now)

    class Setting(Base):
        key = CharField(max_length=80, primary_key=True)
        value = TextField(default="")
        updated_at = DateTimeField(default=datetime.datetime.now)

    class HolidayOverride(Base):
        day = DateField(primary_key=True)
        is_workday = BooleanField()
        name = CharField(max_length=40, default="")
        source = CharField(max_length=20, default="seed")
        updated_at = DateTimeField(default=datetime.datetime.now)

    class HolidayYear(Base):
        year = IntegerField(primary_key=True)
        source = CharField(max_length=20, default="seed")
        version = CharField(max_length=40, default="")
        updated_at = DateTimeField(default=datetime.datetime.now)

    class CatalogVersion(Base):
        version = CharField(max_length=40, unique=True)
        published_at = CharField(max_length=20, default="")
        imported_at = DateTimeField(default=datetime.datetime.now)
        source = CharField(max_length=20, default="demo")
        is_current = BooleanField(default=False, index=True)
        region = CharField(max_length=60, default="")

    class ServiceItem(Base):
        catalog = ForeignKeyField(CatalogVersion, on_delete="CASCADE")
        item_code = CharField(max_length=40, index=True)
        impl_code = CharField(max_length=40, index=True)
        name = CharField(max_length=200)
        short_name = CharField(max_length=200, default="")
        department = CharField(max_length=100, default="")
        item_type = CharField(max_length=4, default="20")
        level = CharField(max_length=2, default="4")
        subject = TextField(default="[]")
        kind = CharField(max_length=12)
        statutory_value = IntegerField(default=0)
        statutory_unit = CharField(max_length=16, default="working_days")
        committed_value = IntegerField(default=0)
        committed_unit = CharField(max_length=16, default="working_days")
        fee = CharField(max_length=60, default="不收费")
        proxy_allowed = BooleanField(default=True)
        cross_area = BooleanField(default=False)
        station_can_accept = BooleanField(default=False)
        keywords = TextField(default="[]")
        consult_phone = CharField(max_length=40, default="")
        supervise_phone = CharField(max_length=40, default="")
        legal_basis = TextField(default="")
        form_fields = TextField(default="[]")
        search_pinyin = TextField(default="")
        search_initials = CharField(max_length=200, default="")

        class Meta:
            indexes = ((("catalog", "impl_code"), True),)

    class Material(Base):
        item = ForeignKeyField(ServiceItem, on_delete="CASCADE")
        position = IntegerField(default=0)
        key = CharField(max_length=60)
        name = CharField(max_length=200)
        form = CharField(max_length=20, default="original")
        copies = IntegerField(default=1)
        essential = BooleanField(default=True)
        deferrable = BooleanField(default=False)
        commitment = BooleanField(default=False)
        e_license = CharField(max_length=60, null=True)
        description = TextField(default="")
        source = CharField(max_length=200, default="")

    class Bundle(Base):
        catalog = ForeignKeyField(CatalogVersion, on_delete="CASCADE")
        code = CharField(max_length=40)
        name = CharField(max_length=200)
        description = TextField(default="")
        item_codes = TextField(default="[]")
        search_pinyin = TextField(default="")
        search_initials = CharField(max_length=200, default="")

        class Meta:
            indexes = ((("catalog", "code"), True),)

    class ItemPower(Base):
        impl_code = CharField(max_length=40, primary_key=True)
        can_accept = BooleanField()
        updated_at = DateTimeField(default=datetime.datetime.now)

    class Case(Base):
        id = CharField(max_length=26, primary_key=True)
        case_no = CharField(max_length=50, unique=True)
        query_code = CharField(max_length=12, unique=True)
        hub_case_no = CharField(max_length=50, default="")
        item = ForeignKeyField(ServiceItem, on_delete="RESTRICT")
        catalog_version = CharField(max_length=40)
        bundle_code = CharField(max_length=40, default="")
        bundle_group = CharField(max_length=26, default="", index=True)
        mode = CharField(max_length=10)
        decision = CharField(max_length=16)
        status = CharField(max_length=16, index=True)
        applicant_kind = CharField(max_length=12, default="person")
        applicant_name = CharField(max_length=100)
        applicant_cert_type = CharField(max_length=8)
        applicant_id_stored = CharField(max_length=64, index=True)
        applicant_phone_stored = CharField(max_length=32)
        applicant_address = TextField(default="")
        applicant_area_code = CharField(max_length=12, default="", index=True)
        proxy_name = CharField(max_length=100, default="")
        proxy_cert_type = CharField(max_length=8, default="")
        proxy_id_stored = CharField(max_length=64, default="")
        proxy_phone_stored = CharField(max_length=32, default="")
        proxy_relation = CharField(max_length=40, default="")
        authorization_signed = BooleanField(default=False)
        form_values = TextField(default="{}")
        pickup_method = CharField(max_length=10, default="window")
        agent = ForeignKeyField(User, on_delete="RESTRICT")
        received_at = DateTimeField(default=datetime.datetime.now, index=True)
        statutory_due = DateField(null=True)
        committed_due = DateField(null=True, index=True)
        deadline_provisional = BooleanField(default=False)
        deadline_warning = CharField(max_length=200, default="")
        closed_at = DateTimeField(null=True)
        result = CharField(max_length=12, default="")
        result_text = TextField(default="")
        supplement_items = TextField(default="[]")
        status_reason = TextField(default="")
        updated_at = DateTimeField(default=datetime.datetime.now)

    class CaseMaterial(Base):
        case = ForeignKeyField(Case, on_delete="CASCADE")
        position = IntegerField(default=0)
        key = CharField(max_length=60)
        name = CharField(max_length=200)
        form = CharField(max_length=20)
        copies = IntegerField(default=1)
        essential = BooleanField(default=True)
        source = CharField(max_length=200, default="")
        status = CharField(max_length=12)
        due_date = DateField(null=True)
        e_license_no = CharField(max_length=60, default="")
        received_at = DateTimeField(null=True)

    class Attachment(Base):
        id = CharField(max_length=26, primary_key=True)
        case = ForeignKeyField(Case, on_delete="CASCADE")
        sha256 = CharField(max_length=64, index=True)
        filename = CharField(max_length=200)
        content_type = CharField(max_length=60)
        size = IntegerField()
        uploaded_by = ForeignKeyField(User, on_delete="RESTRICT")
        created_at = DateTimeField(default=datetime.datetime.now)

        class Meta:
            indexes = ((("case", "sha256"), True),)

    class TimelineEntry(Base):
        id = AutoField()
        case = ForeignKeyField(Case, on_delete="CASCADE")
        at = DateTimeField(default=datetime.datetime.now)
        actor = CharField(max_length=60)
        action = CharField(max_length=30)
        message = TextField()
        data = TextField(default="{}")

    class DailySequence(Base):
        day = CharField(max_length=8, primary_key=True)
        last = IntegerField(default=0)

    db.create_tables([
        User, Setting, HolidayOverride, HolidayYear, CatalogVersion, ServiceItem, Material, Bundle,
        ItemPower, Case, CaseMaterial, Attachment, TimelineEntry, DailySequence,
    ])
