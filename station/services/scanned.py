"""What a barcode scanner types into a search box, turned into what the search understands.

A USB scanner is a keyboard: it types what the code holds and presses Enter. A receipt's QR code
holds the progress page's address (``…/q/K7Q4-9MZD`` or ``…?q=K7Q4-9MZD``, see
printouts.layout.query_url), so the case search takes the query code out of such an address.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

_QUERY_CODE = re.compile(r"^[0-9A-Za-z-]{4,20}$")


def from_scan(text: str) -> tuple[str, bool]:
    """``(search text, scanned)``: a receipt's QR address becomes its query code (scanned=True)."""
    value = (text or "").strip()
    if not value.lower().startswith(("http://", "https://")):
        return value, False
    parts = urlsplit(value)
    candidates = parse_qs(parts.query).get("q", [])
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) >= 2 and segments[-2] == "q":
        candidates.append(segments[-1])
    for code in candidates:
        if _QUERY_CODE.match(code):
            return code.upper(), True
    return value, False
