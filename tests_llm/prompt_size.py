"""The writer's prompt for a big journey (6 stages of 4 touchpoints, every answer given), measured with
the SmolLM2 tokenizer from the GGUF file (llama_cpp, vocabulary only) and the model's own chat template."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.coach import build_report
from bot.llm_reply import reply_schema
from bot.llm_writer import MODES, build_messages
from devkit.llm_support import TODAY, wide_view

@lru_cache(maxsize=1)
def _vocab(model_path: str) -> Any:
    from llama_cpp import Llama

    return Llama(model_path=model_path, vocab_only=True, verbose=False)


def chat_template(model_path: str) -> str | None:
    return _vocab(model_path).metadata.get("tokenizer.chat_template")


def count_text(model_path: str, text: str) -> int:
    return len(_vocab(model_path).tokenize(text.encode("utf-8"), add_bos=False, special=False))


def count_messages(model_path: str, messages: list[dict[str, str]]) -> int:
    """Prompt tokens as the server counts them: the messages rendered with the GGUF's chat template
    (with the generation prompt), tokenized with special tokens."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    llama = _vocab(model_path)
    template = chat_template(model_path)
    if not template:  # no template in the file: the contents plus a few tokens per message
        return sum(count_text(model_path, m["content"]) + 4 for m in messages)
    eos = llama.detokenize([llama.token_eos()]).decode("utf-8", "replace")
    bos = llama.detokenize([llama.token_bos()]).decode("utf-8", "replace")
    prompt = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)(messages=messages).prompt
    return len(llama.tokenize(prompt.encode("utf-8"), add_bos=True, special=True))


@dataclass(frozen=True)
class PromptSize:
    lang: str
    mode: str
    chars: int
    tokens: int  # the rendered chat prompt, real tokenizer
    system_tokens: int
    user_tokens: int


def measure(model_path: Path, lang: str) -> tuple[list[PromptSize], int]:
    """The 6x24 prompt in every mode the writer can send, and the tokens of the reply's JSON schema
    (sent besides the prompt in json_schema mode, inside it in the other modes)."""
    view = wide_view(lang)
    coach = build_report(view, TODAY)
    sizes = []
    for mode in MODES:
        messages = build_messages(view, coach, mode)
        sizes.append(
            PromptSize(
                lang=lang,
                mode=mode,
                chars=sum(len(m["content"]) for m in messages),
                tokens=count_messages(str(model_path), messages),
                system_tokens=count_text(str(model_path), messages[0]["content"]),
                user_tokens=count_text(str(model_path), messages[-1]["content"]),
            )
        )
    schema_tokens = count_text(str(model_path), json.dumps(reply_schema(), ensure_ascii=False))
    return sizes, schema_tokens
