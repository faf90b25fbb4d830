"""Files owners send (customers' survey answers as CSV): checked before, while and after they are read.

The same rules for every channel: the declared size is checked before anything is downloaded (a
missing size is unknown, not small); a download is streamed and stops at the limit whatever the
sender declared; a response that is not a file (an error, an HTML page) is refused with a message;
the text is decoded from UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark
(Excel's "Unicode text") or Windows-1252 (Excel's plain "CSV" on Dutch and other Western systems).
What the text may hold (rows, separators, bytes) is bot.survey's to say.
"""
from __future__ import annotations

from typing import AsyncIterable

from bot.survey import MAX_BYTES

MAX_CSV_BYTES = MAX_BYTES
CSV_TYPES = ("text/csv", "application/csv", "text/plain", "application/vnd.ms-excel")
# what a file host may call a CSV file it hands out; no type at all is taken too
DOWNLOAD_TYPES = frozenset(
    {
        *CSV_TYPES,
        "text/comma-separated-values",
        "text/tab-separated-values",
        "application/octet-stream",
        "binary/octet-stream",
    }
)
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_CONTROL = frozenset(range(0x20)) - {0x09, 0x0A, 0x0D}


class FileRejected(ValueError):
    """Not a file journeybot takes; `reason` names the text to show (not_csv, too_large, unreadable,
    elsewhere, failed, login_page)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FileTooLarge(FileRejected):
    def __init__(self) -> None:
        super().__init__("too_large")


def accept_csv(name: str | None, mime: str | None, declared_size: int | None, limit: int = MAX_CSV_BYTES) -> None:
    """Raise FileRejected unless the file looks like a CSV of acceptable declared size (None: unknown)."""
    if not ((name or "").lower().endswith(".csv") or (mime or "").split(";")[0].strip() in CSV_TYPES[:2]):
        raise FileRejected("not_csv")
    if declared_size is not None and declared_size > limit:
        raise FileTooLarge()


def declared_size(value: object) -> int | None:
    """A size field or header as a number of bytes; None when it is missing or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        size = int(str(value).strip())
    except ValueError:
        return None
    return size if size >= 0 else None


def check_response(
    status: int,
    content_type: str | None,
    length: int | None,
    limit: int = MAX_CSV_BYTES,
    *,
    html: str = "login_page",
    types: frozenset[str] = DOWNLOAD_TYPES,
    wrong_type: str = "not_csv",
) -> None:
    """Before the body of a download is read: it must be a 200 with one of `types` (a CSV file's by
    default; no type at all is taken too) and no larger declared length than `limit`. An HTML page
    (a login page served with 200 when the app may not read files) is refused with `html` as the
    reason, another type with `wrong_type`."""
    if status != 200:
        raise FileRejected("failed")
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime in HTML_TYPES:
        raise FileRejected(html)
    if mime and mime not in types:
        raise FileRejected(wrong_type)
    if length is not None and length > limit:
        raise FileTooLarge()


def looks_like_html(data: bytes) -> bool:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<meta", b"<script"))


async def read_limited(chunks: AsyncIterable[bytes], limit: int = MAX_CSV_BYTES) -> bytes:
    """The whole body, refusing to hold more than `limit` bytes whatever the sender declared."""
    data = bytearray()
    async for chunk in chunks:
        data += chunk
        if len(data) > limit:
            raise FileTooLarge()
    return bytes(data)


def decode_text(data: bytes) -> str:
    """The text of a CSV file, without a byte-order mark; FileRejected("unreadable") if it is no text."""
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16")
        else:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                if _CONTROL.intersection(data):
                    raise
                text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise FileRejected("unreadable") from None
    text = text.lstrip("\ufeff")
    if "\x00" in text:
        raise FileRejected("unreadable")
    return text
