"""A file to a hub in chunks (``Content-Range``), resuming from what that hub already holds.

One uploader for both senders: the station's scans (:mod:`sync.attachment_upload`, around its
outbox) and a county hub forwarding a 跨域办 case's files to the county that handles it
(:mod:`sync.hub.services.peers`). Either gives a signed client and a way to open a stored file
(both stores are sealed with :mod:`websec.sealing`, so both open a ``SealedFile``); the file is
read piece by piece, so a big scan is never held whole in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

from sync.errors import CaseProblem, HubFault

CHUNK_BYTES = 256 * 1024


class FileSource(Protocol):
    """A stored file's plain bytes: ``size``, and the pieces from an offset (``websec.sealing.SealedFile``,
    which reads a file stored before sealing existed as it is)."""

    size: int

    def chunks(self, start: int, chunk_bytes: int) -> Iterator[bytes]: ...


class SignedCaller(Protocol):
    """A signed request to the receiving hub, (status, JSON) only when the answer verifies as its own."""

    def call(self, method: str, path: str, body: bytes = b"", *,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]: ...


Progress = Callable[[str, int, int], None]
"""``progress(sha256, held, size)``: the receiver holds the file's first ``held`` bytes (its status
answer, then each chunk it took); ``held == size`` once it holds the whole file."""


class FileUploader:
    """Uploads one content-addressed file at a time, from the offset the receiving hub reports."""

    def __init__(self, client: SignedCaller, open_file: Callable[[str], FileSource | None],
                 progress: Progress | None = None) -> None:
        self.client = client
        self.open_file = open_file
        self.progress = progress

    def upload_one(self, sha256: str, entry: dict[str, Any]) -> int:
        """Send what the hub does not hold yet of the file; return the bytes sent.

        A link that dies mid-way raises the client's own error; the chunks the hub stored stay
        stored, and the next call starts after them.
        """
        source = self.open_file(sha256)  # plain bytes: the receiver gets the file as scanned
        if source is None:
            raise CaseProblem(f"本地扫描件丢失：{entry.get('filename', sha256)}，请重新扫描上传后再重新发送")
        total = source.size
        _s, held = self.client.call("GET", f"/api/v1/attachments/{sha256}/status")
        if held.get("complete"):
            self._report(sha256, total, total)
            return 0
        offset = int(held.get("received") or 0)
        self._report(sha256, offset, total)
        sent = 0
        for chunk in source.chunks(offset, CHUNK_BYTES):
            end = offset + len(chunk) - 1
            status, result = self.client.call(
                "PUT", f"/api/v1/attachments/{sha256}", chunk,
                headers={"Content-Range": f"bytes {offset}-{end}/{total}",
                         "Content-Type": entry.get("content_type") or "application/octet-stream"})
            if status >= 500:
                raise HubFault(f"附件上传时县级平台故障（{status}）")
            if status >= 400:
                raise CaseProblem(f"县级平台拒收扫描件“{entry.get('filename', sha256)}”：{result.get('message', status)}")
            offset = end + 1
            sent += len(chunk)
            self._report(sha256, offset, total)
        return sent

    def _report(self, sha256: str, held: int, total: int) -> None:
        if self.progress is not None:
            self.progress(sha256, held, total)
