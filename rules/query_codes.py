"""Query codes (查询码) printed on the resident's paper: the alphabet, and how a typed code is read.

Pure: the station mints codes with this alphabet (station/services/numbering.py); both public
pages read what a resident typed through :func:`normalise`, so a code read off paper as O for 0,
or I/L for 1, still finds the case.
"""

from __future__ import annotations

import re
import unicodedata

# Crockford base32 without I, L, O, U: nothing an elderly resident reads wrongly off paper.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8
#: Letters a resident may type for the digit or letter that looks like them (Crockford's reading).
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})
_SEPARATORS = re.compile(r"[\s\-_.·]+")
MAX_TYPED = 32


def normalise(typed: str | None) -> str:
    """The code as stored: upper case, spaces and dashes dropped, look-alike letters read as digits.

    A phone's Chinese input method in full-width mode types ＦＤＸ９４: read as the letters and digits it shows.
    """
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", (typed or "")[:MAX_TYPED * 2])).upper()
    return text.translate(_LOOKALIKES)[:MAX_TYPED]
