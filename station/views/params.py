"""Query-string numbers, bounded: an absurd value falls back instead of overflowing SQLite."""

from __future__ import annotations

from flask import request


def int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    """`request.args[name]` as an int within [low, high], else `default`."""
    try:
        value = int(request.args.get(name, ""))
    except ValueError:
        return default
    return value if low <= value <= high else default
