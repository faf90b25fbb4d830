"""The Dutch and English prompt files say the same things: every file in prompts/nl/ has its twin
in prompts/en/ (templates/ included) with the same keys, recursively, the same list lengths, and
the same {placeholders} in each text. A failure names the file and the key path that differs.

Vocabulary is the one exception: word lists (keys ending in `_words`), messages.yaml's `aliases`
(the language's own words for the commands) and the word lists of the vocabulary files (lexicon.yaml:
words that name a channel; synonyms.yaml: other words for an option; pains.yaml: the cue words of a pain
class and the words of a duration; stage_kinds.yaml: the words that name a kind of stage) hold words of that language, so only their presence and type are
compared, not their length or keys."""
from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
LANGS = ("nl", "en")


def _files(lang: str) -> set[str]:
    return {p.relative_to(PROMPTS / lang).as_posix() for p in (PROMPTS / lang).rglob("*.yaml")}


FILES = sorted(_files("nl") | _files("en"))
VOCABULARY_FILES = ("lexicon.yaml", "synonyms.yaml", "pains.yaml", "stage_kinds.yaml")  # keys are the same; the lists hold each language's words


def placeholders(text: str) -> set[str]:
    """The names in {name}, {name!r}, {name:>3}; {{ and }} are literal braces."""
    try:
        return {field.split(".")[0].split("[")[0] for _, field, _, _ in string.Formatter().parse(text) if field}
    except ValueError:  # not a format string (a stray brace): compare what looks like fields
        return set(re.findall(r"(?<!\{)\{(\w+)[^{}]*\}(?!\})", text))


def vocabulary(path: str) -> bool:
    last = path.rsplit(".", 1)[-1]
    return last.endswith("_words") or path == "aliases"


def differences(a: Any, b: Any, path: str = "", *, word_lists: bool = False) -> Iterator[str]:
    where = path or "(top)"
    if path and (vocabulary(path) or (word_lists and isinstance(a, list))):
        if type(a) is not type(b):
            yield f"{where}: a {type(a).__name__} in nl, a {type(b).__name__} in en"
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in b:
                yield f"{sub}: only in nl"
            elif key not in a:
                yield f"{sub}: only in en"
            else:
                yield from differences(a[key], b[key], sub, word_lists=word_lists)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            yield f"{where}: {len(a)} items in nl, {len(b)} in en"
        for i, (x, y) in enumerate(zip(a, b)):
            yield from differences(x, y, f"{path}[{i}]")
    elif isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        yield f"{where}: a {type(a).__name__} in nl, a {type(b).__name__} in en"
    elif isinstance(a, str) and isinstance(b, str):
        pa, pb = placeholders(a), placeholders(b)
        if pa != pb:
            yield f"{where}: placeholders {sorted(pa)} in nl, {sorted(pb)} in en"


@pytest.mark.parametrize("name", FILES)
def test_nl_and_en_have_the_same_keys_and_placeholders(name: str) -> None:
    missing = [lang for lang in LANGS if not (PROMPTS / lang / name).exists()]
    assert not missing, f"prompts/{{{','.join(missing)}}}/{name} is missing (the other language has it)"
    nl, en = (yaml.safe_load((PROMPTS / lang / name).read_text(encoding="utf-8")) for lang in LANGS)
    found = list(differences(nl, en, word_lists=name in VOCABULARY_FILES))
    assert not found, f"prompts/nl/{name} and prompts/en/{name} differ:\n  " + "\n  ".join(found)


def test_the_comparison_names_the_key_path() -> None:
    nl = {"a": {"b": "Hallo {name}", "c": ["x", {"d": 1}]}, "only": 1, "wait_words": ["a", "b"]}
    en = {"a": {"b": "Hello {user}", "c": ["x", {"e": 1}]}, "wait_words": ["a"]}
    assert list(differences(nl, en)) == [
        "a.b: placeholders ['name'] in nl, ['user'] in en",
        "a.c[1].d: only in nl",
        "a.c[1].e: only in en",
        "only: only in nl",
    ]
    assert placeholders("{{literal}} {n:>3} {x!r}") == {"n", "x"}
