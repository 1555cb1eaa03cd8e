"""USB bundles at this station: a village exports its backlog and imports the county's answers;
a township imports its villages' bundles for forwarding and exports their return bundles.

Which of the two a file is, and whether it is this station's to take, is decided here from the
station's level and area code; sync (``sync/usb_export.py``, ``sync/relay.py``) does the rest.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from station.services.station_info import get_profile
from sync.hooks import StationHooks
from sync.relay import RelayBundle, hold_for_relay, return_for
from sync.transport import HubLink
from sync.usb_bundle import MAX_BUNDLE_BYTES, BundleError, Source
from sync.usb_export import ExportSummary, ReturnSummary, export_bundle, import_return

RELAY_FOLDER = "relay"  # villages' bundles held at a township, beside the scans (and backed up with them)


def _link() -> HubLink:
    link = HubLink.stored()
    if link is None:
        raise BundleError("本站尚未登记县级平台的站点编码和密钥（python -m station link），离线包需要用它加密和签名。")
    return link


def is_township() -> bool:
    """Whether this station relays its villages' bundles (a 乡镇便民服务中心)."""
    return get_profile().level == "township"


def export(out: BinaryIO, hooks: StationHooks, progress: Callable[[int, int], None] | None = None, *,
           max_bytes: int = MAX_BUNDLE_BYTES) -> ExportSummary:
    """Write this station's queued events and their scans into ``out`` as one sealed bundle (≤ ``max_bytes``)."""
    return export_bundle(out, _link(), hooks, get_profile().area_code, progress=progress, max_bytes=max_bytes)


@dataclass(frozen=True)
class Imported:
    """What importing a file did: held for forwarding (township) or answers applied (village)."""

    relayed: RelayBundle | None = None
    returned: ReturnSummary | None = None

    def message(self) -> str:
        if self.relayed is not None:
            r = self.relayed
            return (f"已导入 {r.source}{'的' if r.device else ' 的'}第 {r.seq} 号离线包（{r.events} 条事件、{r.files} 个扫描件），"
                    "下次同步时转发县级。")
        assert self.returned is not None
        r = self.returned
        return (f"已导入县级回执包（答复第 {r.seq} 号离线包）：县级确认 {r.acknowledged} 条，"
                f"退回 {r.set_aside} 条，接收县级更新 {r.pulled} 条。")


def import_file(data: Source, hooks: StationHooks) -> Imported:
    """Take a bundle file (bytes, or a file read in chunks): a township holds a village's for forwarding,
    a village applies its return bundle."""
    if not data or (not isinstance(data, bytes) and data.seek(0, io.SEEK_END) == 0):
        raise BundleError("文件是空的，请重新选择离线包文件。")
    profile = get_profile()
    if profile.level == "township":
        return Imported(relayed=hold_for_relay(data, profile.area_code, hooks.data_dir / RELAY_FOLDER))
    return Imported(returned=import_return(data, _link(), hooks))


def return_bundle(station_code: str, device: int = 0) -> RelayBundle:
    """The newest return bundle for a village's PC or ``device`` (a township exports it onto the stick);
    call :func:`sync.relay.mark_exported` once it is written out."""
    if not is_township():
        raise BundleError("只有乡镇便民服务中心保管村站的回执包。")
    return return_for(station_code.strip(), device)
