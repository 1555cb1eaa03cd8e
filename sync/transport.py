"""Signed requests to the county hub over one `requests.Session`, with the hub's clock learned.

An answer counts only when its signature verifies as the hub's: a captive portal's 200 is
"hub unreachable", never an ack. Each way a request can fail raises its own
:class:`~sync.errors.LinkProblem`, so the sync page can say which one happened.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

import requests

from sync import protocol, state
from sync.errors import (
    LINK_UNKNOWN,
    BatchRefused,
    CredentialsRefused,
    HubBusy,
    HubFault,
    HubUnreachable,
    RequestDuplicated,
    RequestTooLarge,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HubLink:
    """Where the county hub is and how this station signs its requests to it."""

    url: str
    station_code: str
    secret: str
    device: int = 0  # 0: the station PC; 1…99: a second device registered under the station

    def save(self) -> None:
        """Store the link (`python -m station link`, the demo)."""
        state.set_value(state.HUB_URL, self.url.rstrip("/"))
        state.set_value(state.STATION_CODE, self.station_code)
        state.set_value(state.SECRET, self.secret)
        state.set_value(state.DEVICE, str(int(self.device)))
        # what the last round said was about the old link (or none): the page must not show
        # "未连接" beside the address just stored, nor the old hub's refusal, until a round tells
        state.set_value(state.LINK_STATE, LINK_UNKNOWN)

    @classmethod
    def stored(cls) -> HubLink | None:
        """The station's stored link, or None when it was never linked."""
        url = state.get_value(state.HUB_URL)
        code = state.get_value(state.STATION_CODE)
        secret = state.get_value(state.SECRET)
        return cls(url, code, secret, state.device_number()) if url and code and secret else None

    @staticmethod
    def address() -> dict[str, str] | None:
        """Where the station is linked (url, station code) for a page: the secret is not opened for it."""
        url = state.get_value(state.HUB_URL)
        code = state.get_value(state.STATION_CODE)
        return {"url": url, "station_code": code} if url and code else None


JSON_GZIP = {"Content-Encoding": "gzip", "Content-Type": "application/json"}


class HubClient:
    """Signed requests to one hub, with the learned clock offset applied."""

    def __init__(self, link: HubLink, session: requests.Session | None = None,
                 timeout: tuple[float, float] = (5.0, 60.0), clock: Callable[[], float] = time.time) -> None:
        self.link = link
        self.clock = clock  # the station PC's own clock, however wrong it is
        self.session = session or requests.Session()
        self.timeout = timeout
        self.clock_offset = float(state.get_value(state.CLOCK_OFFSET, "0") or 0)

    def post_json(self, path: str, obj: Any) -> tuple[int, dict[str, Any]]:
        """POST ``obj`` as gzipped JSON (how every body of the protocol goes), signed; see :meth:`call`."""
        body = protocol.compress_body(protocol.json_bytes(obj))
        return self.call("POST", path, body, headers=JSON_GZIP)

    def call(self, method: str, path: str, body: bytes | BinaryIO = b"", *, headers: dict[str, str] | None = None,
             _retry_clock: bool = True, _retry_replay: bool = True) -> tuple[int, dict[str, Any]]:
        """Send one signed request; return (status, json) only if the answer verifies as the hub's.

        A ``replay`` refusal of a request this station sent once means the network delivered it
        twice and brought back the answer to the copy: the original was processed, and every
        request here is safe to send again (the hub de-duplicates), so it is sent again once
        under a fresh nonce. If that copy meets the same fate the round ends as
        :class:`RequestDuplicated` — the link is up, nothing for a person to do.

        ``body`` may be a seekable file (a USB bundle of hundreds of MiB): it is hashed in chunks
        and streamed, never held whole.
        """
        url = self.link.url + path
        from_file = not isinstance(body, bytes | bytearray)
        digest = protocol.sha256_hex_file(body) if from_file else None  # leaves the file at its start
        # a bare prepared request carries no session defaults: ask for compressed answers here
        prepared = requests.Request(method, url, data=body or None,
                                    headers={"Accept-Encoding": "gzip", **(headers or {})}).prepare()
        signed = protocol.sign_request(self.link.secret, method, prepared.path_url, b"" if from_file else body,
                                       station=self.link.station_code,
                                       timestamp=int(self.clock() + self.clock_offset),
                                       device=self.link.device, body_sha256=digest)
        prepared.headers.update(signed)
        started = self.clock()
        try:
            response = self.session.send(prepared, timeout=self.timeout)
        except requests.RequestException as exc:
            log.warning("hub %s unreachable: %r", self.link.url, exc)  # the detail stays in the log
            raise HubUnreachable("无法连接县级平台（网络不通，或县级平台没有开机）。") from exc
        content = response.content
        if response.status_code == 503 and "Retry-After" in response.headers:
            # unsigned by design (sync/hub/admission.py): a 503 acknowledges nothing, so believing
            # it can only make the station wait, never lose or double an event
            retry_after = protocol.parse_retry_after(response.headers.get("Retry-After"))
            log.info("hub busy: retry after %s s", retry_after)
            raise HubBusy(f"县级平台繁忙，{retry_after} 秒后自动重试，无需处理。", retry_after)
        if response.status_code == 401:
            payload = _json_or_none(content)
            if payload and payload.get("error") == protocol.ERR_CLOCK_SKEW and _retry_clock:
                self._learn_clock(payload, started)
                return self.call(method, path, body, headers=headers, _retry_clock=False,
                                 _retry_replay=_retry_replay)
            if payload and payload.get("error") == protocol.ERR_REPLAY:
                log.info("hub refused a duplicate of the station's request (nonce %s)", signed[protocol.H_NONCE])
                if _retry_replay:
                    return self.call(method, path, body, headers=headers, _retry_clock=_retry_clock,
                                     _retry_replay=False)
                raise RequestDuplicated("网络把本站的请求重复发送了，县级平台已处理原请求；下一轮同步自动继续，无需处理。")
            if payload and payload.get("error"):
                code = str(payload["error"])
                log.warning("hub refused the station's credentials: %s", code)
                message = payload.get("message") or protocol.ERROR_MESSAGES.get(code, "请求被拒绝")
                raise CredentialsRefused(f"县级平台拒绝了本站的请求：{message}")
            raise HubUnreachable("收到的应答不是县级平台的（可能是上网认证页面或代理）。")
        if not protocol.verify_response(self.link.secret, signed[protocol.H_NONCE], response.status_code,
                                        response.headers, content):
            if response.status_code >= 500:  # a hub failing inside (or a gateway before it): unsigned, but
                # "a portal or proxy" sent the county's IT person to look for a Wi-Fi login, not at the hub's log
                raise HubUnreachable(f"县级平台（或途中的代理）出错（HTTP {response.status_code}），本次未同步，"
                                     "下一轮自动重试；持续出现时请县级平台查看其运行日志。")
            raise HubUnreachable("收到的应答未通过县级平台签名验证（可能是上网认证页面或代理），本次不计为已送达。")
        payload = _json_or_none(content) or {}
        self._learn_clock(payload, started)
        return response.status_code, payload

    def _learn_clock(self, payload: dict[str, Any], started: float) -> None:
        server_time = payload.get("server_time")
        if not isinstance(server_time, (int, float)):
            return
        midpoint = (started + self.clock()) / 2
        offset = round(float(server_time) - midpoint, 3)
        # stored only when it moved: a write per request would contend with the clerks' saves
        if abs(offset - self.clock_offset) >= 1.0:
            state.set_value(state.CLOCK_OFFSET, str(offset))
        self.clock_offset = offset


def refuse_unless_ok(status: int, payload: dict[str, Any], what: str) -> None:
    """Turn a verified non-200 answer to a whole request into the problem it names.

    ``what`` says in Chinese what was being sent ("本批次", "心跳", …), for the message.
    """
    if status == 200:
        return
    detail = str(payload.get("message") or "")
    if status == 413:
        raise RequestTooLarge(f"县级平台认为{what}过大：{detail}")
    if status >= 500:
        raise HubFault(f"县级平台暂时故障（{status}）：{detail}")
    raise BatchRefused(f"县级平台拒绝了{what}（{status}）：{detail}")


def _json_or_none(content: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None
