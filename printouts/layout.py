"""Page geometry, styles and the building blocks every document shares (header, tables, QR, seal).

Two paper sizes matter: A4 for the township's laser printer and the 80 mm thermal roll most
village stations have (72 mm printable, page as long as the content). A :class:`Layout` holds
what differs between them so that each document is written once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from io import BytesIO
from xml.sax.saxutils import escape

import segno
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from printouts.fonts import CJKFont, for_pdf
from printouts.linebreak import forbid_line_start
from printouts.text import fmt_date, hand_write_line, para_text, plain_text, undrawable
from rules.workdays import HOURS_PER_WORKING_DAY

forbid_line_start()

# Streams are Flate-compressed binary; the extra ASCII85 layer reportlab adds by default only
# makes every page 25% bigger and slower to write (nobody mails PDFs over 7-bit links now).
rl_config.useA85 = 0

ROLL_MAX_HEIGHT = 2000 * mm  # beyond this a roll document paginates rather than one endless page
#: A heading with less room than this below it starts the next page, so 须知 is never a page's last line with its
#: points overleaf. (Not keepWithNext: reportlab keeps a heading with a whole table, so a long table left its first
#: page blank.)
HEADING_ROOM = 20 * mm


@dataclass(frozen=True)
class Layout:
    """What differs between A4 and the 80 mm roll."""

    key: str
    width: float
    height: float | None  # None: computed from the content (roll)
    margin_x: float
    margin_top: float
    margin_bottom: float
    base: float  # body font size
    title: float
    small: float
    qr: float  # QR side
    label_w: float  # label column of key/value tables

    @property
    def frame_width(self) -> float:
        return self.width - 2 * self.margin_x

    @property
    def roll(self) -> bool:
        return self.height is None


A4_LAYOUT = Layout("a4", A4[0], A4[1], 18 * mm, 16 * mm, 18 * mm, 10.5, 18, 8, 30 * mm, 26 * mm)
ROLL80_LAYOUT = Layout("roll80", 80 * mm, None, 4 * mm, 3 * mm, 6 * mm, 8.5, 13, 7, 30 * mm, 19.5 * mm)
LEDGER_LAYOUT = Layout("a4_landscape", landscape(A4)[0], landscape(A4)[1], 10 * mm, 18 * mm, 14 * mm,
                       8, 14, 7, 0, 0)
LAYOUTS = {"a4": A4_LAYOUT, "roll80": ROLL80_LAYOUT}


def get_layout(key: str | Layout) -> Layout:
    """The layout for ``"a4"`` or ``"roll80"`` (a :class:`Layout` is taken as it is); an unknown key is a programming error."""
    if isinstance(key, Layout):
        return key
    try:
        return LAYOUTS[key]
    except KeyError:
        raise ValueError(f"unknown layout {key!r}; use one of {sorted(LAYOUTS)}") from None


def with_margin(key: str, extra_mm: float) -> Layout:
    """The layout for ``key`` with ``extra_mm`` more margin on every side: printers that clip the edge."""
    base = get_layout(key)
    if not extra_mm:
        return base
    extra = extra_mm * mm
    return replace(base, margin_x=base.margin_x + extra, margin_top=base.margin_top + extra,
                   margin_bottom=base.margin_bottom + extra)


@dataclass(frozen=True)
class Styles:
    """Paragraph styles for one font and layout (CJK word wrap: any character may break a line)."""

    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    label: ParagraphStyle
    title: ParagraphStyle
    subtitle: ParagraphStyle
    center: ParagraphStyle
    right: ParagraphStyle
    heading: ParagraphStyle


#: reportlab's CJK wrap lets a mark that may not start a line (，。：) hang past the line's end (linebreak.py):
#: up to one em. On the 80 mm roll the printable width is the frame, and a thermal printer drops what lies
#: beyond it, so a line's text there keeps an em of room on its right (paragraphs' rightIndent, the last
#: table column's right padding); on A4 the mark hangs into the 18 mm margin, as typesetters allow.
HANG_ROOM_EM = 1.0


def hang_room(layout: Layout, size: float) -> float:
    """Room a roll line keeps for a hanging mark of a ``size``-point font (0 on A4)."""
    return size * HANG_ROOM_EM if layout.roll else 0.0


@lru_cache(maxsize=16)
def styles_for(font_name: str, layout: Layout) -> Styles:
    """Build the styles once per font and layout: ParagraphStyle construction is not free."""
    base, small = layout.base, layout.small

    def st(name: str, size: float, align: int = TA_LEFT, lead: float = 1.45, **kw: object) -> ParagraphStyle:
        if layout.roll and align == TA_LEFT and name not in ("cell", "label"):  # cells: the tables' padding
            kw.setdefault("rightIndent", size * HANG_ROOM_EM)
        return ParagraphStyle(f"{layout.key}-{name}", fontName=font_name, fontSize=size, leading=size * lead,
                              alignment=align, wordWrap="CJK", **kw)

    return Styles(
        body=st("body", base, lead=1.6, firstLineIndent=0),
        small=st("small", small),
        cell=st("cell", base - 1 if layout.roll else base - 0.5, lead=1.3),
        label=st("label", base - 1 if layout.roll else base - 0.5, lead=1.3, textColor=colors.HexColor("#333333")),
        title=st("title", layout.title, TA_CENTER, lead=1.3, spaceAfter=2),
        subtitle=st("subtitle", small + 0.5, TA_CENTER),
        center=st("center", base, TA_CENTER),
        right=st("right", base, TA_RIGHT),
        heading=st("heading", base + 0.5, lead=1.5, spaceBefore=4, spaceAfter=1),
    )


@lru_cache(maxsize=256)
def _qr_matrix(value: str, level: str) -> tuple[tuple[bool, ...], ...]:
    """Encode once per value: preview-then-print and reprints of one case reuse the matrix.

    Encoding (with the spec's mask-penalty search) is about a fifth of a receipt's build time.
    """
    code = segno.make(value, error=level.lower(), micro=False)
    return tuple(tuple(bool(m) for m in row) for row in code.matrix)


class QRCode(Flowable):
    """A QR code drawn as one filled path of row runs.

    reportlab's QrCodeWidget draws one rectangle per dark module; merging runs makes the
    content stream a third the size and the page faster to build (the receipt budget is 30 ms).
    """

    def __init__(self, value: str, size: float, level: str = "M") -> None:
        super().__init__()
        self.value = value
        self.size = size
        self.modules = _qr_matrix(value, level)
        self.count = len(self.modules)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803 (reportlab API)
        return self.size, self.size

    def draw(self) -> None:
        quiet = 2  # modules of white border; the label around it gives more
        unit = self.size / (self.count + 2 * quiet)
        ops: list[str] = []
        top = self.count + quiet - 1
        for r, row in enumerate(self.modules):
            c = 0
            while c < self.count:
                if row[c]:
                    start = c
                    while c < self.count and row[c]:
                        c += 1
                    ops.append(f"{start + quiet} {top - r} {c - start} 1 re")
                else:
                    c += 1
        # Integer module coordinates under one scale: formatting hundreds of floats through
        # reportlab's pure-Python fp_str was a third of the receipt's build time.
        canv = self.canv
        canv.saveState()
        canv.setFillColor(colors.black)
        canv.scale(unit, unit)
        canv.addLiteral("\n".join(ops) + "\nf")
        canv.restoreState()


def query_url(base: str, query_code: str, public_url: str = "") -> str:
    """QR content: the county's public page when its address is known (a resident at home can reach
    it), else the station's own progress page with the query code, else the bare code."""
    if public_url:
        return f"{public_url.rstrip('/')}/q/{query_code}"
    if not base:
        return query_code
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}q={query_code}"


def deadline_text(limit_text: str, due: object, provisional: bool, warning: str) -> str:
    """'20个工作日，至2025年4月2日（暂定：…）' — provisional dates must say so on paper."""
    parts = []
    if limit_text:
        # a limit in hours is counted in office hours, 8 a working day, to a date (rules.workdays): said
        # so, "24小时，至12月8日" read as a promise broken before it was made
        hours = limit_text.endswith("小时") and due is not None
        parts.append(f"{limit_text}（按工作时间计，每个工作日{HOURS_PER_WORKING_DAY}小时）" if hours else limit_text)
    if due is not None:
        parts.append(f"至{fmt_date(due)}")  # type: ignore[arg-type]
    text = "，".join(parts)
    if due is not None and provisional:
        text += "（暂定" + (f"：{warning}" if warning else "") + "）"
    return text


class Builder:
    """Helpers bound to one font and layout, so document code reads like the paper it prints."""

    def __init__(self, font: CJKFont, layout: Layout) -> None:
        self.font = for_pdf(font)  # a PDF is being built: only now is the TrueType file loaded
        self.layout = layout
        self.s = styles_for(self.font.name, layout)
        self.marked: dict[str, None] = {}  # characters printed as 〓, in order of appearance

    # --- text ---------------------------------------------------------------------------
    def p(self, text: object, style: ParagraphStyle | None = None) -> Paragraph:
        """A paragraph of residents' or catalog text: always escaped, never markup."""
        return Paragraph(self.esc(text), style or self.s.body)

    def pm(self, markup: str, style: ParagraphStyle | None = None) -> Paragraph:
        """A paragraph of our own markup; any data inside must come through :meth:`esc`."""
        return Paragraph(markup, style or self.s.body)

    def esc(self, text: object) -> str:
        """Escape data for embedding in :meth:`pm` markup."""
        markup = para_text(text, self.font)  # first: it loads the fonts it draws with, and one may be refused
        self._note_marks(text)
        return markup

    def plain(self, text: object) -> str:
        """Text for a table cell without a Paragraph (fast path for the ledger)."""
        self._note_marks(text)
        return plain_text(text, self.font)

    def _note_marks(self, text: object) -> None:
        for ch in undrawable(text, self.font):
            self.marked.setdefault(ch, None)

    def hand_write_note(self) -> list[Flowable]:
        """The line telling the agent to write in by hand what the paper marked (nothing when none was)."""
        if not self.marked:
            return []
        return [self.space(1.5), Paragraph(escape(hand_write_line(list(self.marked))), self.s.body)]

    def space(self, h_mm: float) -> Spacer:
        return Spacer(1, h_mm * mm)

    # --- blocks -------------------------------------------------------------------------
    def header(self, station_name: str, station_code: str, title: str, case_no: str, query_code: str,
               qr_value: str) -> list[Flowable]:
        """Station, title, case number and query code, with the QR beside (A4) or below (roll)."""
        s = self.s
        head = [
            self.pm(f"{self.esc(station_name)}（站点编码：{self.esc(station_code)}）", s.subtitle),
            self.p(title, s.title),
            self.pm(f"办件编号：{self.esc(case_no)}　　查询码：<font size={s.body.fontSize + 2}>"
                    f"{self.esc(query_code)}</font>", s.center),
        ]
        if self.layout.roll:
            return [*head, self.space(1)]
        qr = self.qr_block(qr_value)
        w = self.layout.frame_width
        t = Table([[head, qr]], colWidths=[w - self.layout.qr - 4 * mm, self.layout.qr + 4 * mm])
        t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
        return [t, self.space(2)]

    def qr_block(self, qr_value: str) -> Table:
        """QR with its caption, so a resident knows what scanning it does."""
        size = self.layout.qr
        t = Table([[QRCode(qr_value, size)], [self.p("扫码查询进度·评价服务", self.s.small)]],
                  colWidths=[size + 4 * mm])
        t.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "CENTER"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 0),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]))
        t.hAlign = "CENTER"
        return t

    def kv_table(self, rows: Sequence[tuple[str, object, bool]]) -> Table:
        """Label/value grid. ``(label, value, wide)``: on A4 narrow pairs go two per row."""
        s, lay = self.s, self.layout
        w = lay.frame_width
        data: list[list[object]] = []
        spans: list[tuple[int, int]] = []
        if lay.roll:
            for label, value, _wide in rows:
                data.append([self.p(label, s.label), self.p(value, s.cell)])
            widths = [lay.label_w, w - lay.label_w]
        else:
            vw = (w - 2 * lay.label_w) / 2
            widths = [lay.label_w, vw, lay.label_w, vw]
            pending: list[object] | None = None
            for label, value, wide in rows:
                cells = [self.p(label, s.label), self.p(value, s.cell)]
                if wide:
                    if pending:
                        data.append([*pending, "", ""])
                        pending = None
                    data.append([*cells, "", ""])
                    spans.append((len(data) - 1, 1))
                elif pending is None:
                    pending = cells
                else:
                    data.append([*pending, *cells])
                    pending = None
            if pending:
                data.append([*pending, "", ""])
        t = Table(data, colWidths=widths)
        style = [("VALIGN", (0, 0), (-1, -1), "TOP"),
                 ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                 ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2)]
        if lay.roll:
            style += [("LINEBELOW", (0, 0), (-1, -1), 0.3, colors.HexColor("#999999")),
                      ("RIGHTPADDING", (-1, 0), (-1, -1), 2 + hang_room(lay, s.cell.fontSize))]
        else:
            style += [("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                      ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#F2F2F2")),
                      ("BACKGROUND", (2, 0), (2, -1), colors.HexColor("#F2F2F2"))]
            for r, _c in spans:
                style += [("SPAN", (1, r), (3, r)), ("BACKGROUND", (1, r), (3, r), colors.white)]
        t.setStyle(TableStyle(style))
        t.spaceAfter = 1.5 * mm
        return t

    def grid(self, head: Sequence[str], rows: Sequence[Sequence[object]], widths: Sequence[float]) -> Table:
        """A ruled table; cells are escaped paragraphs; column widths are fractions of the frame."""
        s = self.s
        w = self.layout.frame_width
        data = [[self.p(h, s.label) for h in head]]
        data += [[c if isinstance(c, Flowable) else self.p(c, s.cell) for c in row] for row in rows]
        t = Table(data, colWidths=[f * w for f in widths], repeatRows=1)
        style = [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 2),
                 ("RIGHTPADDING", (0, 0), (-1, -1), 2), ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                 ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]
        if self.layout.roll:
            style += [("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
                      ("LINEBELOW", (0, 1), (-1, -1), 0.3, colors.HexColor("#999999")),
                      ("RIGHTPADDING", (-1, 0), (-1, -1), 2 + hang_room(self.layout, s.cell.fontSize))]
        else:
            style += [("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                      ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#F2F2F2"))]
        t.setStyle(TableStyle(style))
        t.spaceAfter = 1.5 * mm
        return t

    def signatures(self, left: Sequence[str], right: Sequence[str]) -> Table:
        """Signature lines (left) and the seal area (right; roll: stacked), with room to sign and stamp.

        Each left line ending in '：' gets blank space after it: that is where the pen goes.
        """
        s = self.s
        w = self.layout.frame_width
        lcell: list[Flowable] = []
        for line in left:
            if line:
                lcell.append(self.p(line, s.body))
            if line.endswith("："):
                lcell.append(self.space(7))
        # Room above the issuer's name for a round seal (about 40 mm across, stamped over name and date).
        rcell: list[Flowable] = [self.space(18 if self.layout.roll else 24), *(self.p(x, s.body) for x in right)]
        pad = [("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]
        if self.layout.roll:
            t = Table([[lcell], [rcell]], colWidths=[w])
        else:
            t = Table([[lcell, rcell]], colWidths=[w * 0.5, w * 0.5])
        t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM"), *pad]))
        return t

    def seal_lines(self, station_name: str, issued: object) -> list[str]:
        """Right-hand seal block: who issues, the stamp, the date (行政许可法: written, sealed, dated)."""
        return [f"{station_name}（盖章）", fmt_date(issued)]  # type: ignore[arg-type]


# --- page furniture and the build --------------------------------------------------------------

@dataclass(frozen=True)
class PageInfo:
    """What goes in the running footer (and header, for the ledger)."""

    footer_left: str
    footer_roll: str = ""  # shorter line for the 72 mm roll; footer_left when empty
    header: str = ""
    footer_right: str = "第 {page} 页 共 {pages} 页"
    title: str = ""  # PDF metadata; no personal data


def _numbered_canvas(info: PageInfo, font: CJKFont, layout: Layout, header_font_size: float) -> type[Canvas]:
    """A canvas that holds pages until the end so each footer can say 'page x of y'."""
    footer_left = plain_text(info.footer_roll if layout.roll and info.footer_roll else info.footer_left, font)
    header = plain_text(info.header, font)

    class NumberedCanvas(Canvas):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            self._saved: list[dict] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab API)
            self._saved.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._saved)
            for state in self._saved:
                self.__dict__.update(state)
                self._furniture(total)
                super().showPage()
            super().save()

        def _furniture(self, total: int) -> None:
            page_w = self._pagesize[0]
            self.setFont(font.name, layout.small)
            self.setFillColor(colors.HexColor("#444444"))
            y = layout.margin_bottom / 2.2
            right = info.footer_right.format(page=self._pageNumber, pages=total)
            room = page_w - 2 * layout.margin_x
            if layout.roll:
                text = f"{footer_left}  {right}" if total > 1 else footer_left
                self.setFont(font.name, _fit(text, font.name, layout.small, room))
                self.drawCentredString(page_w / 2, y, text)
            else:
                self.drawRightString(page_w - layout.margin_x, y, right)
                room -= stringWidth(right, font.name, layout.small) + 6 * mm
                self.setFont(font.name, _fit(footer_left, font.name, layout.small, room))
                self.drawString(layout.margin_x, y, footer_left)
            if header:
                self.setFont(font.name, header_font_size)
                self.drawString(layout.margin_x, self._pagesize[1] - layout.margin_top + 5 * mm, header)

    return NumberedCanvas


def _fit(text: str, font_name: str, size: float, room: float) -> float:
    """Font size at which ``text`` fits in ``room`` (a footer must never run off the page)."""
    width = stringWidth(text, font_name, size)
    return size if width <= room else max(size * room / width, 4.0)


def story_height(story: Sequence[Flowable], width: float) -> float:
    """Height the story needs in one frame of ``width`` (for sizing the roll page)."""
    total = 0.0
    prev_after = 0.0
    for f in story:
        _w, h = f.wrap(width, ROLL_MAX_HEIGHT)
        before = f.getSpaceBefore()
        total += h + max(before, prev_after)
        prev_after = f.getSpaceAfter()
    return total + prev_after


def _headings_with_room(story: list[Flowable]) -> list[Flowable]:
    """The story with a conditional page break before each heading (see :data:`HEADING_ROOM`)."""
    out: list[Flowable] = []
    for f in story:
        if isinstance(f, Paragraph) and f.style.name.endswith("-heading"):
            out.append(CondPageBreak(HEADING_ROOM))
        out.append(f)
    return out


def build_pdf(story: list[Flowable], font: CJKFont, layout: Layout, info: PageInfo) -> bytes:
    """Lay the story out on pages of ``layout`` and return the PDF bytes."""
    width = layout.width
    height = layout.height
    if height is not None:
        story = _headings_with_room(story)
    if height is None:
        needed = story_height(story, layout.frame_width) + layout.margin_top + layout.margin_bottom + 4 * mm
        height = min(max(needed, 80 * mm), ROLL_MAX_HEIGHT)
    buf = BytesIO()
    doc = BaseDocTemplate(buf, pagesize=(width, height), leftMargin=layout.margin_x, rightMargin=layout.margin_x,
                          topMargin=layout.margin_top, bottomMargin=layout.margin_bottom, title=info.title,
                          author="便民服务站", subject="", creator="printouts", invariant=1, pageCompression=1)
    frame = Frame(layout.margin_x, layout.margin_bottom, layout.frame_width,
                  height - layout.margin_top - layout.margin_bottom,
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    doc.build(story, canvasmaker=_numbered_canvas(info, font, layout, layout.base + 1))
    return buf.getvalue()
