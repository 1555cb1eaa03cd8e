"""What one sync round did, as the CLI prints it and the sync page reports it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class SyncSummary:
    pushed: int = 0
    acknowledged: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: int = 0
    retry_later: int = 0
    pulled: int = 0
    attachments_uploaded: int = 0
    access_log_sent: int = 0
    batches: int = 0
    queue_left: int = 0
    error: str = ""
    retry_after_s: int = 0  # the hub asked to come back no sooner than this (503 Retry-After)
    details: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def final_message(self) -> str:
        """The last line of the progress shown on the sync page."""
        if self.error:
            return f"同步未完成：{self.error}（待同步 {self.queue_left} 条，链路恢复后自动补传）"
        return (f"同步完成：上传 {self.pushed} 条，县级确认 {self.acknowledged} 条，"
                f"接收更新 {self.pulled} 条，待同步 {self.queue_left} 条")
