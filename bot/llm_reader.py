"""A stage told in the owner's own words, read by a model: touchpoints with their channel, and the
feeling and pain the owner's words give. The second module in `bot/` that does I/O (HTTP to an
OpenAI-compatible server), beside the summary writer whose configuration and helpers it shares.

The owner is waiting mid-interview, so a reading is short: one chat-completions call (json_schema,
stepping down to json_object and plain text when the server answers 400 to the format, like the
writer), one more attempt after a 429, 5xx, timeout or lost connection while time is left, at most
`MAX_WAIT` seconds in all, and no repair call. Any failure gives None: the caller shows the offline
reading (`bot.engine.derive.read_description`).

The reply is data and is checked against the owner's words (`grounded`): a touchpoint whose name is
not made of the description's words is dropped, a channel must be one of the flow's ids, a feeling
(1..5) counts only with the owner's words that show it, a pain only when it is the owner's words;
at most `MAX_TOUCHPOINTS`, names and pains of bounded length. What is sent: the prompt
(`prompts/llm/describe.v1.md`), the description quoted as JSON, the channel ids. What is logged:
status, timing and counts, never the description or the model's text.
"""
from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from difflib import SequenceMatcher
from string import Template
from typing import Any, Iterable, Mapping, Sequence

import openai
from pydantic import BaseModel, ValidationError

import prompts
from bot import texts
from bot.events import ReadStep
from bot.llm_writer import DEFAULT_TIMEOUT, MODES, RETRYABLE, Mode, extract_json, language_name, model_settings, names_format, quoted_json, seconds

log = logging.getLogger(__name__)

PROMPT_VERSION = "describe.v1"
MAX_WAIT = 20.0  # seconds for a whole reading: the owner waits for the next question
ATTEMPTS = 2
RETRY_PAUSE = 0.5  # seconds before the second attempt (a Retry-After is not waited for)
MAX_COMPLETION_TOKENS = 1200
MAX_TOUCHPOINTS = 8
NAME_CHARS = 80
PAIN_CHARS = 200
NAME_SHARE = 0.5  # at least this share of a name's words must be the owner's
QUOTE_SHARE = 0.75  # of a pain's or a feeling's words
SIMILAR = 0.8  # two words this alike (difflib ratio) are the same word ("calls" and "call")
STOP_WORDS = frozenset(
    "the and then with for from our their his her its they she him them that this who via "
    "het een ons onze hun haar zijn die dat dan met voor van naar bij via zij hij wij ook nog".split()
)


class ReadTouchpoint(BaseModel):
    """One touchpoint as the model reads it (see prompts/llm/describe.v1.md)."""

    name: str
    channel: str | None
    feeling: int | None
    feeling_words: str | None
    pain: str | None


class DescriptionReading(BaseModel):
    touchpoints: list[ReadTouchpoint]


class InvalidReading(Exception):
    """The reply is not a usable reading; the message is short and never quotes the reply."""


class FormatRejected(Exception):
    """The server answered 400 to the response_format of this mode."""


class OutOfTime(Exception):
    """The reading's time budget is used up."""


# -- configuration -------------------------------------------------------------------


def reader_from_env(env: Mapping[str, str]) -> "DescriptionReader | None":
    """The reader when a model is configured as for the summary writer (OPENAI_API_KEY or
    OPENAI_BASE_URL, OPENAI_MODEL, JOURNEYBOT_LLM not off); it waits as the writer does
    (JOURNEYBOT_LLM_TIMEOUT per attempt, JOURNEYBOT_LLM_TOTAL in all), but at most `MAX_WAIT` seconds."""
    settings = model_settings(env)
    if settings is None:
        return None
    total = min(seconds(env, "JOURNEYBOT_LLM_TOTAL", MAX_WAIT) or MAX_WAIT, MAX_WAIT)
    return DescriptionReader(
        model=settings.model,
        api_key=settings.api_key,
        base_url=settings.base_url,
        timeout=min(seconds(env, "JOURNEYBOT_LLM_TIMEOUT", DEFAULT_TIMEOUT) or DEFAULT_TIMEOUT, total),
        total=total,
    )


def channel_menu(channels: Iterable[str]) -> list[dict[str, str]]:
    return [{"id": c, "means": texts.option_label("en", "touchpoint.channel", c)} for c in channels]


def build_messages(text: str, stage: str, lang: str, channels: Sequence[str], mode: Mode) -> list[dict[str, str]]:
    lang = lang if lang in prompts.LANGUAGES else prompts.DEFAULT_LANGUAGE
    system = prompts.text("llm", f"{PROMPT_VERSION}.md").strip()
    user = Template(prompts.text("llm", "describe_user.v1.md")).substitute(
        stage=quoted_json(stage)[1:-1],
        description=quoted_json(text),
        channels=quoted_json(channel_menu(channels)),
        language=language_name(lang),
    )
    if mode in ("json_object", "plain"):  # the schema is not in the request, so it goes into the prompt
        schema = json.dumps(DescriptionReading.model_json_schema(), ensure_ascii=False)
        user = user.rstrip() + "\n\n" + Template(prompts.text("llm", "schema.v2.md")).substitute(schema=schema)
    return [{"role": "system", "content": system}, {"role": "user", "content": user.strip()}]


# -- checking the reply against the owner's words ---------------------------------------

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def _content_words(text: str) -> list[str]:
    return [w for w in _TOKEN.findall(text.casefold()) if len(w) > 2 and w not in STOP_WORDS]


def _said(word: str, said: set[str]) -> bool:
    if word in said:
        return True
    return any((len(word) >= 5 and s.startswith(word[:5])) or SequenceMatcher(None, word, s).ratio() >= SIMILAR for s in said)


def share_said(phrase: str, description: str) -> float:
    """The share of a phrase's words that the description says (0 when it has no words to check)."""
    words = _content_words(phrase)
    said = set(_TOKEN.findall(description.casefold()))
    return sum(1 for w in words if _said(w, said)) / len(words) if words else 0.0


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space >= limit // 2 else cut).rstrip() + "…"


def grounded(reading: DescriptionReading, description: str, channels: Sequence[str]) -> tuple[ReadStep, ...]:
    """What of the model's reading the owner's words support (see the module docstring)."""
    kept: list[ReadStep] = []
    seen: set[str] = set()
    dropped = unsupported = 0
    for tp in reading.touchpoints:
        name = " ".join(tp.name.split())
        if not name or len(name) > NAME_CHARS or name.casefold() in seen or share_said(name, description) < NAME_SHARE:
            dropped += 1
            continue
        seen.add(name.casefold())
        channel = tp.channel if tp.channel in channels else None
        feeling = tp.feeling if tp.feeling is not None and 1 <= tp.feeling <= 5 else None
        if feeling is not None and share_said(tp.feeling_words or "", description) < QUOTE_SHARE:
            feeling, unsupported = None, unsupported + 1
        pain = " ".join((tp.pain or "").split()) or None
        if pain is not None and share_said(pain, description) < QUOTE_SHARE:
            pain, unsupported = None, unsupported + 1
        unsupported += (tp.channel is not None and channel is None)
        kept.append(ReadStep(name=name[0].upper() + name[1:], channel=channel, feeling=feeling, pain=_cut(pain, PAIN_CHARS) if pain else None))
    if len(kept) > MAX_TOUCHPOINTS:
        dropped += len(kept) - MAX_TOUCHPOINTS
        kept = kept[:MAX_TOUCHPOINTS]
    if dropped or unsupported:
        log.info("llm reading: dropped %d touchpoints and %d answers the description does not support", dropped, unsupported)
    return tuple(kept)


def parse_reply(body: Any, mode: Mode) -> DescriptionReading:
    """The reading in a chat completion's JSON body; InvalidReading when there is none."""
    if not isinstance(body, dict) or not body.get("choices"):
        raise InvalidReading("no choices")
    choice = body["choices"][0] or {}
    message = choice.get("message") or {}
    if message.get("refusal"):
        raise InvalidReading("refused")
    if choice.get("finish_reason") == "length":
        raise InvalidReading("cut off")
    content = message.get("content")
    if not content or not str(content).strip():
        raise InvalidReading("empty")
    try:
        return DescriptionReading.model_validate_json(content if mode == "json_schema" else extract_json(content))
    except ValidationError as exc:
        raise InvalidReading(f"{exc.error_count()} schema errors") from None


# -- the reader ----------------------------------------------------------------------


def _status(exc: BaseException) -> str:
    code = getattr(exc, "status_code", None)
    if code is not None:
        return str(code)
    return "timeout" if isinstance(exc, openai.APITimeoutError) else type(exc).__name__


@dataclass
class DescriptionReader:
    """Reads a description with an OpenAI-compatible chat model; see the module docstring."""

    model: str
    api_key: str
    base_url: str | None = None
    timeout: float = MAX_WAIT  # seconds per attempt
    total: float = MAX_WAIT  # seconds for the whole reading
    attempts: int = ATTEMPTS
    mode: Mode = "json_schema"  # steps down (and stays down) when the server rejects a format

    def __repr__(self) -> str:  # no key in logs or tracebacks
        return f"DescriptionReader(model={self.model!r}, base_url={self.base_url!r}, mode={self.mode!r})"

    def read(self, text: str, stage: str, lang: str, channels: Sequence[str]) -> tuple[ReadStep, ...] | None:
        """The touchpoints the owner's words support, or None (failed, or nothing usable): never raises."""
        started = time.monotonic()
        try:
            found = grounded(self._ask(text, stage, lang, channels, started), text, channels)
            outcome = f"{len(found)} touchpoints" if found else "nothing grounded"
            return found or None
        except InvalidReading as exc:
            outcome = f"invalid reply ({exc})"
        except FormatRejected:
            outcome = "every response format rejected"
        except OutOfTime:
            outcome = f"out of time ({self.total:.0f}s)"
        except openai.APIError as exc:
            outcome = f"{type(exc).__name__} {_status(exc)}"
        except Exception:  # never an exception to the owner
            log.exception("llm reading: unexpected error")
            outcome = "unexpected error"
        finally:
            log.info("llm reading: model=%s elapsed=%.2fs", self.model, time.monotonic() - started)
        log.warning("llm reading: using the offline reading: %s", outcome)
        return None

    def _ask(self, text: str, stage: str, lang: str, channels: Sequence[str], started: float) -> DescriptionReading:
        attempt = 0
        with openai.OpenAI(api_key=self.api_key, base_url=self.base_url, max_retries=0, timeout=self.timeout) as client:
            while True:
                remaining = self.total - (time.monotonic() - started)
                if remaining <= 0.1:
                    raise OutOfTime()
                attempt += 1
                try:
                    return self._attempt(client, build_messages(text, stage, lang, channels, self.mode), min(self.timeout, remaining))
                except FormatRejected:
                    nxt = MODES.index(self.mode) + 1
                    if nxt >= len(MODES):
                        raise
                    log.warning("llm reading: server rejected response_format %s; using %s from now on", self.mode, MODES[nxt])
                    self.mode, attempt = MODES[nxt], attempt - 1
                except RETRYABLE as exc:
                    if attempt >= self.attempts or self.total - (time.monotonic() - started) <= RETRY_PAUSE + 0.1:
                        raise
                    log.warning("llm reading attempt %d failed: status=%s; retrying", attempt, _status(exc))
                    time.sleep(RETRY_PAUSE)

    def _attempt(self, client: openai.OpenAI, messages: list[dict[str, str]], timeout: float) -> DescriptionReading:
        # OpenAI itself takes max_completion_tokens; llama.cpp and other compatible servers read max_tokens
        limit = "max_completion_tokens" if self.base_url is None or "api.openai.com" in self.base_url else "max_tokens"
        common: dict[str, Any] = {"model": self.model, "messages": messages, limit: MAX_COMPLETION_TOKENS, "timeout": timeout}
        try:
            if self.mode == "json_schema":
                raw = client.chat.completions.with_raw_response.parse(response_format=DescriptionReading, **common)
            elif self.mode == "json_object_schema":  # llama.cpp's form: a grammar is built from the schema
                fmt: Any = {"type": "json_object", "schema": DescriptionReading.model_json_schema()}
                raw = client.chat.completions.with_raw_response.create(response_format=fmt, **common)
            elif self.mode == "json_object":
                raw = client.chat.completions.with_raw_response.create(response_format={"type": "json_object"}, **common)
            else:
                raw = client.chat.completions.with_raw_response.create(**common)
        except openai.APIStatusError as exc:  # a refused format, whatever its status (llama.cpp answers 500)
            if exc.status_code in (400, 422, 500) and names_format(exc):
                raise FormatRejected() from exc
            raise
        try:
            body = raw.http_response.json()
        except ValueError:
            raise InvalidReading("not a JSON chat completion") from None
        return parse_reply(body, self.mode)
