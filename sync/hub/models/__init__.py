"""Hub models, by area; ``MODELS`` lists them in creation order."""

from sync.hub.models.access_log import HubAccessLog, HubAccessLogHead, StationAccessLog
from sync.hub.models.appointments import Appointment, AppointmentOffer
from sync.hub.models.base import BaseModel, utcnow
from sync.hub.models.cases import (
    Attachment,
    AttachmentLink,
    AttachmentOwner,
    AttachmentUpload,
    CaseTally,
    CaseTallyDelta,
    CatalogVersion,
    Change,
    Conflict,
    Decision,
    Event,
    HubCase,
    Setting,
    TallyView,
)
from sync.hub.models.evaluations import HubEvaluation, Remedy, RemedyContact
from sync.hub.models.holidays import HolidayTable
from sync.hub.models.home_visits import HubHomeVisit
from sync.hub.models.licences import Licence
from sync.hub.models.peers import Peer, PeerFile, PeerForward
from sync.hub.models.stations import Device, Nonce, Station
from sync.hub.models.transfers import HubTransfer, HubTransferHandover, HubTransferItem
from sync.hub.models.users import HubLoginThrottle, HubUser

MODELS = [
    Station,
    Nonce,
    HubUser,
    HubCase,
    Event,
    Conflict,
    Decision,
    Change,
    CatalogVersion,
    Attachment,
    AttachmentUpload,
    AttachmentOwner,
    AttachmentLink,
    HubLoginThrottle,
    HubAccessLog,
    HubAccessLogHead,
    StationAccessLog,
    Licence,
    HubEvaluation,
    Remedy,
    RemedyContact,
    Peer,
    PeerForward,
    PeerFile,
    Device,
    AppointmentOffer,
    Appointment,
    HubTransfer,
    HubTransferItem,
    HubTransferHandover,
    Setting,
    HubHomeVisit,
    CaseTally,
    CaseTallyDelta,
    HolidayTable,
]

__all__ = [
    "MODELS",
    "HolidayTable",
    "HubHomeVisit",
    "Appointment",
    "AppointmentOffer",
    "Attachment",
    "AttachmentLink",
    "AttachmentOwner",
    "AttachmentUpload",
    "BaseModel",
    "CaseTally",
    "CaseTallyDelta",
    "TallyView",
    "CatalogVersion",
    "Change",
    "Conflict",
    "Decision",
    "Device",
    "Event",
    "HubAccessLog",
    "HubAccessLogHead",
    "HubCase",
    "HubEvaluation",
    "HubLoginThrottle",
    "HubTransfer",
    "HubTransferHandover",
    "HubTransferItem",
    "HubUser",
    "Licence",
    "Nonce",
    "Remedy",
    "RemedyContact",
    "Peer",
    "PeerFile",
    "PeerForward",
    "Setting",
    "Station",
    "StationAccessLog",
    "utcnow",
]
