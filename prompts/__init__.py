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


def say(lang: str, name: str, key: str, /, **values: Any) -> str:
    """One message from `prompts/<lang>/<name>.yaml`, `key` may be dotted, filled with `values`."""
    node: Any = load(lang, name)
    for part in key.split("."):
        node = node[part]
    return str(node).format(**values) if values else str(node)
