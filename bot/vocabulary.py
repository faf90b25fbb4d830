"""Words the engine and its helpers share: special choice values, step keys, answer checks, and the
forgiving reading of typed words (folding, small typos, synonyms in prompts/<lang>/synonyms.yaml)."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable

import prompts

DONT_KNOW = "__dont_know__"
DONE = "__done__"
SKIP = "__skip__"
KEEP = "__keep__"
LANGUAGE_STEP = "meta.language"
SURVEY_STEP = "meta.survey"
REVIEW_PREFIX = "review:"
FORGET_STEP = "meta.forget"
SHOW = "_show"  # internal: show the current question, used after switching journeys
TASK_STATUSES = ("open", "planned", "done", "dropped")
INVALID = object()  # what a parse returns after it told the owner the answer was not accepted

# the typed words of a control: its entry under `control_words` in synonyms.yaml, and the labels it wears
CONTROLS = {KEEP: "keep", DONE: "done", DONT_KNOW: "dont_know", SKIP: "skip", "yes": "yes", "no": "no",
            "keep_typed": "keep_typed"}
CONTROL_LABELS = {
    KEEP: ("use_suggestion", "review.still_true"),
    DONE: ("buttons.done",),
    DONT_KNOW: ("buttons.dont_know",),
    SKIP: ("buttons.skip",),
}
WORD_LISTS = {"keep_words": KEEP, "dont_know_words": DONT_KNOW}


@dataclass(frozen=True)
class TodoRef:
    id: int
    kind: str  # improvement or wow
    title: str
    status: str  # open, planned, done, dropped


class Invalid(Exception):
    """An answer the step cannot take; `key` names the message under `errors` in messages.yaml."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def fold(text: str) -> str:
    """Lower case without accents, emoji or punctuation (apostrophes, hyphens and digits stay), single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("’", "'").replace("‘", "'"))
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join("".join(ch if ch.isalnum() or ch in "'-" else " " for ch in kept).split()).strip("'- ")


def compact(text: str) -> str:
    """Only the letters and digits of `fold(text)`: "E-mail" and "e mail" read alike."""
    return "".join(ch for ch in fold(text) if ch.isalnum())


def typo_limit(word: str) -> int:
    """How many edits a typed word may be off: none under 4 letters, 1 up to 7, 2 for longer words."""
    return 0 if len(word) < 4 else 1 if len(word) <= 7 else 2


def distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of `a` and `b`, or `limit + 1` as soon as it is known to exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def near(typed: str, word: str) -> bool:
    """Whether `typed` is `word` with a small typo (both compacted)."""
    limit = typo_limit(word)
    return limit > 0 and len(typed) >= 3 and distance(typed, word, limit) <= limit


def synonyms(step_id: str) -> dict[str, list[str]]:
    """Option value -> the words owners use for it, both languages together."""
    found: dict[str, list[str]] = {}
    for lang in prompts.LANGUAGES:
        for value, words in (prompts.load(lang, "synonyms").get("choice_words", {}).get(step_id) or {}).items():
            found.setdefault(str(value), []).extend(str(w) for w in words or ())
    return found


@lru_cache(maxsize=None)
def control_phrases(control: str) -> frozenset[str]:
    """Every compacted word and label that names `control` (KEEP, DONE, DONT_KNOW, SKIP, "yes", "no", "keep_typed")."""
    phrases: set[str] = set()
    for lang in prompts.LANGUAGES:
        messages = prompts.load(lang, "messages")
        phrases.update(str(w) for w in prompts.load(lang, "synonyms").get("control_words", {}).get(CONTROLS[control], ()))
        for lists_key, named in WORD_LISTS.items():
            if named == control:
                phrases.update(str(w) for w in messages.get(lists_key, ()))
        for key in CONTROL_LABELS.get(control, ()):
            phrases.add(prompts.say(lang, "messages", key))
        if control == KEEP:  # a list step's own "keep" button label ("Keep these stages")
            phrases.update(str(q["keep"]) for q in prompts.load(lang, "questions").values()
                           if isinstance(q, dict) and q.get("keep"))
    return frozenset(c for c in (compact(p) for p in phrases) if c)


def is_control(text: str, control: str, *, typos_from: int | None = None) -> bool:
    """Whether typed `text` names `control`: one of its words or labels in either language, case,
    accents and punctuation aside. With `typos_from` a small typo is forgiven in words and labels of
    at least that many letters (8 where any text could be an answer, so "Skin" never skips a question)."""
    typed = compact(text)
    if not typed:
        return False
    phrases = control_phrases(control)
    if typed in phrases:
        return True
    if typos_from is None:
        return False
    return any(near(typed, phrase) for phrase in phrases if len(phrase) >= typos_from)


def matches_word(text: str, lists_key: str) -> bool:
    """Whether `text` is one of the words listed under `lists_key` in either language's messages, or a
    label or synonym of the control that list stands for ("Keep these stages", "Weet ik niet")."""
    needle = " ".join(text.strip().lower().replace("’", "'").split())
    if any(needle in prompts.load(lang, "messages")[lists_key] for lang in prompts.LANGUAGES):
        return True
    control = WORD_LISTS.get(lists_key)
    return control is not None and is_control(text, control, typos_from=8)


def join_labels(lang: str, labels: Iterable[str]) -> str:
    """"A, B or C" in the owner's language."""
    items = [f"“{label}”" for label in labels]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {prompts.say(lang, 'messages', 'confirm.or')} {items[-1]}"
