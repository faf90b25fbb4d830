"""Every user-facing text and every LLM prompt, as data files per language.

`load(lang, name)` returns the parsed `prompts/<lang>/<name>.yaml`; `text(lang, name)`
returns a raw file such as `prompts/llm/summary.v1.md`. Files are read once and cached.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "en"


def normalise_language(code: str | None) -> str:
    """Dutch for any `nl...` (and Flemish `vls`), English otherwise."""
    if code and code.strip().lower().replace("_", "-").split("-")[0] in ("nl", "vls"):
        return "nl"
    return DEFAULT_LANGUAGE


@lru_cache(maxsize=None)
def text(*parts: str) -> str:
    return resources.files(__package__).joinpath(*parts).read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def data(*parts: str) -> Any:
    return yaml.safe_load(text(*parts))


def load(lang: str, name: str) -> dict[str, Any]:
    if lang not in LANGUAGES:
        lang = DEFAULT_LANGUAGE
    return data(lang, f"{name}.yaml")


LOCALES = {"nl": "nl_NL", "en": "en_GB"}


def say(lang: str, name: str, key: str, /, **values: Any) -> str:
    """One message from `prompts/<lang>/<name>.yaml`, `key` may be dotted, filled with `values`.

    A message with plural forms is a mapping (`one:`, `other:`): the form is chosen by the
    language's plural rule (Babel) for the value `count`. Fractions are written the owner's way
    ("2,5" in Dutch, "2.5" in English)."""
    node: Any = load(lang, name)
    for part in key.split("."):
        node = node[part]
    if is_plural(node):
        node = node.get(plural_form(lang, values.get("count", 0)), node["other"])
    if not values:
        return str(node)
    return str(node).format(**{k: number(lang, v) for k, v in values.items()})


PLURAL_FORMS = frozenset({"zero", "one", "two", "few", "many", "other"})


def is_plural(node: Any) -> bool:
    return isinstance(node, dict) and "other" in node and set(node) <= PLURAL_FORMS


def plural_form(lang: str, count: Any) -> str:
    """'one' or 'other' (the CLDR plural category Dutch and English use) for `count`."""
    from babel import Locale

    try:
        return str(Locale.parse(LOCALES.get(lang, "en_GB")).plural_form(abs(float(count))))
    except (TypeError, ValueError):
        return "other"


def number(lang: str, value: Any) -> Any:
    """A fraction written the way the owner reads it ("2,5" in Dutch); whole numbers (counts, ids,
    years) and anything else unchanged."""
    if isinstance(value, bool) or not isinstance(value, float):
        return value
    from babel.numbers import format_decimal

    return format_decimal(value, locale=LOCALES.get(lang, "en_GB"))
