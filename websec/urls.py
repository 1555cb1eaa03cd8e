"""Addresses staff may type into settings: only ``http://`` and ``https://`` with a host."""

from __future__ import annotations

from urllib.parse import urlsplit

WEB_SCHEMES = ("http", "https")


def web_url_problem(value: str) -> str | None:
    """Return a Chinese message when ``value`` is not a plain web address, else None.

    A ``javascript:`` or ``data:`` address put into the receipt's QR code or a hub setting would
    run in whoever opens it; only http/https with a host name are taken.
    """
    text = (value or "").strip()
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        return "网址不能包含空格或控制字符。"
    try:
        parts = urlsplit(text)
    except ValueError:
        return "网址格式不正确。"
    if parts.scheme.lower() not in WEB_SCHEMES:
        return "网址只能以 http:// 或 https:// 开头。"
    if not parts.hostname:
        return "网址缺少主机名，例如 https://zwfw.example.gov.cn/query。"
    return None
