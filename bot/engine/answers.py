"""Reading an owner's answer for a step: plain functions, no state of their own.

Each parse raises `Invalid` (with the message key under `errors`) for an answer the step cannot take.
"""
from __future__ import annotations

from typing import Mapping, Sequence, Union

import prompts
from bot import texts
from bot.flow import Step
from bot.vocabulary import DONE, KEEP, Invalid, matches_word

Value = Union[str, int, list[str]]


def parse(
    step: Step,
    raw: str,
    *,
    is_choice: bool,
    lang: str,
    limits: Mapping[str, int],
    selection: list[str],
    proposal: Sequence[str] | None,
) -> Value | None:
    """The answer's value; None when a multi-choice button only toggled `selection` (changed in place)."""
    text = raw.strip()
    kind = step.kind
    if kind in ("short_text", "long_text"):
        if not text:
            raise Invalid("required")
        return text
    if kind == "scale":
        value = match_option(step, text, lang)
        if value is None:
            raise Invalid("scale")
        return int(value)
    if kind == "single_choice":
        if not text:
            raise Invalid("required")
        value = match_option(step, text, lang)
        if value is not None:
            return value
        if step.template.other and not is_choice:
            return text
        raise Invalid("not_a_choice", value=text)
    if kind == "multi_choice":
        return parse_multi(step, text, is_choice=is_choice, lang=lang, selection=selection)
    if kind == "list":
        if proposal and (text == KEEP or (not is_choice and matches_word(text, "keep_words"))):
            return list(proposal)
        if text == KEEP:
            raise Invalid("list_empty")
        return parse_list(text, limits)
    raise ValueError(kind)


def match_option(step: Step, text: str, lang: str) -> str | None:
    """The option named by its value, its label or (except on a scale) its number."""
    folded = text.casefold()
    for index, value in enumerate(step.template.options, start=1):
        label = texts.option_label(lang, step.id, value)
        if folded in (value.casefold(), label.casefold()) or (step.kind != "scale" and folded == str(index)):
            return value
    return None


def parse_multi(step: Step, text: str, *, is_choice: bool, lang: str, selection: list[str]) -> list[str] | None:
    """A button toggles its option in `selection` (None: nothing to record yet) until DONE; typed text answers at once."""
    if is_choice:
        if text == DONE:
            if not selection:
                raise Invalid("nothing_selected")
            return list(selection)
        if text not in step.template.options:
            raise Invalid("not_a_choice", value=text)
        if text in selection:
            selection.remove(text)
        else:
            selection.append(text)
        return None
    items = split_items(text)
    if not items:
        raise Invalid("nothing_selected")
    values: list[str] = []
    for item in items:
        value = match_option(step, item, lang)
        if value is None and not step.template.other:
            raise Invalid("not_a_choice", value=item)
        chosen = value if value is not None else item
        if chosen not in values:
            values.append(chosen)
    return values


def parse_list(text: str, limits: Mapping[str, int]) -> list[str]:
    items = split_items(text)
    if not items:
        raise Invalid("list_empty")
    max_items = int(limits.get("max_list_items", 12))
    if len(items) > max_items:
        raise Invalid("list_too_many", count=len(items), limit=max_items)
    max_chars = int(limits.get("max_list_item_chars", 200))
    if any(len(item) > max_chars for item in items):
        raise Invalid("list_item_too_long", limit=max_chars)
    return items


def split_items(text: str) -> list[str]:
    """Items one a line, else separated by semicolons, else by commas."""
    separator = "\n" if "\n" in text else (";" if ";" in text else ",")
    return [item.strip() for item in text.split(separator) if item.strip()]


def is_vague(step: Step, raw: str) -> bool:
    """Too vague to act on: a catch-all word, or one word where a description is asked."""
    folded = " ".join(raw.casefold().replace("’", "'").strip(" .!?,;:").split())
    if any(folded in prompts.load(lang, "messages")["vague_words"] for lang in prompts.LANGUAGES):
        return True
    return step.kind == "long_text" and len(folded.split()) == 1
