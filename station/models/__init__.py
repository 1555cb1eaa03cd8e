"""Station models by area; `ALL_MODELS` is what the test schema check compares with migrations."""

from station.models.access_log import AccessLog, AccessLogHead
from station.models.calendar import HolidayOverride, HolidayYear
from station.models.cases import Attachment, Case, CaseMaterial, DailySequence, TimelineEntry
from station.models.catalog import Bundle, CatalogVersion, ItemPower, Material, ServiceItem
from station.models.evaluations import Evaluation, Remedy, ResidentNotice
from station.models.material_library import KeptMaterial, LicenceCheck, ResidentConsent
from station.models.settings import Setting
from station.models.transfers import Transfer, TransferHandover, TransferItem
from station.models.users import LoginThrottle, User

ALL_MODELS = [
    User, Setting, HolidayOverride, HolidayYear, CatalogVersion, ServiceItem, Material, Bundle,
    ItemPower, Case, CaseMaterial, Attachment, TimelineEntry, DailySequence, LoginThrottle, AccessLog,
    AccessLogHead, ResidentConsent, KeptMaterial, LicenceCheck, Transfer, TransferItem, TransferHandover,
    Evaluation, Remedy, ResidentNotice,
]

__all__ = [
    "ALL_MODELS", "AccessLog", "AccessLogHead", "Attachment", "Bundle", "Case", "CaseMaterial", "CatalogVersion", "DailySequence",
    "Evaluation", "HolidayOverride", "HolidayYear", "ItemPower", "KeptMaterial", "LicenceCheck", "LoginThrottle", "Material",
    "Remedy", "ResidentConsent", "ResidentNotice", "ServiceItem", "Setting", "TimelineEntry", "Transfer", "TransferHandover",
    "TransferItem", "User",
]
