"""What can go wrong between the station and the hub, each with its own link state and Chinese words.

A round that ends on one of these leaves the link state it names, so the sync page can tell
"the county cannot be reached" from "the county refuses this station's credentials" or "the
batch is too large" — each calls for a different person to act. ``message`` is Chinese and is
what the page shows; technical detail goes to the log, never to the screen.
"""

from __future__ import annotations

LINK_UP = "up"
LINK_UNKNOWN = "unknown"
LINK_UNLINKED = "unlinked"

LINK_STATE_LABELS = {
    LINK_UP: "连通",
    "unreachable": "县级平台连不上（离线工作中，恢复后自动补传）",
    "credentials_refused": "县级平台不接受本站的凭据（请联系县级平台核对站点编码与密钥）",
    "too_large": "批次过大被县级平台拒收（将改小批次重试）",
    "hub_fault": "县级平台暂时故障（稍后自动重试）",
    "batch_refused": "县级平台拒收本批次（请联系技术支持）",
    "duplicated": "连通（网络重复发送了请求，下一轮自动继续，无需处理）",
    "busy": "连通（县级平台繁忙，已按平台要求稍后自动重试，无需处理）",
    LINK_UNKNOWN: "未知",
    LINK_UNLINKED: "未连接",
}


class LinkProblem(Exception):
    """The round cannot go on over this link; ``link_state`` says why, ``message`` says it in Chinese."""

    link_state = "unreachable"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class HubUnreachable(LinkProblem):
    """No answer from the hub: a network error, or an answer that is not the hub's (a portal, a proxy)."""

    link_state = "unreachable"


class CredentialsRefused(LinkProblem):
    """The hub answered 401 with an error code: it does not accept this station's code or secret."""

    link_state = "credentials_refused"


class RequestTooLarge(LinkProblem):
    """The hub answered 413: the batch or file was larger than it takes."""

    link_state = "too_large"


class HubFault(LinkProblem):
    """The hub answered 5xx: its own fault, worth trying again later."""

    link_state = "hub_fault"


class BatchRefused(LinkProblem):
    """The hub answered another 4xx to a whole request: a person has to look."""

    link_state = "batch_refused"


class RequestDuplicated(LinkProblem):
    """The hub refused a request as a replay of one this station sent once: the network duplicated it.

    The original was processed; the link works. Nothing is counted as delivered that was not
    acknowledged, and the next round sends the rest — a person need do nothing.
    """

    link_state = "duplicated"


class HubBusy(LinkProblem):
    """The hub answered 503 with ``Retry-After``: it admits no more work just now (its admission gate).

    Nothing was acknowledged and nothing is wrong; the station comes back after the delay the hub
    named, stretched by its own jitter so that stations turned away together do not return together.
    """

    link_state = "busy"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class CaseProblem(Exception):
    """Something wrong with one case's own data (a scan lost from disk, a file the hub refuses).

    It sets that case's event aside for a person; it never stops the other cases.
    """


class RequeueRefused(Exception):
    """A set-aside event cannot be sent again; ``message`` tells the clerk why, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def link_state_label(state: str) -> str:
    """The Chinese words for a link state (an unknown state is shown as 未知, never as a code)."""
    return LINK_STATE_LABELS.get(state, LINK_STATE_LABELS[LINK_UNKNOWN])
