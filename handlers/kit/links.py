"""Links in text the bot did not write itself (a language model's report and the answers it quotes).

Telegram and Slack turn what looks like an address into a link, and may preview or unfurl it: a
phishing address in a model's reply would arrive clickable. `split_links` finds what a chat client
would take for a link — an address with a scheme, `www.`, a bare domain, an e-mail address or a
Telegram @username — so that a renderer can show it as plain text (in code, which no client links).
"""
from __future__ import annotations

import re

_STOP = r"[^\s<>\"'`]"  # what an address can hold, in a sentence
_LINK = re.compile(
    rf"""
    (?<![\w@/.+-])                                   # the start of a word, not the middle of an address
    (?:
        [a-z][a-z0-9+.-]{{1,20}}://{_STOP}+          # https://…, ftp://…, tg://…
      | (?:mailto|tel|tg|sms|javascript):{_STOP}+    # schemes without //
      | [\w.+-]+@(?:[\w-]+\.)+[^\W\d_]{{2,63}}       # an e-mail address
      | www\.{_STOP}+                                # www.…
      | (?:[\w-]+\.)+[^\W\d_]{{2,63}}(?![\w@])(?:[/?#:]{_STOP}*)?  # a bare domain, with a path
      | @[a-z]\w{{3,31}}                             # a Telegram @username
    )
    """,
    re.IGNORECASE | re.VERBOSE,
)
_TRAILING = ".,;:!?)]}'\"»”’…"  # punctuation after an address belongs to the sentence


def split_links(text: str) -> list[tuple[str, bool]]:
    """`text` as consecutive pieces `(piece, is_link)`; joined they give `text` back."""
    pieces: list[tuple[str, bool]] = []
    pos = 0
    for match in _LINK.finditer(text):
        start, end = match.start(), match.end()
        while end > start and text[end - 1] in _TRAILING:
            if text[end - 1] == ")" and text[start:end].count("(") >= text[start:end].count(")"):
                break  # a balanced parenthesis is part of the address (Wikipedia links)
            end -= 1
        address = text[start:end]
        if not address or ("." not in address and ":" not in address and not address.startswith("@")):
            continue
        if start > pos:
            pieces.append((text[pos:start], False))
        pieces.append((text[start:end], True))
        pos = end
    if pos < len(text):
        pieces.append((text[pos:], False))
    return pieces


def has_link(text: str) -> bool:
    return any(is_link for _, is_link in split_links(text))
