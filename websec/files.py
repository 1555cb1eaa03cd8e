"""What an uploaded or served file really is: decided by its content, never its name or declared type.

A scan must be a JPEG or PNG that actually decodes, or a PDF without JavaScript; a file that
starts with JPEG bytes and carries HTML is refused, and a PDF that would run a script when
opened is refused with the reason.
"""

from __future__ import annotations

import io
import os
import re
import zlib

from PIL import Image, UnidentifiedImageError

SIGNATURES = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"%PDF-": "application/pdf",
}
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}
_PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}
# Name objects that make a PDF run something when opened or clicked; #xx escapes are decoded first.
_PDF_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch)(?![A-Za-z0-9])")
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_FLATE_STREAM = re.compile(rb"/FlateDecode.*?stream\r?\n(.*?)endstream", re.S)


class FileRefused(ValueError):
    """The file is not what a scan may be; ``message`` says why, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def sniff_type(head: bytes) -> str | None:
    """The type the first bytes announce (JPEG, PNG, PDF), or None."""
    for magic, content_type in SIGNATURES.items():
        if head.startswith(magic):
            return content_type
    return None


def _pdf_texts(data: bytes) -> list[bytes]:
    """The file itself and every Flate stream in it (object streams can hide a /JS name)."""
    texts = [data]
    for match in _PDF_FLATE_STREAM.finditer(data):
        try:
            texts.append(zlib.decompressobj().decompress(match.group(1), 5 * 1024 * 1024))
        except zlib.error:
            continue
    return texts


def pdf_active_content(data: bytes) -> str | None:
    """The first name object that would run code in a PDF reader (``JavaScript``, ``JS``, ``Launch``…), or None."""
    for text in _pdf_texts(data):
        decoded = _PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), text)
        found = _PDF_ACTIVE.search(decoded)
        if found:
            return found.group(1).decode("ascii")
    return None


def check_scan(data: bytes) -> str:
    """Return the content type of a scan, or raise :class:`FileRefused` with the reason."""
    content_type = sniff_type(data[:16])
    if content_type is None:
        raise FileRefused("只能上传 JPG、PNG 图片或 PDF 文件。")
    if content_type in _PIL_FORMATS:
        try:
            with Image.open(io.BytesIO(data)) as image:
                if image.format != _PIL_FORMATS[content_type]:
                    raise FileRefused("文件内容与图片格式不符，已拒收。请重新扫描。")
                image.verify()
            with Image.open(io.BytesIO(data)) as image:
                if content_type == "image/jpeg":  # decode every block, at 1/8 scale: a 600 dpi scan stays cheap
                    image.draft("RGB", (max(image.width // 8, 1), max(image.height // 8, 1)))
                image.load()  # verify() reads the structure; load() decodes the pixels
        except FileRefused:
            raise
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise FileRefused("文件以图片开头，但不是一张完整的图片，已拒收。请重新扫描。") from None
    elif content_type == "application/pdf":
        active = pdf_active_content(data)
        if active:
            raise FileRefused(f"PDF 文件含有脚本或自动动作（/{active}），可能有害，已拒收。"
                              "请用扫描仪重新生成 PDF，或上传图片。")
    return content_type


def download_name(filename: str | None, content_type: str | None, fallback: str = "scan") -> str:
    """The file's name with its type's extension (``身份证.html`` served as a JPEG → ``身份证.jpg``)."""
    stem = os.path.splitext(os.path.basename(filename or ""))[0] or fallback
    return stem[:180] + EXTENSIONS.get(content_type or "", ".bin")
