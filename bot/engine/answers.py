"""Reading an owner's answer for a step: plain functions, no state of their own.

Each parse raises `Invalid` (with the message key under `errors`) for an answer the step cannot take,
and `Unsure` when a choice that also takes free text got a text close to one of its options: the
owner is asked which was meant before anything is stored.

A choice is matched forgivingly (`find`): by number, option value or label (either language), a
synonym from prompts/<lang>/synonyms.yaml (either language), and, less surely, a phrase inside the
text, a unique prefix of 3 letters or more, or a small typo (1 edit in words of 4 to 7 letters, 2 in
longer ones).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any, Mapping, Sequence, Union

import prompts
from bot import texts
from bot.flow import Step
from bot.vocabulary import (DONE, KEEP, Invalid, compact, distance, fold, is_control, join_labels, near, synonyms,
                            typo_limit)

Value = Union[str, int, list[str]]

CLOSED_KINDS = ("single_choice", "multi_choice", "scale")
# "1 en 3", "google and instagram", "mail & phone", "a + b", "a/b"
CONJUNCTION = re.compile(r"\s+(?:en|and|plus|&|\+)\s+|\s*[&+/]\s*", re.IGNORECASE)
NUMBERS = re.compile(r"\d+(?:\s+\d+)+")
OUT_OF_FIVE = re.compile(r"^\s*([1-5])\s*(?:/|van|uit|out of|of)\s*5\s*$", re.IGNORECASE)


class Unsure(Exception):
    """Typed text close to options of a step that also takes free text: ask before storing.

    `value` is what would be stored as typed; `items` are (typed text, near option values) pairs,
    one per doubtful part of the answer (one for a single choice, any number for a multi-choice)."""

    def __init__(self, value: str | list[str], items: list[tuple[str, list[str]]]) -> None:
        super().__init__(items[0][0])
        self.value = value
        self.items = items


CONFIRM = "confirm"  # State.pending while a near choice waits for "did you mean …?" (asked by engine/confirm.py)


def hold(state: Any, step_key: str, raw: str, unsure: Unsure) -> bool:
    """Keep a doubtful answer aside in `state.confirm` and open the confirmation; False when another
    open question (a review) owns the turn."""
    if state.pending:
        return False
    state.confirm = {"step": step_key, "raw": raw, "value": unsure.value, "items": [[t, list(v)] for t, v in unsure.items]}
    state.pending = CONFIRM
    return True


def settled(state: Any, step_key: str, raw: str) -> Any:
    """The value the owner confirmed for this answer (taken once), else None."""
    confirm = state.confirm
    if not confirm or not confirm.get("settled"):
        return None
    state.confirm = None
    if confirm.get("step") != step_key or confirm.get("raw") != raw:
        return None
    return confirm.get("value")


@dataclass(frozen=True)
class Found:
    """The options a typed text names; `sure` when by number, value, label or synonym."""

    values: tuple[str, ...]
    sure: bool

    @property
    def one(self) -> str | None:
        return self.values[0] if len(self.values) == 1 else None


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
        return parse_single(step, text, is_choice=is_choice, lang=lang)
    if kind == "multi_choice":
        return parse_multi(step, text, is_choice=is_choice, lang=lang, selection=selection)
    if kind == "list":
        typed_keep = not is_choice and is_control(text, KEEP, typos_from=8)
        if proposal and (text == KEEP or typed_keep):
            return list(proposal)
        if text == KEEP or typed_keep:
            raise Invalid("list_empty")
        return parse_list(text, limits)
    raise ValueError(kind)


def parse_single(step: Step, text: str, *, is_choice: bool, lang: str) -> str:
    if is_choice:
        if text in step.template.options:
            return text
        raise Invalid("not_a_choice", value=text)
    found = find(step, text)
    if found is not None and found.sure and found.one:
        return found.one
    if step.template.other:
        if found is not None:
            raise Unsure(text, [(text, list(found.values))])
        return text
    if found is not None and found.one:  # a prefix or a small typo of exactly one option
        return found.one
    raise did_you_mean(step, text, lang, found)


def match_option(step: Step, text: str, lang: str = prompts.DEFAULT_LANGUAGE) -> str | None:
    """The one option `text` surely names (number, value, label or synonym), else None."""
    found = find(step, text)
    return found.one if found is not None and found.sure else None


def parse_multi(step: Step, text: str, *, is_choice: bool, lang: str, selection: list[str]) -> list[str] | None:
    """A button toggles its option in `selection` (None: nothing to record yet) until DONE; typed text
    answers at once, together with what was already tapped ("klaar" alone finishes the selection)."""
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
    if is_control(text, DONE, typos_from=4) and find(step, text) is None:
        if not selection:
            raise Invalid("nothing_selected")
        return list(selection)
    values: list[str] = list(selection)
    doubts: list[tuple[str, list[str]]] = []
    for item in split_items(text):
        if is_control(item, DONE) and find(step, item) is None:
            continue
        for part, found in read_parts(step, item):
            if found is not None and found.sure and found.one:
                chosen = found.one
            elif step.template.other:
                chosen = part
                if found is not None:
                    doubts.append((part, list(found.values)))
            elif found is not None and found.one:
                chosen = found.one
            else:
                raise did_you_mean(step, part, lang, found)
            if chosen not in values:
                values.append(chosen)
    if not values:
        raise Invalid("nothing_selected")
    if doubts:
        raise Unsure(values, doubts)
    return values


def read_parts(step: Step, item: str) -> list[tuple[str, Found | None]]:
    """One item of a multi-choice, or its parts when it names several ("1 en 3", "1 3", "mail and phone")."""
    whole = find(step, item)
    if whole is not None and whole.sure and whole.one:
        return [(item, whole)]
    parts: list[str] = []
    for piece in CONJUNCTION.split(item.strip()):
        piece = piece.strip()
        if NUMBERS.fullmatch(piece):
            parts.extend(piece.split())
        elif piece:
            parts.append(piece)
    if len(parts) > 1:
        found = [(part, find(step, part)) for part in parts]
        sure = [f is not None and f.sure and f.one is not None for _, f in found]
        if all(sure) or (step.template.other and any(sure) and all(s or f is None for s, (_, f) in zip(sure, found))):
            return found
    return [(item, whole)]


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
    """Items one a line (a line may hold several, separated by semicolons or commas), else separated
    by semicolons, else by commas."""
    items: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        separator = ";" if ";" in line else ","
        items.extend(item.strip(" \t•·-*") for item in line.split(separator))
    return [item.strip() for item in items if item.strip(" \t•·-*")]


# --- finding the options a typed text names --------------------------------------------------------


@lru_cache(maxsize=None)
def phrases(step_id: str, options: tuple[str, ...]) -> tuple[tuple[str, str, int], ...]:
    """(option, compacted phrase, tier) for every way to name an option: tier 0 its value and labels
    in both languages, tier 1 its synonyms and the parts of its labels ("Bakery or café": "café")."""
    found: list[tuple[str, str, int]] = []
    words = synonyms(step_id)
    for value in options:
        labels = [texts.option_label(lang, step_id, value) for lang in prompts.LANGUAGES]
        for phrase in [value.replace("_", " "), *labels]:
            found.append((value, compact(phrase), 0))
        for label in labels:
            plain = re.sub(r"\([^)]*\)", " ", label)
            for part in re.split(r",|\s+(?:or|of|and|en|with|met)\s+", plain):
                found.append((value, compact(part), 1))
        found.extend((value, compact(word), 1) for word in words.get(value, ()))
    seen: set[tuple[str, str]] = set()
    unique = []
    for value, phrase, tier in sorted(found, key=lambda f: f[2]):
        if phrase and (value, phrase) not in seen:
            seen.add((value, phrase))
            unique.append((value, phrase, tier))
    return tuple(unique)


def folded_phrases(step_id: str, options: tuple[str, ...]) -> list[tuple[str, str]]:
    """(option, folded phrase) of every label and synonym, for finding a phrase inside a longer text."""
    words = synonyms(step_id)
    found = []
    for value in options:
        for phrase in [*(texts.option_label(lang, step_id, value) for lang in prompts.LANGUAGES), *words.get(value, ())]:
            folded = fold(re.sub(r"\([^)]*\)", " ", phrase))
            if len(compact(folded)) >= 4:
                found.append((value, folded))
    return found


def find(step: Step, text: str) -> Found | None:
    """The options `text` names: surely (number, value, label, synonym) or nearly (a phrase inside
    it, a prefix, a small typo); None when it names none."""
    options = tuple(step.template.options)
    if not options:
        return None
    scale = step.kind == "scale"
    out_of_five = OUT_OF_FIVE.match(text) if scale else None
    typed = out_of_five.group(1) if out_of_five else compact(text)
    if not typed:
        return None
    if fold(text).isdigit():
        if scale:
            return Found((typed,), True) if typed in options else None
        index = int(typed)
        return Found((options[index - 1],), True) if 1 <= index <= len(options) else None
    table = phrases(step.id, options)
    for tier in (0, 1):
        hits = ordered(options, {value for value, phrase, t in table if t == tier and phrase == typed})
        if hits:
            return Found(hits, len(hits) == 1)
    if scale:
        return None
    folded = fold(text)
    inside = ordered(options, {value for value, phrase in folded_phrases(step.id, options)
                               if len(phrase) < len(folded) and re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", folded)})
    if inside:
        return Found(inside, False)
    if len(typed) >= 3:
        prefixed = ordered(options, {value for value, phrase, _ in table if len(phrase) > len(typed) and phrase.startswith(typed)})
        if prefixed:
            return Found(prefixed, False)
    best: dict[str, int] = {}
    for value, phrase, _ in table:
        if near(typed, phrase):
            best[value] = min(best.get(value, 9), distance(typed, phrase, typo_limit(phrase)))
    if best:
        fewest = min(best.values())
        return Found(ordered(options, {v for v, d in best.items() if d == fewest}), False)
    return None


def ordered(options: tuple[str, ...], values: set[str]) -> tuple[str, ...]:
    return tuple(v for v in options if v in values)


def nearest(step: Step, text: str, count: int = 3) -> list[str]:
    """The options most like `text`, best first (for "did you mean …?"); all of a short list, in
    order, when none is much like it."""
    typed = compact(text)
    options = list(step.template.options)
    score: dict[str, float] = {}
    for value, phrase, _ in phrases(step.id, tuple(options)):
        score[value] = max(score.get(value, 0.0), SequenceMatcher(None, typed, phrase).ratio())
    if len(options) <= 6 and max(score.values(), default=0.0) < 0.6:
        return options
    return sorted(options, key=lambda v: -score.get(v, 0.0))[:count]


def did_you_mean(step: Step, text: str, lang: str, found: Found | None) -> Invalid:
    """The error for a text that names no option (or several) of a closed choice: the nearest options."""
    values = list(found.values) if found is not None else nearest(step, text)
    labels = [texts.option_label(lang, step.id, v) for v in values]
    return Invalid("did_you_mean", value=text, options=join_labels(lang, labels))


def is_vague(step: Step, raw: str) -> bool:
    """Too vague to act on: a catch-all word, or one word where a description is asked."""
    folded = " ".join(raw.casefold().replace("’", "'").strip(" .!?,;:").split())
    if any(folded in prompts.load(lang, "messages")["vague_words"] for lang in prompts.LANGUAGES):
        return True
    return step.kind == "long_text" and len(folded.split()) == 1
