"""Platform-neutral events: what an owner did, as the engine sees it."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Union

import prompts


@dataclass(frozen=True)
class Start:
    """The owner opened the conversation (/start, first message, `journeybot chat`)."""

    lang_hint: str | None = None


@dataclass(frozen=True)
class Text:
    """Free text typed by the owner. `message_id` is the platform's id of the message that carried
    it (Telegram message_id, Slack ts), so that a later edit of that message can be recognised."""

    text: str
    message_id: str | None = None


@dataclass(frozen=True)
class EditedText:
    """The owner edited a message sent earlier: its new text and the platform id of that message.

    It updates the answer that message carried if that answer is still the last one recorded; it
    is never an answer to the current question."""

    text: str
    original_id: str


@dataclass(frozen=True)
class Heard:
    """What the owner said in a voice note, as a transcription server heard it. It is shown back
    first and answers nothing until the owner confirms it; then it goes exactly the way a typed
    `Text` goes (never as a command)."""

    text: str


@dataclass(frozen=True)
class Choice:
    """A tapped button or a typed choice value.

    `step` is the step key the button was shown for; a choice for another step
    than the current one is stale and answered politely instead of recorded.
    """

    value: str
    step: str | None = None


@dataclass(frozen=True)
class Command:
    """back, edit, skip, status, help, summary, export, new, list, open, language, cancel, forget, ..."""

    name: str
    arg: str = ""


@dataclass(frozen=True)
class ReadStep:
    """One touchpoint a model read in a stage told in the owner's own words, with what the owner's
    words say about it (None where they say nothing)."""

    name: str
    channel: str | None = None  # an option id of touchpoint.channel
    feeling: int | None = None  # 1..5
    pain: str | None = None


@dataclass(frozen=True)
class DescriptionRead:
    """The application layer's answer to the engine's `ReadDescription`: the touchpoints the model
    read for `step`, or `failed` (no model reply, or nothing usable): the offline reading stands."""

    step: str
    touchpoints: tuple[ReadStep, ...] = ()
    failed: bool = False


Event = Union[Start, Text, EditedText, Heard, Choice, Command, DescriptionRead]


def step_token(key: str) -> str:
    """A short stand-in for a step key where space is tight (Telegram's 64-byte callback data).

    `Choice.step` may carry either the full key or this token.
    """
    return "#" + hashlib.blake2s(key.encode("utf-8"), digest_size=6).hexdigest()


def same_step(given: str | None, key: str) -> bool:
    """Whether a `Choice.step` (full key or `step_token`) names step `key`."""
    return given == key or given == step_token(key)

COMMANDS = (
    "start",
    "back",
    "edit",
    "skip",
    "status",
    "help",
    "summary",
    "export",
    "new",
    "list",
    "open",
    "language",
    "cancel",
    "forget",
    "review",
    "todo",
    "survey",
    "results",
)


def command_name(word: str) -> str | None:
    """The canonical command for a typed word, including the Dutch aliases in prompts/."""
    name = word.split("@", 1)[0].lower()
    if name in COMMANDS:
        return name
    if name == "journeys":
        return "list"
    for lang in prompts.LANGUAGES:
        alias = prompts.load(lang, "messages").get("aliases", {}).get(name)
        if alias:
            return str(alias)
    return None


def parse_input(line: str) -> Event:
    """Turn a typed line into an event: `/name arg` is a command, anything else text.

    An unknown `/word` is still a command (so the owner hears it is unknown), unless
    it contains another slash, like a path or "/ and" in prose.
    """
    stripped = line.strip()
    if stripped.startswith("/") and len(stripped) > 1:
        head, _, arg = stripped[1:].partition(" ")
        name = command_name(head)
        if name is not None:
            return Command(name, arg.strip())
        if head.isidentifier() and not head.startswith("_"):
            return Command(head.lower(), arg.strip())
    return Text(line)
