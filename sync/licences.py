"""Asking the county's licence register whether a resident holds a licence (免证办): the station's half.

One signed request, a short timeout (an agent waits at the counter): any link problem comes back
as a :class:`~sync.errors.LinkProblem`, and the station collects paper as before.
"""

from __future__ import annotations

from typing import Any

from sync import protocol
from sync.errors import LinkProblem
from sync.transport import HubClient, HubLink, refuse_unless_ok

LOOKUP_PATH = "/api/v1/licences/lookup"
LOOKUP_TIMEOUT = (3.0, 8.0)  # connect, read: seconds


def lookup_licence(link: HubLink | None, id_number: str, kind: str, asked_by: str, reason: str,
                   client: HubClient | None = None) -> list[dict[str, Any]]:
    """The resident's valid licences of ``kind`` per the hub (empty: she holds none); raises LinkProblem."""
    if link is None and client is None:
        raise LinkProblem("本站尚未连接县级平台。")
    client = client or HubClient(link, timeout=LOOKUP_TIMEOUT)
    body = protocol.encode_body({"id_number": id_number, "kind": kind, "asked_by": asked_by, "reason": reason},
                                compress=False)
    status, payload = client.call("POST", LOOKUP_PATH, body, headers={"Content-Type": "application/json"})
    refuse_unless_ok(status, payload, "电子证照查询")
    found = payload.get("licences")
    if not isinstance(found, list):
        raise LinkProblem("县级平台的证照查询应答格式不对。")
    return [entry for entry in found if isinstance(entry, dict) and isinstance(entry.get("number"), str)
            and entry.get("kind") == kind]
