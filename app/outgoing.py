"""Neutral outgoing items: what a turn hands to an adapter, which only renders them.

Texts and questions are the engine's neutral replies (bot.replies.Reply: info, error, done,
forgotten, question); reports, files and images come from the application layer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

from bot.replies import Reply

if TYPE_CHECKING:
    from bot.report import Report


@dataclass(frozen=True)
class ReportItem:
    report: Report
    title: str
    lang: str
    journey_id: int
    receipt: int | None = None  # the outbox row this item completes: report it delivered once shown


@dataclass(frozen=True)
class FileItem:
    """A document to send. `kind` ("markdown", "csv", ...) lets an adapter pick its own caption."""

    kind: str
    filename: str
    data: bytes
    mime: str
    lang: str
    journey_id: int | None = None
    receipt: int | None = None


@dataclass(frozen=True)
class ImageItem:
    """A picture to show. `kind` ("chart", ...) lets an adapter pick its own caption."""

    kind: str
    filename: str
    data: bytes
    lang: str
    journey_id: int | None = None
    receipt: int | None = None


Outgoing = Union[Reply, "ReportItem", "FileItem", "ImageItem"]


def is_question(item: Outgoing) -> bool:
    return isinstance(item, Reply) and item.type == "question"


def receipt_of(item: Outgoing) -> int | None:
    return getattr(item, "receipt", None)
