"""Where the language model is and whether it is switched on, read from the environment.

Light on purpose (no openai import): the application layer asks it at start-up; the summary writer
(bot/llm_writer.py) and the description reader (bot/llm_reader.py) are made from it when first needed.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Mapping

log = logging.getLogger(__name__)

DEFAULT_MODEL = "gpt-4.1-mini"
OFF_WORDS = ("off", "0", "false", "no", "coach")  # JOURNEYBOT_LLM values that force the offline coach


def seconds(env: Mapping[str, str], name: str, default: float | None) -> float | None:
    """A positive number of seconds (or tokens) from `env`; `default` when unset or unusable."""
    try:
        value = float(env.get(name, "") or (default if default is not None else "nan"))
    except ValueError:
        log.warning("%s is not a number; using %s", name, default)
        return default
    return value if value > 0 else default


@dataclass(frozen=True)
class ModelSettings:
    """Where the language model is, as the summary writer and the description reader both read it."""

    model: str
    api_key: str
    base_url: str | None


def model_settings(env: Mapping[str, str]) -> ModelSettings | None:
    """The model when OPENAI_API_KEY or OPENAI_BASE_URL is set and JOURNEYBOT_LLM is not off; else None."""
    if env.get("JOURNEYBOT_LLM", "").strip().lower() in OFF_WORDS:
        return None
    api_key = (env.get("OPENAI_API_KEY") or "").strip()
    base_url = (env.get("OPENAI_BASE_URL") or "").strip()
    if not api_key and not base_url:
        return None
    # a local server (Ollama, vLLM, LM Studio, llama.cpp) needs no key, but the client wants one
    return ModelSettings((env.get("OPENAI_MODEL") or "").strip() or DEFAULT_MODEL, api_key or "no-key", base_url or None)


