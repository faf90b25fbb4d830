"""How many tokens a request may use: a per-language estimate of the prompt and the model's context window.

Tokenizers split Dutch into more pieces than English (measured on SmolLM2's tokenizer: the same
summary prompt was 4,033 tokens in English and 5,351 in Dutch, where four characters a token had
guessed 3,828 and 3,936). The estimate errs on the high side, because a request that does not fit
is refused whole; the server's own count (`usage`) replaces it wherever one comes back.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

# characters per token, measured on JSON-heavy prompts, rounded down (so the estimate is high)
CHARS_PER_TOKEN = {"en": 3.6, "nl": 2.8}
SAFETY = 1.1  # a tenth more on top, for the chat template and a tokenizer we have not measured
MESSAGE_OVERHEAD = 8  # role markers and separators per chat message
MIN_OUTPUT = 900  # fewer output tokens than this cannot hold a report: do not ask at all
MARGIN = 64


def estimate_tokens(text: str, lang: str) -> int:
    """A high estimate of the tokens `text` takes in a model's tokenizer."""
    if not text:
        return 0
    return math.ceil(len(text) / CHARS_PER_TOKEN.get(lang, min(CHARS_PER_TOKEN.values())) * SAFETY)


def estimate_messages(messages: list[dict[str, str]], lang: str) -> int:
    return sum(estimate_tokens(m.get("content") or "", lang) + MESSAGE_OVERHEAD for m in messages)


_WINDOW_PATTERNS = (
    re.compile(r"maximum context length is (\d+)", re.IGNORECASE),  # OpenAI, vLLM, llama-cpp-python
    re.compile(r"context window of (\d+)", re.IGNORECASE),  # llama.cpp
    re.compile(r"n_ctx[^0-9]{0,20}(\d+)", re.IGNORECASE),
    re.compile(r"context (?:size|length)[^0-9]{0,20}(\d+)", re.IGNORECASE),
)
_CONTEXT_WORDS = ("context_length_exceeded", "context length", "context window", "maximum context", "exceed_context_size", "n_ctx")


def is_context_error(message: str) -> bool:
    lowered = message.lower()
    return any(word in lowered for word in _CONTEXT_WORDS)


def window_from_error(message: str) -> int | None:
    """The context window a server's "too long" answer names, if it names one."""
    for pattern in _WINDOW_PATTERNS:
        match = pattern.search(message)
        if match:
            value = int(match.group(1))
            if value >= 512:
                return value
    return None


_PROMPT_COUNT = re.compile(r"\((\d+) in the messages", re.IGNORECASE)


def prompt_from_error(message: str) -> int | None:
    """The prompt's size in tokens when a server's "too long" answer counts it (OpenAI, llama-cpp-python)."""
    match = _PROMPT_COUNT.search(message)
    return int(match.group(1)) if match else None


@dataclass
class ContextBudget:
    """The window (when known: from the settings or learned from the server) and the largest reply
    journeybot asks for."""

    max_output: int
    window: int | None = None

    def output_tokens(self, prompt_tokens: int) -> int | None:
        """The output tokens to ask for with a prompt of `prompt_tokens`; None when too few would remain."""
        if self.window is None:
            return self.max_output
        left = self.window - prompt_tokens - MARGIN
        if left < MIN_OUTPUT:
            return None
        return min(self.max_output, left)
