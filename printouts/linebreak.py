"""Chinese line breaking: closing punctuation never starts a line (标点禁则, GB/T 15834).

reportlab's CJK wrap already lets a character that may not start a line hang at the end of
the line before, but its table is Japanese-first: it lacks the full-width comma, colon,
semicolon, question and exclamation marks and the closing book-title mark, so a line of a
receipt could begin with "，". The table is widened once, when printouts is imported.
"""

from __future__ import annotations

from reportlab.lib import textsplit
from reportlab.platypus import paragraph

#: Punctuation a Chinese line may not begin with.
NO_LINE_START = "，。、；：？！）》」』】〕〉”’％"


def forbid_line_start() -> None:
    """Add :data:`NO_LINE_START` to reportlab's "cannot start a line" table (idempotent)."""
    extra = "".join(ch for ch in NO_LINE_START if ch not in textsplit.ALL_CANNOT_START)
    textsplit.ALL_CANNOT_START += extra
    paragraph.ALL_CANNOT_START = textsplit.ALL_CANNOT_START  # paragraph.py imported the name
