"""Drive the service like a channel would: typed lines for one owner."""
from __future__ import annotations

from bot.events import Choice, Start, parse_input
from bot.replies import Reply
from handlers.service import JourneyService, OwnerKey


def type_lines(service: JourneyService, owner: OwnerKey, lines: list[str], *, start: bool = True) -> list[Reply]:
    replies: list[Reply] = []
    if start:
        replies += service.handle(owner, Start())
    for line in lines:
        event = parse_input(line)
        if replies and replies[-1].step == "meta.language" and line in ("nl", "en"):
            event = Choice(line, "meta.language")
        out = service.handle(owner, event)
        assert not any(r.type == "error" for r in out), (line, out)
        replies += out
    return replies
