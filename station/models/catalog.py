"""The versioned service catalog (事项目录): items, their materials and bundles (一件事一次办).

Every catalog version keeps its own rows, so a case keeps pointing at the item version it was
taken under when the county publishes a new catalog.
"""

from __future__ import annotations

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from rules.labels import ITEM_KINDS, ITEM_TYPES, MATERIAL_FORMS, limit_text
from station.models.base import BaseModel, JSONField, now


class CatalogVersion(BaseModel):
    version = CharField(max_length=40, unique=True)
    published_at = CharField(max_length=20, default="")
    imported_at = DateTimeField(default=now)
    source = CharField(max_length=20, default="demo")  # demo / hub / file
    is_current = BooleanField(default=False, index=True)
    region = CharField(max_length=60, default="")

    @classmethod
    def current(cls) -> CatalogVersion | None:
        return cls.get_or_none(cls.is_current == True)  # noqa: E712 - peewee expression


class ServiceItem(BaseModel):
    catalog = ForeignKeyField(CatalogVersion, backref="items", on_delete="CASCADE")
    item_code = CharField(max_length=40, index=True)
    impl_code = CharField(max_length=40, index=True)
    name = CharField(max_length=200)
    short_name = CharField(max_length=200, default="")
    department = CharField(max_length=100, default="")
    item_type = CharField(max_length=4, default="20")
    level = CharField(max_length=2, default="4")
    subject = JSONField(default=list)
    kind = CharField(max_length=12)  # instant / committed
    statutory_value = IntegerField(default=0)
    statutory_unit = CharField(max_length=16, default="working_days")
    committed_value = IntegerField(default=0)
    committed_unit = CharField(max_length=16, default="working_days")
    fee = CharField(max_length=60, default="不收费")
    proxy_allowed = BooleanField(default=True)
    cross_area = BooleanField(default=False)
    # 跨域办 (migration 0020): the county that handles the item when it is not this station's own
    handling_area = CharField(max_length=12, default="")
    handling_area_name = CharField(max_length=60, default="")
    station_can_accept = BooleanField(default=False)  # the catalog's default; ItemPower overrides per station
    keywords = JSONField(default=list)
    consult_phone = CharField(max_length=40, default="")
    supervise_phone = CharField(max_length=40, default="")
    legal_basis = TextField(default="")
    form_fields = JSONField(default=list)
    produces = JSONField(default=list)  # material keys this item's result is (migration 0014)
    search_pinyin = TextField(default="")
    search_initials = CharField(max_length=200, default="")

    class Meta:
        indexes = ((("catalog", "impl_code"), True),)

    @property
    def kind_name(self) -> str:
        return ITEM_KINDS.get(self.kind, self.kind)

    @property
    def item_type_name(self) -> str:
        return ITEM_TYPES.get(self.item_type, self.item_type)

    @property
    def statutory_text(self) -> str:
        # an instant item's legal limit of 0 is 即时办结 on the receipt, as its committed one is: not "0个工作日"
        return limit_text({"value": self.statutory_value, "unit": self.statutory_unit}, instant=self.kind == "instant")

    @property
    def committed_text(self) -> str:
        return limit_text({"value": self.committed_value, "unit": self.committed_unit}, instant=self.kind == "instant")


class Material(BaseModel):
    item = ForeignKeyField(ServiceItem, backref="materials", on_delete="CASCADE")
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
    condition = TextField(default="")  # when it applies; "" = always (migration 0014)

    @property
    def form_name(self) -> str:
        return MATERIAL_FORMS.get(self.form, self.form)


class Bundle(BaseModel):
    catalog = ForeignKeyField(CatalogVersion, backref="bundles", on_delete="CASCADE")
    code = CharField(max_length=40)
    name = CharField(max_length=200)
    description = TextField(default="")
    item_codes = JSONField(default=list)
    search_pinyin = TextField(default="")
    search_initials = CharField(max_length=200, default="")

    class Meta:
        indexes = ((("catalog", "code"), True),)


class ItemPower(BaseModel):
    """Whether this station holds the power to accept (委托受理) an item, by implementation code.

    Keyed by code, not by catalog row, so the setting survives a catalog refresh.
    """

    impl_code = CharField(max_length=40, primary_key=True)
    can_accept = BooleanField()
    updated_at = DateTimeField(default=now)
