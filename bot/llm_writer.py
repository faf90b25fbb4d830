"""The LLM summary writer: the one module in `bot/` that does I/O (HTTP to an OpenAI-compatible server).

The coach owns the facts (ranking, remedies, WOW ideas, checklist, calendar, review date); the
model writes the story and rewords the coach's cards and ideas (bot/llm_reply.py). One summary is
one streamed chat-completions call. Its reply is checked piece by piece: the good pieces are kept,
the others stay the coach's, and `Report.authors` plus one notice say who wrote what. Only a reply
with nothing usable in it, or in the other language, gets ONE repair call (the problems and a short
excerpt of the reply, asking for no more tokens than the context window has left); after that, or
when the server stays down, the offline coach's report is the result (`fallback=True`) with a
notice saying what really happened: unreachable, format refused, context too small, reply unusable.

Servers differ in the response formats they take: `json_schema` (OpenAI, vLLM, Ollama), llama.cpp's
`json_object` with a `schema`, plain `json_object`, or nothing. A refusal of the format is
recognised whatever its status (400, 422, or 500 naming `response_format`) and steps down at once,
for the rest of the process. Requests are streamed, so a request given up on (its time is up) is
cancelled by closing the connection: servers that would otherwise go on generating for minutes
(llama-cpp-python) stop at their next token.

Retries (tenacity): 429 (honouring Retry-After, capped), 5xx, timeouts and connection errors, with
exponential backoff and jitter, a cap on attempts and on total time. 400/401/403/404/422 are not
retried. Every attempt is logged with its number, status and wait; never the key, the answers or the
model's text.

What is sent: the system prompt (`prompts/llm/summary.v2.md` + the language guidance), the owner's
answers as a JSON document and the coach's numbered findings (no dates, no ids, no user ids).
"""
from __future__ import annotations

import asyncio
import email.utils
import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from string import Template
from typing import Any, Awaitable, Callable, Literal, Mapping

import httpx
import openai
from babel.lists import format_list
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, stop_before_delay, wait_exponential_jitter

import prompts
from bot.journey import JourneyView
from bot.llm_config import DEFAULT_MODEL, OFF_WORDS, ModelSettings, model_settings, seconds  # noqa: F401  (re-exported)
from bot.llm_budget import ContextBudget, estimate_messages, estimate_tokens, is_context_error, prompt_from_error, window_from_error
from bot.llm_reply import BOUNDS, Reading, Unusable, cut, extract_json, merge, read_reply, reply_schema  # noqa: F401  (extract_json: re-exported)
from bot.report import Report
from bot.writer import Usage, Written, answers_hash

log = logging.getLogger(__name__)

PROMPT_VERSION = "summary.v2"
DEFAULT_TIMEOUT = 45.0  # seconds per attempt: a hosted model writes the reply in 10-30 s
DEFAULT_TOTAL = 90.0  # seconds for the whole summary, retries and repair included
MAX_COMPLETION_TOKENS = 2500  # the reply is the story and the wording; about 1,200 tokens in practice
FINDING_REMEDY = 220  # characters of a remedy in the findings: enough for its gist, the full text stays the coach's
REPAIR_EXCERPT = 600  # characters of an unusable reply shown back to the model

Mode = Literal["json_schema", "json_object_schema", "json_object", "plain"]
MODES: tuple[Mode, ...] = ("json_schema", "json_object_schema", "json_object", "plain")
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "structured output", "unsupported_response_format", "grammar")


class AttemptTimeout(Exception):
    """One attempt took longer than its share of the time; its connection was closed."""


class StreamCut(Exception):
    """The stream ended without saying why (no finish_reason): the server broke it off, e.g.
    llama-cpp-python when another request arrives. Asked again, like a dropped connection."""


RETRYABLE = (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError, AttemptTimeout, StreamCut)


class InvalidReply(Exception):
    """The reply cannot be used. `errors` is a short, model-readable explanation."""

    def __init__(self, errors: str, content: str | None = None, reason: str = "invalid") -> None:
        super().__init__(errors)
        self.errors = errors
        self.content = content
        self.reason = reason  # invalid, language, refused


class OutOfTime(Exception):
    """The time budget of this summary is used up."""


class FormatRejected(Exception):
    """The server refused the response format of this mode."""


class ContextTooSmall(Exception):
    """The prompt leaves the model too little room to answer."""


# -- configuration -------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # HTTP attempts per call (the repair call has its own)
    total: float = DEFAULT_TOTAL  # seconds for the whole summary
    multiplier: float = 0.5  # backoff: multiplier * 2**(n-1) + jitter, at most max_wait
    max_wait: float = 8.0
    jitter: float = 0.5
    retry_after_cap: float = 20.0  # a Retry-After longer than this is cut to this


def writer_from_env(
    env: Mapping[str, str], today: Callable[[], date] = date.today, coach: Callable[[JourneyView], Report] | None = None
) -> "LLMWriter | None":
    """The LLM writer when a model is configured (`model_settings`); else None.

    JOURNEYBOT_LLM_TIMEOUT (seconds per attempt) and JOURNEYBOT_LLM_TOTAL (seconds per summary)
    bound the wait; JOURNEYBOT_LLM_CONTEXT is the model's context window in tokens, when known.
    """
    settings = model_settings(env)
    if settings is None:
        return None
    total = seconds(env, "JOURNEYBOT_LLM_TOTAL", DEFAULT_TOTAL) or DEFAULT_TOTAL
    window = seconds(env, "JOURNEYBOT_LLM_CONTEXT", None)
    return LLMWriter(
        model=settings.model,
        api_key=settings.api_key,
        base_url=settings.base_url,
        timeout=min(seconds(env, "JOURNEYBOT_LLM_TIMEOUT", DEFAULT_TIMEOUT) or DEFAULT_TIMEOUT, total),
        policy=RetryPolicy(total=total),
        context_window=int(window) if window else None,
        today=today,
        coach=coach,
    )


# -- the prompt ----------------------------------------------------------------------


def _prompt_file(name: str) -> str:
    return prompts.text("llm", name)


def prompt_digest() -> str:
    """A hash of every prompt file the writer sends, so an edit busts the cache even without a version bump."""
    parts = [_prompt_file(f"{PROMPT_VERSION}.md"), _prompt_file("user.v2.md"), _prompt_file("schema.v2.md"), _prompt_file("repair.v2.md")]
    parts += [_prompt_file(f"{lang}.md") for lang in prompts.LANGUAGES]
    parts.append(json.dumps(reply_schema(), sort_keys=True))
    parts.append(json.dumps(asdict(BOUNDS), sort_keys=True))  # a cached summary follows the bounds too
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:16]


def quoted_json(data: Any) -> str:
    """JSON with `<`, `>` and backticks escaped, so no answer can close the <answers> block or a fence."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("`", "\\u0060")


def _answer(journey: JourneyView, key: str) -> Any:
    """One answer as readable text; None for questions not answered or skipped (nothing to say)."""
    f = journey.fields.get(key)
    if f is None or f.status not in ("ok", "unknown"):
        return None
    return f.text if f.status == "ok" else prompts.say(journey.lang, "messages", "unknown_answer")


def answers_document(journey: JourneyView) -> dict[str, Any]:
    """The owner's answers as a compact document: the general answers by key, then the stages."""
    general = {key: text for key in journey.fields if not key.startswith("stage.") and (text := _answer(journey, key)) is not None}
    stages = []
    for stage in journey.stages:
        touchpoints = []
        for tp in stage.touchpoints:
            item: dict[str, Any] = {"name": tp.name}
            for name, f in (("channel", tp.channel), ("feeling", tp.feeling), ("pain", tp.pain), ("team", tp.team)):
                text = _answer(journey, f.key)
                if text is not None:
                    item[name] = tp.score if name == "feeling" and tp.score is not None else text
            touchpoints.append(item)
        entry: dict[str, Any] = {"stage": stage.name, "touchpoints": touchpoints}
        if (delights := _answer(journey, stage.delights.key)) is not None:
            entry["delights"] = delights
        stages.append(entry)
    return {"answers": general, "stages": stages}


def findings_document(coach: Report) -> dict[str, Any]:
    """The coach's cards and ideas, numbered, so the model can point at them (no dates, no costs)."""
    return {
        "improvements": [
            {
                "n": n,
                "step": i.step,
                "title": i.title,
                "why": i.why,
                "remedies": [{"n": m, "do": cut(a.do, FINDING_REMEDY), "effort": a.effort} for m, a in enumerate(i.actions, start=1)],
            }
            for n, i in enumerate(coach.improvements, start=1)
        ],
        "wow_ideas": [{"n": n, "step": w.touchpoint or w.stage, "idea": w.idea, "why": w.why} for n, w in enumerate(coach.wow_moments, start=1)],
    }


def language_name(lang: str) -> str:
    return {"nl": "Dutch", "en": "English"}.get(lang, "English")


def build_messages(journey: JourneyView, coach: Report, mode: Mode) -> list[dict[str, str]]:
    lang = coach.language
    system = _prompt_file(f"{PROMPT_VERSION}.md").rstrip() + "\n\n" + _prompt_file(f"{lang}.md").strip()
    user = Template(_prompt_file("user.v2.md")).substitute(
        answers=quoted_json(answers_document(journey)), findings=quoted_json(findings_document(coach)), language=language_name(lang)
    )
    if mode in ("json_object", "plain"):  # the schema is not in the request, so it goes into the prompt
        schema = json.dumps(reply_schema(described=False), ensure_ascii=False, separators=(",", ":"))
        user = user.rstrip() + "\n\n" + Template(_prompt_file("schema.v2.md")).substitute(schema=schema)
    return [{"role": "system", "content": system}, {"role": "user", "content": user.strip()}]


def repair_messages(messages: list[dict[str, str]], bad: InvalidReply, lang: str) -> list[dict[str, str]]:
    """The first request again, with the problems and the start of the unusable reply (never all of it:
    the repair must fit the same context window)."""
    errors = bad.errors
    excerpt = (bad.content or "").strip()
    if excerpt:
        excerpt = excerpt[:REPAIR_EXCERPT] + ("…" if len(excerpt) > REPAIR_EXCERPT else "")
        errors += "\n- your reply began: " + json.dumps(excerpt, ensure_ascii=False)
    repair = Template(_prompt_file("repair.v2.md")).substitute(errors=errors, language=language_name(lang)).strip()
    return [*messages, {"role": "user", "content": repair}]


def response_format(mode: Mode) -> dict[str, Any] | None:
    if mode == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": "journey_summary", "strict": True, "schema": reply_schema()}}
    if mode == "json_object_schema":  # llama.cpp's form: a grammar is built from the schema
        return {"type": "json_object", "schema": reply_schema(described=False)}
    if mode == "json_object":
        return {"type": "json_object"}
    return None


# -- retries -------------------------------------------------------------------------


def retry_after_seconds(exc: BaseException) -> float | None:
    """Retry-After (seconds or an HTTP date) or retry-after-ms from an API error's response, if any."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _status(exc: BaseException | None) -> str:
    if exc is None:
        return "200"
    code = getattr(exc, "status_code", None)
    if code is not None:
        return str(code)
    if isinstance(exc, (openai.APITimeoutError, AttemptTimeout)):
        return "timeout"
    if isinstance(exc, StreamCut):
        return "broken-off"
    if isinstance(exc, openai.APIConnectionError):
        return "connection-error"
    return type(exc).__name__


class _Wait:
    """Exponential backoff with jitter; a rate limit's Retry-After (capped) when it is longer."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.backoff = wait_exponential_jitter(multiplier=policy.multiplier, max=policy.max_wait, jitter=policy.jitter)

    def __call__(self, state: RetryCallState) -> float:
        wait = self.backoff(state)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, openai.RateLimitError):
            after = retry_after_seconds(exc)
            if after is not None:
                wait = min(after, self.policy.retry_after_cap)
        return wait


# -- the writer ----------------------------------------------------------------------


@dataclass
class _Run:
    """Book-keeping for one summary."""

    lang: str
    started: float = field(default_factory=time.monotonic)
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False  # a server sent no usage: the counts are journeybot's estimate
    last_prompt_tokens: int | None = None  # the server's count of the last prompt, when it gave one
    waits: list[float] = field(default_factory=list)

    def usage(self) -> Usage | None:
        return Usage(self.prompt_tokens, self.completion_tokens) if self.calls else None


@dataclass
class _Reply:
    content: str = ""
    refusal: str = ""
    finish_reason: str | None = None
    usage: dict[str, int] | None = None


class LLMWriter:
    """`SummaryWriter` that asks an OpenAI-compatible chat model; see the module docstring."""

    prompt_version = PROMPT_VERSION

    def __init__(
        self,
        *,
        model: str = DEFAULT_MODEL,
        api_key: str,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        policy: RetryPolicy = RetryPolicy(),
        context_window: int | None = None,
        today: Callable[[], date] = date.today,
        coach: Callable[[JourneyView], Report] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_completion_tokens: int = MAX_COMPLETION_TOKENS,
    ) -> None:
        self.model = model
        self.name = f"llm:{model}"
        self._api_key = api_key
        self.base_url = base_url
        self.timeout = timeout
        self.policy = policy
        self.budget = ContextBudget(max_output=max_completion_tokens, window=context_window)
        self.today = today
        self._coach = coach
        self.sleep = sleep
        self.mode: Mode = "json_schema"  # steps down (and stays down) when the server refuses a format
        self._digest = prompt_digest()

    def __repr__(self) -> str:  # no key in logs or tracebacks
        return f"LLMWriter(model={self.model!r}, base_url={self.base_url!r}, mode={self.mode!r})"

    @property
    def openai_proper(self) -> bool:
        """OpenAI itself takes `max_completion_tokens`; compatible servers (llama.cpp) read `max_tokens`."""
        return self.base_url is None or "api.openai.com" in self.base_url

    # -- SummaryWriter ---------------------------------------------------------
    def cache_key(self, journey: JourneyView) -> str:
        return answers_hash(journey, "llm", PROMPT_VERSION, self._digest, self.model)

    def coach_report(self, journey: JourneyView) -> Report:
        if self._coach is not None:
            return self._coach(journey)
        from bot.coach import build_report

        return build_report(journey, self.today())

    async def write(self, journey: JourneyView) -> Written:
        coach = self.coach_report(journey)
        run = _Run(lang=coach.language)
        reason = "unavailable"
        try:
            reading = await self._write(journey, coach, run)
            report = merge(coach, reading, self.model)
            report = report.model_copy(update={"notice": authorship_notice(report)})
            self._log_done(run, fallback=False, dropped=reading.dropped)
            return Written(report=report, usage=run.usage(), calls=run.calls)
        except InvalidReply as exc:
            reason = exc.reason
        except FormatRejected:
            log.error("llm summary: the server refused every response format journeybot can ask for")
            reason = "format"
        except ContextTooSmall:
            log.error("llm summary: the prompt leaves the model too little room (context window %s tokens)", self.budget.window)
            reason = "context"
        except (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError) as exc:
            log.error("llm summary: the server refused our configuration (%s %s); check OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL", type(exc).__name__, _status(exc))
            reason = "misconfigured"
        except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
            log.error("llm summary: the server rejected the request (%s %s)", type(exc).__name__, _status(exc))
            reason = "misconfigured"
        except StreamCut:
            log.warning("llm summary: giving up, the server kept breaking its replies off")
            reason = "unavailable"
        except (OutOfTime, AttemptTimeout):
            log.warning("llm summary: giving up, the time budget of %.0fs is used up", self.policy.total)
            reason = "timeout"
        except openai.APIError as exc:  # retries used up, or another status
            log.warning("llm summary: giving up (%s %s)", type(exc).__name__, _status(exc))
            reason = "unavailable"
        except Exception:  # never an exception to the owner
            log.exception("llm summary: unexpected error")
            reason = "unavailable"
        self._log_done(run, fallback=True, reason=reason)
        notice = prompts.say(coach.language, "llm", f"notice.{reason}")
        return Written(report=coach.model_copy(update={"notice": notice}), usage=run.usage(), calls=run.calls, fallback=True)

    # -- internals -------------------------------------------------------------
    async def _write(self, journey: JourneyView, coach: Report, run: _Run) -> Reading:
        async with openai.AsyncOpenAI(api_key=self._api_key, base_url=self.base_url, max_retries=0, timeout=self.timeout) as client:
            try:
                return await self._ask(client, lambda mode: build_messages(journey, coach, mode), journey, coach, run)
            except InvalidReply as bad:
                if bad.reason not in ("invalid", "language"):
                    raise
                log.info("llm summary: reply unusable (%s); one repair attempt", bad.reason)
                rejected = bad  # the name of an except clause is unbound after it; the repair keeps its own
                return await self._ask(client, lambda mode: repair_messages(build_messages(journey, coach, mode), rejected, coach.language), journey, coach, run)

    async def _ask(
        self, client: openai.AsyncOpenAI, build: Callable[[Mode], list[dict[str, str]]], journey: JourneyView, coach: Report, run: _Run
    ) -> Reading:
        """One call (with retries). A refused response format steps the mode down and asks again; a
        "context length exceeded" that names the window is asked again once with room for the reply."""
        known_prompt: int | None = None  # the server's count of this prompt, once a "too long" answer gave it
        while True:
            messages = build(self.mode)
            prompt = max(estimate_messages(messages, run.lang), known_prompt or 0)
            max_tokens = self.budget.output_tokens(prompt)
            if max_tokens is None:
                raise ContextTooSmall()
            try:
                content = await self._with_retries(client, messages, max_tokens, run)
            except FormatRejected:
                nxt = MODES.index(self.mode) + 1
                if nxt >= len(MODES):
                    raise
                log.warning("llm summary: server refused response_format %s; using %s from now on", self.mode, MODES[nxt])
                self.mode = MODES[nxt]
                continue
            except openai.BadRequestError as exc:
                text = _message(exc)
                if not is_context_error(text):
                    raise
                window, counted = window_from_error(text), prompt_from_error(text)
                if window is not None:
                    self.budget.window = window
                known_prompt = counted or known_prompt
                again = self.budget.output_tokens(max(prompt, known_prompt or 0))
                if window is None or again is None or again >= max_tokens:
                    raise ContextTooSmall() from exc
                log.warning("llm summary: the server's context window is %d tokens; asking again within it", window)
                continue
            try:
                return read_reply(content, journey, coach)
            except Unusable as exc:
                raise InvalidReply(exc.errors, content, reason=exc.reason) from None

    async def _with_retries(self, client: openai.AsyncOpenAI, messages: list[dict[str, str]], max_tokens: int, run: _Run) -> str:
        policy = self.policy
        remaining = policy.total - (time.monotonic() - run.started)
        if remaining <= 0:
            raise OutOfTime()

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait = state.upcoming_sleep
            run.waits.append(wait)
            log.warning("llm attempt %d failed: status=%s error=%s; retrying in %.2fs", run.calls, _status(exc), type(exc).__name__ if exc else "-", wait)

        retrying = AsyncRetrying(
            sleep=self.sleep,
            stop=stop_after_attempt(policy.attempts) | stop_before_delay(remaining),
            wait=_Wait(policy),
            retry=retry_if_exception(lambda e: isinstance(e, RETRYABLE)),
            before_sleep=before_sleep,
            reraise=True,
        )
        deadline = run.started + policy.total
        async for attempt in retrying:
            with attempt:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise OutOfTime()
                return await self._attempt(client, messages, max_tokens, run, min(self.timeout, left))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(self, client: openai.AsyncOpenAI, messages: list[dict[str, str]], max_tokens: int, run: _Run, timeout: float) -> str:
        run.calls += 1
        mode = self.mode
        began = time.monotonic()
        status = "200"
        try:
            reply = await self._stream(client, messages, mode, max_tokens, timeout)
            self._count(run, messages, reply)
            if reply.refusal:
                status = "200 refused"
                raise InvalidReply("- the model refused", None, reason="refused")
            if reply.finish_reason == "length":
                status = "200 cut off"
                raise InvalidReply("- the reply was cut off (too long): write shorter texts", reply.content)
            if reply.finish_reason is None:
                status = "200 broken off"
                raise StreamCut()
            return reply.content
        except openai.APIStatusError as exc:
            status = _status(exc)
            if exc.status_code in (400, 422, 500) and names_format(exc):
                raise FormatRejected(mode) from exc
            raise
        except openai.APIError as exc:
            status = _status(exc)
            if names_format(exc):
                raise FormatRejected(mode) from exc
            raise
        except AttemptTimeout:
            status = "timeout"
            raise
        finally:
            log.info("llm attempt %d: mode=%s status=%s max_tokens=%d elapsed=%.2fs", run.calls, mode, status, max_tokens, time.monotonic() - began)

    async def _stream(self, client: openai.AsyncOpenAI, messages: list[dict[str, str]], mode: Mode, max_tokens: int, timeout: float) -> _Reply:
        """One streamed request, read to its end or cut off when `timeout` is up (the connection is closed)."""
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "timeout": httpx.Timeout(timeout, connect=min(10.0, timeout)),
        }
        kwargs["max_completion_tokens" if self.openai_proper else "max_tokens"] = max_tokens
        if (fmt := response_format(mode)) is not None:
            kwargs["response_format"] = fmt
        reply = _Reply()
        parts: list[str] = []
        stream: Any = None
        try:
            async with asyncio.timeout(timeout):
                stream = await client.chat.completions.create(**kwargs)
                async for chunk in stream:
                    if getattr(chunk, "usage", None) is not None:
                        reply.usage = {"prompt_tokens": chunk.usage.prompt_tokens or 0, "completion_tokens": chunk.usage.completion_tokens or 0}
                    for choice in chunk.choices or ():
                        delta = choice.delta
                        if delta is not None and delta.content:
                            parts.append(delta.content)
                        if delta is not None and getattr(delta, "refusal", None):
                            reply.refusal += delta.refusal
                        if choice.finish_reason:
                            reply.finish_reason = choice.finish_reason
        except TimeoutError:
            raise AttemptTimeout() from None
        finally:
            if stream is not None:
                await stream.close()  # an abandoned request: closing the connection stops the server
        reply.content = "".join(parts)
        return reply

    def _count(self, run: _Run, messages: list[dict[str, str]], reply: _Reply) -> None:
        """Tokens from the server's usage; journeybot's per-language estimate when it sends none."""
        if reply.usage and (reply.usage["prompt_tokens"] or reply.usage["completion_tokens"]):
            run.prompt_tokens += reply.usage["prompt_tokens"]
            run.completion_tokens += reply.usage["completion_tokens"]
            run.last_prompt_tokens = reply.usage["prompt_tokens"]
            return
        run.estimated = True
        run.prompt_tokens += estimate_messages(messages, run.lang)
        run.completion_tokens += estimate_tokens(reply.content, run.lang)

    def _log_done(self, run: _Run, *, fallback: bool, reason: str = "", dropped: Mapping[str, int] | None = None) -> None:
        kept = ""
        if dropped:
            kept = " replaced=" + ",".join(f"{why.replace(' ', '_')}:{n}" for why, n in sorted(dropped.items()))
        log.info(
            "llm summary: model=%s mode=%s calls=%d prompt_tokens=%d completion_tokens=%d%s elapsed=%.2fs fallback=%s%s%s",
            self.model,
            self.mode,
            run.calls,
            run.prompt_tokens,
            run.completion_tokens,
            " (estimated)" if run.estimated else "",
            time.monotonic() - run.started,
            fallback,
            f" reason={reason}" if reason else "",
            kept,
        )


def _message(exc: BaseException) -> str:
    parts = [str(getattr(exc, "code", "") or ""), str(getattr(exc, "param", "") or ""), str(getattr(exc, "message", "") or "")]
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        parts.append(str(body.get("message") or ""))
    return " ".join(parts)


def names_format(exc: BaseException) -> bool:
    """Does this error say the server does not take the response format we asked for?"""
    text = _message(exc).lower()
    return any(word in text for word in _FORMAT_WORDS)


def authorship_notice(report: Report) -> str:
    """One line: which parts the model worded and that the rest is the coach's."""
    authors = report.authors
    if authors is None:
        return ""
    lang = report.language
    parts = []
    if authors.summary:
        parts.append(prompts.say(lang, "llm", "parts.story"))
    cards, ideas = sum(authors.improvements), sum(authors.wow_moments)
    if cards:
        parts.append(prompts.say(lang, "llm", "parts.improvements", n=cards, count=len(authors.improvements)))
    if ideas:
        parts.append(prompts.say(lang, "llm", "parts.wow", n=ideas, count=len(authors.wow_moments)))
    locale = {"nl": "nl_NL", "en": "en_GB"}.get(lang, "en_GB")
    line = prompts.say(lang, "llm", "written_by", parts=format_list(parts, locale=locale))
    if authors.replaced:
        line += " " + prompts.say(lang, "llm", "replaced", count=authors.replaced)
    return line
