"""What a file really is, from its first bytes, whatever its extension says.

`detect()` returns a format name ("pdf", "docx", "xlsx", "pptx", "epub", "odt", "xls",
"msg", "rtf", "html", "image") or None when the bytes do not identify a format. Office
containers are told apart by their members (ZIP) or stream names (OLE2), read without
loading the file.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# Members that identify a ZIP-based document.
_ZIP_MEMBERS = (
    ("word/document.xml", "docx"),
    ("ppt/presentation.xml", "pptx"),
    ("xl/workbook.xml", "xlsx"),
)
_ODF_MIMETYPES = {
    "application/epub+zip": "epub",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
}

# Formats that no reader here handles, named so the reason says what the file is.
UNSUPPORTED_NAMES = {
    "doc": "a legacy Word .doc file (save it as .docx to ingest it)",
    "ppt": "a legacy PowerPoint .ppt file (save it as .pptx to ingest it)",
    "encrypted-office": "a password-protected Office document (remove the password to ingest it)",
    "ods": "an OpenDocument spreadsheet (save it as .xlsx to ingest it)",
    "odp": "an OpenDocument presentation (save it as .pptx to ingest it)",
    "zip": "a ZIP archive",
    "gzip": "a gzip archive",
    "ole": "a damaged or unrecognised OLE2 compound file (an Office 97-2003 container)",
}


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                mimetype = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                if mimetype in _ODF_MIMETYPES:
                    return _ODF_MIMETYPES[mimetype]
            for member, kind in _ZIP_MEMBERS:
                if member in names:
                    return kind
            if "META-INF/container.xml" in names:
                return "epub"
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        return "zip"
    return "zip"


def _ole_kind(path: Path) -> str:
    import olefile  # a dependency of python-oxmsg

    try:
        with olefile.OleFileIO(str(path)) as ole:
            streams = {"/".join(entry) for entry in ole.listdir(streams=True, storages=True)}
    except Exception:  # noqa: BLE001 - olefile raises many kinds for a damaged container
        return "ole"
    top = {name.split("/")[0] for name in streams}
    if "EncryptionInfo" in top or "EncryptedPackage" in top:
        return "encrypted-office"
    if "Workbook" in top or "Book" in top:
        return "xls"
    if "WordDocument" in top:
        return "doc"
    if "PowerPoint Document" in top:
        return "ppt"
    if "__properties_version1.0" in top or any(name.startswith("__substg1.0_") for name in top):
        return "msg"
    return "ole"


def looks_binary(head: bytes) -> bool:
    """Bytes that no text file holds: NUL outside UTF-16, or many control characters."""
    if not head:
        return False
    if utf16_codec(head):
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return controls > len(head) * 0.05


def utf16_codec(head: bytes) -> str | None:
    """'utf-16' for text with a UTF-16 byte-order mark, 'utf-16-le'/'-be' for BOM-less UTF-16 of mostly ASCII."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = head[:4096]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > len(odd) * 0.4 and even.count(0) < len(even) * 0.05:
        return "utf-16-le"
    if even.count(0) > len(even) * 0.4 and odd.count(0) < len(odd) * 0.05:
        return "utf-16-be"
    return None


def _is_html(head: bytes) -> bool:
    start = head[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<!doctype html", b"<html")) or (
        start.startswith(b"<?xml") and b"<html" in head[:2048].lower()
    )


def detect(path: Path, head: bytes) -> str | None:
    """The format the bytes of `path` show, or None for nothing recognisable (plain text, junk)."""
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(ZIP_MAGIC):
        return _zip_kind(path)
    if head.startswith(OLE_MAGIC):
        return _ole_kind(path)
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*")) or (
        head.startswith(b"RIFF") and head[8:12] == b"WEBP"
    ):
        return "image"
    if _is_html(head):
        return "html"
    return None
