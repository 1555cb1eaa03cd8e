"""Find one CJK font for all paper, once, and say which characters it can actually draw.

Village PCs differ: Windows has SimSun / Microsoft YaHei, Linux boxes may have WenQuanYi, some
have nothing. We embed a subset of a TrueType-outline font where one exists (so the PDF looks
the same on every viewer and printer) and fall back to reportlab's built-in STSong-Light CID
font otherwise (not embedded; every PDF reader ships it). reportlab cannot embed CFF outlines
(Noto CJK .otf/.ttc), so a candidate that fails to load is skipped, not fatal.

Rare characters (生僻字, often outside the BMP: 𠮷, 𡒄) are the other half of "never blank
boxes": :meth:`CJKFont.has_glyph` tells the builders whether the chosen font can draw a
character, an optional extension font (SimSun-ExtB on Windows, HanaMinB on Linux) is tried
next, then any installed font that has it (:func:`rare_font_for`, asking the system's font
index: fontconfig on Linux, the Fonts folders on Windows), and a character nobody can draw is
printed as a visible 〓(U+XXXXX) instead of an empty box — see :mod:`printouts.text`.

Choosing fonts and answering ``has_glyph`` read only each font's character map (its cmap
table, a few KB): a case page asks which of a name's characters paper would mark, and loading
the font into reportlab for that cost the station ~24 MB (Micro Hei). reportlab loads a
TrueType font only when a PDF draws with it (:func:`for_pdf`, :func:`embed`); the PDFs are
byte for byte the ones built when every font was loaded at once.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import struct
import subprocess
import sys
import threading
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

log = logging.getLogger(__name__)

CID_FONT_NAME = "STSong-Light"
#: Value of ``configured_path`` / ``STATION_CJK_FONT`` that forces the CID fallback.
FORCE_CID = "cid"
ENV_FONT = "STATION_CJK_FONT"
ENV_EXT_FONT = "STATION_CJK_EXT_FONT"


def _windows_font_dirs() -> list[Path]:
    dirs = [Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"]
    local = os.environ.get("LOCALAPPDATA")
    if local:  # per-user installs need no admin rights, common on locked-down village PCs
        dirs.append(Path(local) / "Microsoft" / "Windows" / "Fonts")
    return dirs


# (file name, subfont index). Song (宋体) first: it is what official paper is set in.
_WINDOWS_FONTS = [("simsun.ttc", 0), ("msyh.ttc", 0), ("simhei.ttf", 0), ("simkai.ttf", 0),
                  ("simfang.ttf", 0), ("msyh.ttf", 0), ("Deng.ttf", 0)]
_LINUX_FONTS = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/Supplemental/Songti.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
]
# Fonts that cover CJK Extension B and beyond, for names the main font cannot draw.
_WINDOWS_EXT_FONTS = [("simsunb.ttf", 0), ("SimSun-ExtB.ttf", 0), ("mingliub.ttc", 0)]
_LINUX_EXT_FONTS = [
    "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf",
    "/usr/share/fonts/truetype/babelstone/BabelStoneHan.ttf",
]


class Coverage:
    """The code points a font draws, kept as sorted ranges.

    A CJK font maps 20,000–40,000 characters in a few hundred runs; a frozenset of them cost the
    station ~2 MB per font, two arrays of run ends cost a few KB and answer by bisection.
    """

    __slots__ = ("_ends", "_starts")

    def __init__(self, runs: Iterable[tuple[int, int]] = ()) -> None:
        starts, ends = array("I"), array("I")
        for first, last in sorted(runs):
            if ends and first <= ends[-1] + 1:
                ends[-1] = max(ends[-1], last)
            else:
                starts.append(first)
                ends.append(last)
        self._starts, self._ends = starts, ends

    @classmethod
    def of(cls, code_points: Iterable[int]) -> Coverage:
        """From single code points (a font read by reportlab)."""
        return cls((cp, cp) for cp in code_points)

    def __contains__(self, cp: object) -> bool:
        if not isinstance(cp, int):
            return False
        i = bisect_right(self._starts, cp) - 1
        return i >= 0 and cp <= self._ends[i]

    def __len__(self) -> int:
        return sum(last - first + 1 for first, last in zip(self._starts, self._ends, strict=True))


_NOTHING = Coverage()


@dataclass(frozen=True)
class CJKFont:
    """The font every builder uses: its reportlab name and what it can draw.

    Choosing it reads only the fonts' character maps; reportlab loads a TrueType font (its whole
    file and per-glyph tables, ~24 MB for Micro Hei) only when a PDF is built: :func:`for_pdf`.
    """

    name: str
    path: str | None = None  # None for the CID font, which is not embedded
    subfont_index: int = 0
    ext_name: str | None = None  # extension font for characters the main font lacks
    _cmap: Coverage = field(default=_NOTHING, repr=False, compare=False)
    _ext_cmap: Coverage = field(default=_NOTHING, repr=False, compare=False)

    @property
    def embedded(self) -> bool:
        """True when a TrueType subset is embedded in the PDF (not the CID fallback)."""
        return self.path is not None

    def has_glyph(self, ch: str) -> bool:
        """Whether the main font draws ``ch`` (not the .notdef box)."""
        cp = ord(ch)
        if self.path is None:
            return _cid_has_glyph(cp)
        return cp in self._cmap

    def ext_has_glyph(self, ch: str) -> bool:
        """Whether the extension font draws ``ch`` (never once reportlab refused to load it)."""
        return self.ext_name is not None and self.ext_name not in _refused and ord(ch) in self._ext_cmap

    def describe(self) -> str:
        """Human-readable name for logs and the benchmark report."""
        if self.path is None:
            return f"{self.name} (CID, not embedded)"
        ext = f" + {self.ext_name}" if self.ext_name else ""
        return f"{self.name} ({self.path}#{self.subfont_index}, embedded subset){ext}"


def _cid_has_glyph(cp: int) -> bool:
    """Approximate STSong-Light (Adobe-GB1) coverage.

    Its UniGB-UCS2-H CMap takes UCS-2 only, so anything outside the BMP would be encoded as
    two surrogate halves and print as an unrelated character (𠮷 comes out as 䋟) — worse
    than a visible placeholder. Inside the BMP, Adobe-GB1 covers GB 18030's two-byte part
    (GBK) and CJK Extension A.
    """
    if cp > 0xFFFF or 0xD800 <= cp <= 0xDFFF:
        return False
    if cp < 0x80 or 0x3400 <= cp <= 0x4DBF:
        return True
    try:
        chr(cp).encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ToUnicode CMap with non-BMP code points written as UTF-16BE surrogate pairs.

    reportlab 5.1 writes ``<%04X>`` of the code point, so U+20BB7 becomes ``<20BB7>``, which
    PDF readers decode as a different character: copy/paste and pdftotext would lose the
    rare character in a name even though it prints. BMP entries are byte-for-byte unchanged.
    """
    text = _original_to_unicode_cmap(fontname, subset)
    if all(v <= 0xFFFF for v in subset):
        return text
    for i, v in enumerate(subset):
        if v > 0xFFFF:
            text = text.replace(f"<{i:02X}> <{v:04X}>", f"<{i:02X}> <{chr(v).encode('utf-16-be').hex().upper()}>")
    return text


# Patch once, and never wrap our own wrapper (a module reload must not recurse).
_original_to_unicode_cmap = getattr(ttfonts.makeToUnicodeCMap, "__wrapped__", ttfonts.makeToUnicodeCMap)
_to_unicode_cmap.__wrapped__ = _original_to_unicode_cmap  # type: ignore[attr-defined]
ttfonts.makeToUnicodeCMap = _to_unicode_cmap


_current: CJKFont | None = None
_current_key: str | None = None


def reset_font_cache() -> None:
    """Forget the chosen font so the next call searches again (tests; a changed setting)."""
    global _current, _current_key, _ext_configured
    _current = None
    _current_key = None
    _ext_configured = None
    _rare_fonts.clear()
    _refused.clear()
    _folder_fonts.cache_clear()


#: The extension font the station's settings name (CJK_EXT_FONT), ahead of $STATION_CJK_EXT_FONT.
_ext_configured: str | None = None


def configure_fonts(main: str | None = None, extension: str | None = None) -> CJKFont:
    """Apply the station's font settings (CJK_FONT, CJK_EXT_FONT) and choose the font anew.

    The settings win over the environment variables, so an instance's config.py works the
    same way whether the process was started with or without them.
    """
    global _ext_configured, _current
    _ext_configured = extension or None
    _current = None
    _rare_fonts.clear()
    return cjk_font(main)


def register_cjk_font(configured_path: str | None = None) -> str:
    """Choose the CJK font once and return its reportlab font name (loaded when a PDF first draws with it).

    ``configured_path`` (else ``$STATION_CJK_FONT``) is tried first; ``"path.ttc#1"`` picks a
    subfont and ``"cid"`` forces the STSong-Light fallback. Calling again with no path
    returns the cached choice; an explicit different path re-selects.
    """
    return cjk_font(configured_path).name


def cjk_font(configured_path: str | None = None) -> CJKFont:
    """Like :func:`register_cjk_font`, returning the font with its glyph coverage."""
    global _current, _current_key
    wanted = configured_path or None
    if _current is not None and (wanted is None or wanted == _current_key):
        return _current
    key = wanted or os.environ.get(ENV_FONT) or None
    font = _select(key)
    _current, _current_key = font, key
    log.info("printouts: CJK font %s", font.describe())
    return font


def _select(configured: str | None) -> CJKFont:
    if configured and configured.strip().lower() == FORCE_CID:
        return _cid_font(_load_ext_font())  # the extension font still serves what STSong lacks
    candidates: list[tuple[str, int]] = []
    if configured:
        path, _, index = configured.partition("#")
        candidates.append((path, int(index) if index.isdigit() else 0))
    candidates += _system_candidates()
    ext = _load_ext_font()
    for path, index in candidates:
        font = _load_ttf(path, index, ext)
        if font is not None:
            return font
        if configured and path == configured.partition("#")[0]:
            log.warning("printouts: configured CJK font %s unusable, searching the system", configured)
    log.warning("printouts: no embeddable CJK TrueType font found; using %s (not embedded)", CID_FONT_NAME)
    return _cid_font(ext)


def _system_candidates() -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    if sys.platform.startswith("win"):
        for folder in _windows_font_dirs():
            found += [(str(folder / name), idx) for name, idx in _WINDOWS_FONTS]
    found += [(p, 0) for p in _LINUX_FONTS]
    found += _fc_match()
    return found


def _fc_match() -> list[tuple[str, int]]:
    """Ask fontconfig for a Chinese font; the caller still checks it loads (not CFF)."""
    exe = shutil.which("fc-match")
    if not exe:
        return []
    try:
        out = subprocess.run([exe, "-s", "-f", "%{file}|%{index}\n", ":lang=zh-cn"],
                             capture_output=True, text=True, timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    result = []
    for line in out.splitlines()[:10]:
        path, _, index = line.partition("|")
        if path.lower().endswith((".ttf", ".ttc")):
            result.append((path, int(index) if index.isdigit() else 0))
    return result


def _font_name(path: str, index: int) -> str:
    return f"CJK-{Path(path).stem}-{index}"


#: Fonts chosen by their character map and not yet loaded by reportlab: name → (path, subfont).
_sources: dict[str, tuple[str, int]] = {}
#: Fonts whose character map read well but that reportlab then refused: never chosen again.
_refused: set[str] = set()
#: Two agents printing first at once must not load one font twice: reportlab keeps the first and
#: drops the second, whose ~24 MB the allocator then mostly keeps (freed memory is not given back).
_loading = threading.Lock()


def _register(path: str, index: int) -> tuple[str, Coverage] | None:
    """Name a TrueType font and read the characters it can draw, without loading it into reportlab.

    None for anything reportlab could not embed (CFF outlines, corrupt files, permissions), so
    the caller simply tries the next candidate. The font is loaded by :func:`embed` when a PDF
    first draws with it.
    """
    name = _font_name(path, index)
    if not path or name in _refused or not os.path.isfile(path):
        return None
    coverage = _read_coverage(path, index)
    if coverage is None:
        return None
    _sources.setdefault(name, (path, index))
    return name, coverage


def embed(name: str) -> bool:
    """Load the font ``name`` into reportlab for a PDF being built now (once); False if it cannot be.

    The CID font and fonts already loaded answer at once. A TrueType font whose character map
    read well but that reportlab refuses is remembered and never chosen again.
    """
    if name in pdfmetrics.getRegisteredFontNames():
        return True
    source = _sources.get(name)
    if source is None or name in _refused:
        return False
    path, index = source
    with _loading:
        if name in pdfmetrics.getRegisteredFontNames():
            return True  # another request loaded it meanwhile
        if name in _refused:
            return False
        try:
            pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
        except Exception:  # noqa: BLE001 - any unusable font means "draw with another one"
            log.warning("printouts: reportlab cannot load %s#%s; choosing another font", path, index, exc_info=True)
            _refused.add(name)
            for cp in [cp for cp, found in _rare_fonts.items() if found == name]:
                del _rare_fonts[cp]  # asked again, another installed font may have it
            return False
    log.info("printouts: loaded %s#%s for a PDF", path, index)
    return True


def for_pdf(font: CJKFont) -> CJKFont:
    """``font`` with its TrueType file loaded into reportlab, for a PDF being built now.

    Should reportlab refuse a font whose character map read well, the font is chosen again
    without it (at worst the CID font, which always loads), so a PDF is never refused for it.
    """
    global _current
    while not embed(font.name):
        if _current is font:
            _current = None
        font = cjk_font(_current_key)
    return font


# --- reading a font's character map -----------------------------------------------------------

_TRUETYPE = (b"\x00\x01\x00\x00", b"true")  # sfnt versions with glyf outlines; b"OTTO" is CFF
_NEEDED = (b"name", b"head", b"post", b"hhea", b"maxp", b"hmtx", b"cmap", b"loca", b"glyf")


class _BadFont(ValueError):
    """A font file reportlab could not embed."""


def _read_coverage(path: str, index: int) -> Coverage | None:
    """What a TrueType font draws, from its cmap table alone: a few KB read instead of the whole file.

    The file is checked as reportlab checks it when it loads a font (TrueType outlines, the
    subfont of a .ttc, the tables it reads and their versions), so a font chosen here also
    loads when a PDF is built; should reportlab still refuse it, :func:`for_pdf` chooses again.
    (reportlab 5.1 embeds fonts whose fsType restricts embedding too, and so do we.) Code points
    mapped to glyph 0 (.notdef, an empty box) are not counted as drawn.
    """
    try:
        with open(path, "rb") as f:
            coverage = _coverage_of(f, index)
        if coverage is None:
            face = ttfonts.TTFontFile(path, validate=0, subfontIndex=index)
            coverage = Coverage.of(cp for cp, glyph in face.charToGlyph.items() if glyph)
    except Exception as exc:  # noqa: BLE001 - an unreadable font is one we cannot use
        log.debug("printouts: cannot use %s#%s: %s", path, index, exc)
        return None
    return coverage


def _read(f: BinaryIO, pos: int, size: int) -> bytes:
    f.seek(pos)
    data = f.read(size)
    if len(data) != size:
        raise _BadFont("file ends early")
    return data


def _coverage_of(f: BinaryIO, index: int) -> Coverage | None:
    base = 0
    if _read(f, 0, 4) == b"ttcf":
        version, count = struct.unpack(">LL", _read(f, 4, 8))
        if version not in (0x10000, 0x20000) or not 0 <= index < count:
            raise _BadFont(f"no subfont {index}")
        (base,) = struct.unpack(">L", _read(f, 12 + 4 * index, 4))
    if _read(f, base, 4) not in _TRUETYPE:
        raise _BadFont("not TrueType outlines (CFF cannot be embedded)")
    (count,) = struct.unpack(">H", _read(f, base + 4, 2))
    directory = _read(f, base + 12, 16 * count)
    tables = {directory[i:i + 4]: struct.unpack(">LL", directory[i + 8:i + 16])[0] for i in range(0, 16 * count, 16)}
    if missing := [tag.decode("latin-1") for tag in _NEEDED if tag not in tables]:
        raise _BadFont(f"no {', '.join(missing)} table")
    head = _read(f, tables[b"head"], 54)
    if struct.unpack(">H", head[:2])[0] != 1 or struct.unpack(">L", head[12:16])[0] != 0x5F0F3CF5 or head[52:54] != b"\0\0":
        raise _BadFont("unknown head table")
    hhea = _read(f, tables[b"hhea"], 36)
    if struct.unpack(">H", hhea[:2])[0] != 1 or hhea[32:34] != b"\0\0" or hhea[34:36] == b"\0\0":
        raise _BadFont("unknown hhea table")
    if struct.unpack(">H", _read(f, tables[b"post"], 2))[0] not in (1, 2, 3, 4):
        raise _BadFont("unknown post table")
    if struct.unpack(">H", _read(f, tables[b"maxp"], 2))[0] != 1:
        raise _BadFont("unknown maxp table")
    return _cmap_coverage(f, tables[b"cmap"])


def _cmap_coverage(f: BinaryIO, cmap: int) -> Coverage | None:
    """The Unicode subtable reportlab would pick (the last of its candidates), read into runs."""
    version, count = struct.unpack(">HH", _read(f, cmap, 4))
    if count == 0 and version != 0:  # reportlab tolerates the two swapped
        count = version
    chosen, kind = None, 0
    for i in range(count):
        platform, encoding, offset = struct.unpack(">HHL", _read(f, cmap + 4 + 8 * i, 8))
        if platform == 3 or (platform == 1 and encoding == 1) or (platform == 0 and encoding != 5):
            chosen, kind = offset, 1
        elif platform == 1 and encoding == 0 and kind != 1:
            chosen, kind = offset, 2
    if chosen is None:
        raise _BadFont("no Unicode cmap")
    start = cmap + chosen
    (fmt,) = struct.unpack(">H", _read(f, start, 2))
    if fmt == 4:
        (length,) = struct.unpack(">H", _read(f, start + 2, 2))
        runs = list(_format4_runs(_read(f, start, length)))
    elif fmt == 12:
        (groups,) = struct.unpack(">L", _read(f, start + 12, 4))
        runs = list(_format12_runs(_read(f, start + 16, 12 * groups), groups))
    else:
        return None  # a format CJK fonts do not use: the caller lets reportlab read it
    coverage = Coverage(runs)
    if (0x20 in coverage) != (0xA0 in coverage):  # reportlab draws a no-break space as a space, and back
        coverage = Coverage([*runs, (0x20, 0x20), (0xA0, 0xA0)])
    return coverage


def _format4_runs(table: bytes) -> Iterator[tuple[int, int]]:
    """Runs of code points with a real glyph in a format-4 subtable (the BMP)."""
    segments = struct.unpack(">H", table[6:8])[0] // 2
    ends = struct.unpack(f">{segments}H", table[14:14 + 2 * segments])
    at = 16 + 2 * segments
    starts = struct.unpack(f">{segments}H", table[at:at + 2 * segments])
    deltas = struct.unpack(f">{segments}h", table[at + 2 * segments:at + 4 * segments])
    range_at = at + 4 * segments
    range_offsets = struct.unpack(f">{segments}H", table[range_at:range_at + 2 * segments])
    for n in range(segments):
        first, last, delta, offset = starts[n], ends[n], deltas[n], range_offsets[n]
        if first > last:
            continue
        if offset == 0:  # glyph = code + delta: only the one code that wraps to 0 has none
            blank = -delta & 0xFFFF
            if first <= blank <= last:
                if first < blank:
                    yield first, blank - 1
                if blank < last:
                    yield blank + 1, last
            else:
                yield first, last
            continue
        run_start = None
        for cp in range(first, last + 2):
            glyph = 0
            if cp <= last:
                pos = range_at + 2 * n + offset + 2 * (cp - first)
                if pos + 2 <= len(table):
                    glyph = struct.unpack(">H", table[pos:pos + 2])[0]
                    glyph = (glyph + delta) & 0xFFFF if glyph else 0
            if glyph and run_start is None:
                run_start = cp
            elif not glyph and run_start is not None:
                yield run_start, cp - 1
                run_start = None


def _format12_runs(data: bytes, groups: int) -> Iterator[tuple[int, int]]:
    """Runs of a format-12 subtable (every plane): a group starting at glyph 0 loses its first code."""
    for i in range(groups):
        first, last, glyph = struct.unpack(">LLL", data[12 * i:12 * i + 12])
        if glyph == 0:
            first += 1
        if first <= last:
            yield first, last


def _load_ttf(path: str, index: int, ext: tuple[str, Coverage] | None) -> CJKFont | None:
    registered = _register(path, index)
    if registered is None:
        return None
    name, cmap = registered
    if ord("中") not in cmap:
        return None
    ext_name, ext_cmap = ext if ext else (None, _NOTHING)
    return CJKFont(name=name, path=path, subfont_index=index, ext_name=ext_name,
                   _cmap=cmap, _ext_cmap=ext_cmap)


def _load_ext_font() -> tuple[str, Coverage] | None:
    paths: list[tuple[str, int]] = []
    for configured in (_ext_configured, os.environ.get(ENV_EXT_FONT)):
        if configured:
            path, _, index = configured.partition("#")
            paths.append((path, int(index) if index.isdigit() else 0))
    if sys.platform.startswith("win"):
        for folder in _windows_font_dirs():
            paths += [(str(folder / n), i) for n, i in _WINDOWS_EXT_FONTS]
    paths += [(p, 0) for p in _LINUX_EXT_FONTS]
    for path, index in paths:
        registered = _register(path, index)
        if registered is not None:
            log.info("printouts: extension font for rare characters: %s", path)
            return registered
    return None


def _cid_font(ext: tuple[str, Coverage] | None = None) -> CJKFont:
    if CID_FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT_NAME))
    ext_name, ext_cmap = ext if ext else (None, _NOTHING)
    return CJKFont(name=CID_FONT_NAME, ext_name=ext_name, _ext_cmap=ext_cmap)


# --- rare characters: any installed font that has them ---------------------------------------

#: Code point → the font (its reportlab name) that draws it, or None when no installed font does.
_rare_fonts: dict[int, str | None] = {}
_EMBEDDABLE = (".ttf", ".ttc")  # reportlab embeds TrueType outlines only (not CFF .otf)


def rare_font_for(ch: str) -> str | None:
    """The reportlab name of an installed font that draws ``ch``, or None if none does.

    Only the candidates' character maps are read; a PDF that draws ``ch`` loads the font
    (:func:`embed`), so a case page that merely asks costs no font loaded.

    Asked only for characters the main and extension fonts lack, and answered once per
    character per process: the system's font index knows every installed font, so a county
    that installs a font with Extension B–G (花园明朝, 思源宋体 TTF, SimSun-ExtB) needs no setting.
    """
    cp = ord(ch)
    if cp in _rare_fonts:
        return _rare_fonts[cp]
    found = None
    for path, index in _fonts_with(cp):
        registered = _register(path, index)
        if registered is not None and cp in registered[1]:
            found = registered[0]
            log.info("printouts: U+%04X drawn from %s#%s", cp, path, index)
            break
    _rare_fonts[cp] = found
    return found


def _fonts_with(cp: int) -> Iterator[tuple[str, int]]:
    """Installed TrueType fonts that have ``cp``: fontconfig's answer, else the font folders' files read one by one."""
    asked = _fc_list_charset(cp)
    if asked is not None:
        yield from asked
        return
    for path in _folder_fonts():
        if _draws(path, cp):
            yield path, 0


@functools.cache
def _folder_fonts() -> tuple[str, ...]:
    """Every TrueType file in the font folders, listed once per process."""
    return tuple(str(p) for folder in _font_folders() if folder.is_dir()
                 for p in sorted(folder.rglob("*")) if p.suffix.lower() in _EMBEDDABLE)


def _draws(path: str, cp: int) -> bool:
    """Whether the font file has ``cp``, from its character map alone: a Windows Fonts folder scanned for a
    character none has would otherwise load every file into reportlab."""
    coverage = _read_coverage(path, 0)
    return coverage is not None and cp in coverage


def _fc_list_charset(cp: int) -> list[tuple[str, int]] | None:
    """``fc-list :charset=XXXX``: the fonts fontconfig knows to have ``cp`` (None without fontconfig)."""
    exe = shutil.which("fc-list")
    if not exe or sys.platform.startswith("win"):
        return None
    try:
        out = subprocess.run([exe, "-f", "%{file}|%{index}\n", f":charset={cp:x}"], capture_output=True,
                             text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = []
    for line in sorted(set(out.splitlines())):
        path, _, index = line.partition("|")
        if path.lower().endswith(_EMBEDDABLE):
            found.append((path, int(index) if index.isdigit() else 0))
    return found


def _font_folders() -> list[Path]:
    """Where fonts live when there is no fontconfig: Windows' Fonts folders (system and per-user)."""
    if sys.platform.startswith("win"):
        return _windows_font_dirs()
    home = Path.home()
    return [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), home / ".local" / "share" / "fonts",
            home / ".fonts", Path("/System/Library/Fonts"), Path("/Library/Fonts")]
