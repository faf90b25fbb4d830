"""Files owners send (customers' survey answers as CSV): checked before and while they are read."""
from __future__ import annotations

from typing import AsyncIterable

MAX_CSV_BYTES = 1_000_000
CSV_TYPES = ("text/csv", "application/csv", "text/plain", "application/vnd.ms-excel")


class FileRejected(ValueError):
    """Not a file journeybot takes; `reason` names the text to show (not_csv, too_large, unreadable)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FileTooLarge(FileRejected):
    def __init__(self) -> None:
        super().__init__("too_large")


def accept_csv(name: str | None, mime: str | None, declared_size: int | None, limit: int = MAX_CSV_BYTES) -> None:
    """Raise FileRejected unless the file looks like a CSV of acceptable declared size."""
    if not ((name or "").lower().endswith(".csv") or (mime or "").split(";")[0].strip() in CSV_TYPES[:2]):
        raise FileRejected("not_csv")
    if declared_size is not None and declared_size > limit:
        raise FileTooLarge()


async def read_limited(chunks: AsyncIterable[bytes], limit: int = MAX_CSV_BYTES) -> bytes:
    """The whole body, refusing to hold more than `limit` bytes whatever the sender declared."""
    data = bytearray()
    async for chunk in chunks:
        data += chunk
        if len(data) > limit:
            raise FileTooLarge()
    return bytes(data)


def decode_text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRejected("unreadable") from None
