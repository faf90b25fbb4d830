"""Drive the application layer like a channel would: typed lines for one owner."""
from __future__ import annotations

from app import Journeys, OwnerKey
from bot.events import Choice, Start, parse_input
from bot.replies import Reply


def type_lines(journeys: Journeys, owner: OwnerKey, lines: list[str], *, start: bool = True) -> list[Reply]:
    replies: list[Reply] = []
    if start:
        replies += journeys.handle(owner, Start())
    for line in lines:
        event = parse_input(line)
        if replies and replies[-1].step == "meta.language" and line in ("nl", "en"):
            event = Choice(line, "meta.language")
        out = journeys.handle(owner, event)
        assert not any(r.type == "error" for r in out), (line, out)
        replies += out
    return replies
