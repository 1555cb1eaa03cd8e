"""One definition of "this text has Chinese in it", for catalog search and the case list.

Han ideographs: the unified block and extension A, the compatibility block, and the
supplementary planes (extension B onwards), where rare characters in real names live.
"""

from __future__ import annotations

import re

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def has_han(text: str) -> bool:
    """Tell whether ``text`` contains at least one Chinese character."""
    return _HAN.search(text) is not None
