"""The LLM summary writer: the one module in `bot/` that does I/O (HTTP to an OpenAI-compatible server).

One summary is one chat-completions call asking for JSON that matches `LLMReport`:
`chat.completions.parse` with a strict `json_schema` response format, or, when the server
answers 400 to that, `json_object` and then plain text, validated here. A reply that fails
validation gets ONE repair call (the validation errors are sent back); after that, or when
the server stays down, the offline coach's report is the result (`fallback=True`, with a
one-line notice from `prompts/<lang>/llm.yaml`). `write()` never raises for API trouble.

Retries (tenacity): 429 (honouring Retry-After, capped), 5xx, timeouts and connection
errors, with exponential backoff and jitter, a cap on attempts and on total time. The
client's own `max_retries` is 0 so retries are not stacked. 400/401/403/404/422 are not
retried. Every attempt is logged with its number, status and wait; never the API key,
never the answers or the model's text.

The reply is data: it is cut to `BOUNDS` (at most 8 paragraphs of 600 characters, 10 improvements
with 3 remedies each, 6 WOW moments, 12 calendar rows; other texts of at most 400 characters, titles,
names and costs of at most 120) before it is used, and what is dropped is counted in one log line,
never quoted.

What is sent: the system prompt (`prompts/llm/summary.v1.md` + the language guidance),
the owner's answers as a JSON document and the coach's findings (improvements, WOW ideas,
mistakes check, calendar; no dates, no ids, no platform user ids).
"""
from __future__ import annotations

import asyncio
import email.utils
import hashlib
import json
import logging
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from string import Template
from typing import Any, Awaitable, Callable, Literal, Mapping

import openai
from pydantic import BaseModel, ValidationError, model_validator
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, stop_before_delay, wait_exponential_jitter

import prompts
from bot.journey import JourneyView
from bot.report import CalendarRow, Improvement, MistakeCheck, Report, WowMoment
from bot.writer import Usage, Written, answers_hash

log = logging.getLogger(__name__)

PROMPT_VERSION = "summary.v1"
DEFAULT_MODEL = "gpt-4.1-mini"
DEFAULT_TIMEOUT = 30.0  # seconds per HTTP attempt
DEFAULT_TOTAL = 60.0  # seconds for the whole summary, retries and repair included
MAX_COMPLETION_TOKENS = 4000
REPAIR_CONTENT_LIMIT = 12_000  # characters of the bad reply sent back for repair

Mode = Literal["json_schema", "json_object", "plain"]
MODES: tuple[Mode, ...] = ("json_schema", "json_object", "plain")
RETRYABLE = (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError)  # APITimeoutError is an APIConnectionError
OFF_WORDS = ("off", "0", "false", "no", "coach")


# -- the model's answer ---------------------------------------------------------------


class LLMReport(BaseModel):
    """What the model writes. Language, dates and the open questions come from the coach."""

    summary: list[str]
    improvements: list[Improvement]
    wow_moments: list[WowMoment]
    calendar: list[CalendarRow]
    mistakes: list[MistakeCheck]

    @model_validator(mode="after")
    def _complete(self) -> "LLMReport":
        problems = []
        if not [p for p in self.summary if p.strip()]:
            problems.append("summary must have at least one paragraph")
        if not self.improvements:
            problems.append("improvements must not be empty")
        if not self.wow_moments:
            problems.append("wow_moments must not be empty")
        if sorted(m.number for m in self.mistakes) != list(range(1, 8)):
            problems.append("mistakes must have exactly seven items numbered 1 to 7")
        if problems:
            raise ValueError("; ".join(problems))
        return self


@dataclass(frozen=True)
class Bounds:
    """How much of a model's reply is used: a huge reply must not become dozens of messages or
    hundreds of to-dos (every improvement and WOW idea becomes one)."""

    paragraphs: int = 8  # the offline coach writes seven
    improvements: int = 10
    actions: int = 3  # remedies per improvement, as the coach gives
    wow_moments: int = 6
    calendar: int = 12
    paragraph: int = 600  # a paragraph of the summary
    text: int = 400  # a why, an idea, a remedy, a note, a quote (the coach's longest are under 300)
    title: int = 120  # a title, and a step, stage, touchpoint, channel, cost, date or id


BOUNDS = Bounds()
_SHORT_FIELDS = frozenset({"title", "step", "stage", "touchpoint", "channel", "cost", "when", "ref"})


@dataclass
class _Cuts:
    """What `bounded` dropped or shortened, counted (never the texts themselves)."""

    dropped: dict[str, int] = field(default_factory=dict)
    shortened: int = 0

    def drop(self, what: str, items: list[Any], limit: int) -> list[Any]:
        if len(items) > limit:
            self.dropped[what] = self.dropped.get(what, 0) + len(items) - limit
        return items[:limit]

    def text(self, value: str, limit: int) -> str:
        if len(value) <= limit:
            return value
        self.shortened += 1
        cut = value[: limit - 1]
        space = cut.rfind(" ")
        if space >= limit // 2:  # end on a whole word
            cut = cut[:space]
        return cut.rstrip() + "…"

    def model(self, item: BaseModel, bounds: Bounds, **lists: list[Any]) -> Any:
        update: dict[str, Any] = dict(lists)
        for name in type(item).model_fields:
            value = getattr(item, name)
            if isinstance(value, str):
                update[name] = self.text(value, bounds.title if name in _SHORT_FIELDS else bounds.text)
        return item.model_copy(update=update)


def bounded(written: LLMReport, bounds: Bounds = BOUNDS) -> LLMReport:
    """The reply within `bounds`: items beyond the limits dropped, long texts cut on a word, and one
    log line saying how many (without any of the model's text)."""
    cuts = _Cuts()
    summary = [cuts.text(p, bounds.paragraph) for p in cuts.drop("paragraphs", [p for p in written.summary if p.strip()], bounds.paragraphs)]
    improvements = [
        cuts.model(i, bounds, actions=[cuts.model(a, bounds) for a in cuts.drop("remedies", list(i.actions), bounds.actions)])
        for i in cuts.drop("improvements", list(written.improvements), bounds.improvements)
    ]
    wow = [cuts.model(w, bounds) for w in cuts.drop("WOW moments", list(written.wow_moments), bounds.wow_moments)]
    calendar = [cuts.model(c, bounds) for c in cuts.drop("calendar rows", list(written.calendar), bounds.calendar)]
    mistakes = [cuts.model(m, bounds) for m in written.mistakes]
    if cuts.dropped or cuts.shortened:
        dropped = ", ".join(f"{n} {what}" for what, n in cuts.dropped.items()) or "nothing"
        log.warning("llm summary: the reply was over the limits; dropped %s; shortened %d texts", dropped, cuts.shortened)
    return written.model_copy(update={"summary": summary, "improvements": improvements, "wow_moments": wow, "calendar": calendar, "mistakes": mistakes})


class InvalidReply(Exception):
    """The reply is not a usable LLMReport. `errors` is a short, model-readable explanation."""

    def __init__(self, errors: str, content: str | None = None, reason: str = "invalid") -> None:
        super().__init__(errors)
        self.errors = errors
        self.content = content
        self.reason = reason  # invalid, refused


class OutOfTime(Exception):
    """The time budget of this summary is used up."""


class FormatRejected(Exception):
    """The server answered 400 to the response_format of this mode."""


# -- configuration -------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # HTTP attempts per call (the repair call has its own)
    total: float = DEFAULT_TOTAL  # seconds for the whole summary
    multiplier: float = 0.5  # backoff: multiplier * 2**(n-1) + jitter, at most max_wait
    max_wait: float = 8.0
    jitter: float = 0.5
    retry_after_cap: float = 20.0  # a Retry-After longer than this is cut to this


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        value = float(env.get(name, "") or default)
    except ValueError:
        log.warning("%s is not a number; using %s", name, default)
        return default
    return value if value > 0 else default


def writer_from_env(
    env: Mapping[str, str], today: Callable[[], date] = date.today, coach: Callable[[JourneyView], Report] | None = None
) -> "LLMWriter | None":
    """The LLM writer when OPENAI_API_KEY or OPENAI_BASE_URL is set and JOURNEYBOT_LLM is not off; else None.

    OPENAI_MODEL picks the model (default `gpt-4.1-mini`). JOURNEYBOT_LLM_TIMEOUT (seconds per
    attempt, default 30) and JOURNEYBOT_LLM_TOTAL (seconds per summary, default 60) bound the wait.
    """
    if env.get("JOURNEYBOT_LLM", "").strip().lower() in OFF_WORDS:
        return None
    api_key = (env.get("OPENAI_API_KEY") or "").strip()
    base_url = (env.get("OPENAI_BASE_URL") or "").strip()
    if not api_key and not base_url:
        return None
    total = _float(env, "JOURNEYBOT_LLM_TOTAL", DEFAULT_TOTAL)
    return LLMWriter(
        model=(env.get("OPENAI_MODEL") or "").strip() or DEFAULT_MODEL,
        # a local server (Ollama, vLLM, LM Studio) needs no key, but the client wants one
        api_key=api_key or "no-key",
        base_url=base_url or None,
        timeout=min(_float(env, "JOURNEYBOT_LLM_TIMEOUT", DEFAULT_TIMEOUT), total),
        policy=RetryPolicy(total=total),
        today=today,
        coach=coach,
    )


# -- the prompt ----------------------------------------------------------------------


def _prompt_file(name: str) -> str:
    return prompts.text("llm", name)


def prompt_digest() -> str:
    """A hash of every prompt file the writer sends, so an edit busts the cache even without a version bump."""
    parts = [_prompt_file(f"{PROMPT_VERSION}.md"), _prompt_file("user.v1.md"), _prompt_file("schema.v1.md"), _prompt_file("repair.v1.md")]
    parts += [_prompt_file(f"{lang}.md") for lang in prompts.LANGUAGES]
    parts.append(json.dumps(LLMReport.model_json_schema(), sort_keys=True))
    parts.append(json.dumps(asdict(BOUNDS), sort_keys=True))  # a cached summary follows the bounds too
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:16]


def quoted_json(data: Any) -> str:
    """JSON with `<`, `>` and backticks escaped, so no answer can close the <answers> block or a fence."""
    text = json.dumps(data, ensure_ascii=False, separators=(", ", ": "))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("`", "\\u0060")


def _field_entry(journey: JourneyView, key: str) -> dict[str, Any] | None:
    """One answer for the prompt; None for questions not answered or skipped (nothing to say)."""
    f = journey.fields.get(key)
    if f is None or f.status not in ("ok", "unknown"):
        return None
    answer = f.text if f.status == "ok" else prompts.say(journey.lang, "messages", "unknown_answer")
    return {"question": f.label, "answer": answer}


def answers_document(journey: JourneyView) -> dict[str, Any]:
    """The owner's answers as a plain document: question labels and readable answers, per stage."""
    stage_keys = {key for key in journey.fields if key.startswith("stage.")}
    general = [entry for key in journey.fields if key not in stage_keys and (entry := _field_entry(journey, key))]
    stages = []
    for stage in journey.stages:
        touchpoints = []
        for tp in stage.touchpoints:
            item: dict[str, Any] = {"touchpoint": tp.name}
            for name, f in (("channel", tp.channel), ("feeling_1_to_5", tp.feeling), ("pain_or_wait", tp.pain), ("owner_team", tp.team)):
                entry = _field_entry(journey, f.key)
                if entry is not None:
                    item[name] = tp.score if name == "feeling_1_to_5" and tp.score is not None else entry["answer"]
            touchpoints.append(item)
        delights = _field_entry(journey, stage.delights.key)
        stages.append({"stage": stage.name, "touchpoints": touchpoints, **({"already_delights": delights["answer"]} if delights else {})})
    return {"language": journey.lang, "title": journey.title, "answers": general, "stages": stages, "unanswered": list(journey.missing)}


def findings_document(coach: Report) -> dict[str, Any]:
    """The coach's findings, trimmed to the facts (no dates, no calendar), so the prompt depends on the answers only."""
    return {
        "improvements": [i.model_dump(mode="json", exclude={"actions": {"__all__": {"ref"}}}) for i in coach.improvements],
        "wow_ideas": [{"step": w.touchpoint or w.stage, "idea": w.idea, "why": w.why, "cost": w.cost} for w in coach.wow_moments],
        "mistakes": [{"number": m.number, "ok": m.ok, "note": m.note} for m in coach.mistakes],
    }


def language_name(lang: str) -> str:
    return {"nl": "Dutch", "en": "English"}.get(lang, "English")


def build_messages(journey: JourneyView, coach: Report, mode: Mode) -> list[dict[str, str]]:
    lang = journey.lang if journey.lang in prompts.LANGUAGES else prompts.DEFAULT_LANGUAGE
    system = _prompt_file(f"{PROMPT_VERSION}.md").rstrip() + "\n\n" + _prompt_file(f"{lang}.md").strip()
    user = Template(_prompt_file("user.v1.md")).substitute(
        answers=quoted_json(answers_document(journey)),
        findings=quoted_json(findings_document(coach)),
        language=language_name(lang),
    )
    if mode != "json_schema":  # the schema is not in the request, so it goes into the prompt
        schema = json.dumps(LLMReport.model_json_schema(), ensure_ascii=False)
        user = user.rstrip() + "\n\n" + Template(_prompt_file("schema.v1.md")).substitute(schema=schema)
    return [{"role": "system", "content": system}, {"role": "user", "content": user.strip()}]


def repair_messages(messages: list[dict[str, str]], bad: InvalidReply) -> list[dict[str, str]]:
    content = (bad.content or "")[:REPAIR_CONTENT_LIMIT]
    return [
        *messages,
        {"role": "assistant", "content": content},
        {"role": "user", "content": Template(_prompt_file("repair.v1.md")).substitute(errors=bad.errors).strip()},
    ]


# -- validation ----------------------------------------------------------------------


def _errors_text(exc: ValidationError, limit: int = 12) -> str:
    lines = []
    for err in exc.errors()[:limit]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "(top level)"
        lines.append(f"- {where}: {err.get('msg', 'invalid')}")
    if len(exc.errors()) > limit:
        lines.append(f"- … and {len(exc.errors()) - limit} more")
    return "\n".join(lines)


_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def extract_json(content: str) -> str:
    """The JSON object in a plain reply: without a code fence, from the first `{` to the last `}`."""
    match = _FENCE.match(content)
    if match:
        content = match.group(1)
    start, end = content.find("{"), content.rfind("}")
    return content[start : end + 1] if 0 <= start < end else content


def validate_content(content: str | None, mode: Mode) -> LLMReport:
    if not content or not content.strip():
        raise InvalidReply("- the reply was empty", content)
    text = content if mode == "json_schema" else extract_json(content)
    try:
        return LLMReport.model_validate_json(text)
    except ValidationError as exc:
        raise InvalidReply(_errors_text(exc), content) from None


def merge(journey: JourneyView, coach: Report, written: LLMReport, model: str) -> Report:
    """The model's texts on the coach's facts: the mistakes' verdicts, language, dates and open questions stay the coach's.
    The texts are cut to `BOUNDS` first."""
    written = bounded(written)
    verdicts = {m.number: m for m in coach.mistakes}
    mistakes = []
    for item in sorted(written.mistakes, key=lambda m: m.number):
        fact = verdicts.get(item.number)
        mistakes.append(item.model_copy(update={"ok": fact.ok, "title": fact.title}) if fact else item)
    return Report(
        language=coach.language,
        summary=[p.strip() for p in written.summary if p.strip()],
        improvements=keep_actions(coach, written.improvements),
        wow_moments=written.wow_moments,
        mistakes=mistakes,
        calendar=written.calendar,
        review_date=coach.review_date,
        missing=list(coach.missing),
        generator=f"llm:{model}",
        notice="",
    )


def keep_actions(coach: Report, written: list[Improvement]) -> list[Improvement]:
    """The model's cards with the coach's remedies where it left them out: the remedies are the advice's
    substance, so a card about a step the coach advised on never loses them."""
    by_step = {i.step: i for i in coach.improvements if i.actions}
    kept = []
    for item in written:
        source = by_step.get(item.step)
        if source is not None and not item.actions:
            item = item.model_copy(update={"actions": source.actions, "touchpoint": source.touchpoint})
        kept.append(item)
    return kept


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
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
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

    started: float = field(default_factory=time.monotonic)
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    waits: list[float] = field(default_factory=list)

    def usage(self) -> Usage | None:
        return Usage(self.prompt_tokens, self.completion_tokens) if self.calls else None


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
        self.today = today
        self._coach = coach
        self.sleep = sleep
        self.max_completion_tokens = max_completion_tokens
        self.mode: Mode = "json_schema"  # steps down (and stays down) when the server rejects a format
        self._digest = prompt_digest()

    def __repr__(self) -> str:  # no key in logs or tracebacks
        return f"LLMWriter(model={self.model!r}, base_url={self.base_url!r}, mode={self.mode!r})"

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
        run = _Run()
        reason = "unavailable"
        try:
            report = await self._write(journey, coach, run)
            written = Written(report=merge(journey, coach, report, self.model), usage=run.usage(), calls=run.calls)
            self._log_done(run, fallback=False)
            return written
        except InvalidReply as exc:
            reason = exc.reason
        except (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError) as exc:
            log.error("llm summary: the server refused our configuration (%s %s); check OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL", type(exc).__name__, _status(exc))
            reason = "misconfigured"
        except (openai.BadRequestError, openai.UnprocessableEntityError, FormatRejected) as exc:
            log.error("llm summary: the server rejected the request (%s %s)", type(exc).__name__, _status(exc.__cause__ if isinstance(exc, FormatRejected) else exc))
            reason = "misconfigured"
        except OutOfTime:
            log.warning("llm summary: giving up, the time budget of %.0fs is used up", self.policy.total)
            reason = "unavailable"
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
    async def _write(self, journey: JourneyView, coach: Report, run: _Run) -> LLMReport:
        async with openai.AsyncOpenAI(api_key=self._api_key, base_url=self.base_url, max_retries=0, timeout=self.timeout) as client:
            try:
                return await self._ask(client, lambda mode: build_messages(journey, coach, mode), run)
            except InvalidReply as bad:
                if bad.reason != "invalid":
                    raise
                log.info("llm summary: reply failed validation; one repair attempt")
                rejected = bad  # the name of an except clause is unbound after it; the repair keeps its own
                return await self._ask(client, lambda mode: repair_messages(build_messages(journey, coach, mode), rejected), run)

    async def _ask(self, client: openai.AsyncOpenAI, build: Callable[[Mode], list[dict[str, str]]], run: _Run) -> LLMReport:
        """One call (with retries). A 400 to the response format steps the mode down and asks again."""
        while True:
            try:
                return await self._with_retries(client, build(self.mode), run)
            except FormatRejected:
                nxt = MODES.index(self.mode) + 1
                if nxt >= len(MODES):
                    raise
                log.warning("llm summary: server rejected response_format %s; using %s from now on", self.mode, MODES[nxt])
                self.mode = MODES[nxt]

    async def _with_retries(self, client: openai.AsyncOpenAI, messages: list[dict[str, str]], run: _Run) -> LLMReport:
        policy = self.policy
        remaining = policy.total - (time.monotonic() - run.started)
        if remaining <= 0:
            raise OutOfTime()

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait = state.upcoming_sleep
            run.waits.append(wait)
            log.warning(
                "llm attempt %d failed: status=%s error=%s; retrying in %.2fs",
                run.calls,
                _status(exc),
                type(exc).__name__ if exc else "-",
                wait,
            )

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
                return await self._attempt(client, messages, run, max(0.1, min(self.timeout, deadline - time.monotonic())))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(self, client: openai.AsyncOpenAI, messages: list[dict[str, str]], run: _Run, timeout: float) -> LLMReport:
        run.calls += 1
        mode = self.mode
        began = time.monotonic()
        status: str = "200"
        try:
            raw = await self._request(client, messages, mode, timeout)
            status = str(raw.http_response.status_code)
            return self._read(raw, mode, run)
        except openai.BadRequestError as exc:
            status = _status(exc)
            if mode != "plain" and _is_format_rejection(exc):
                raise FormatRejected(str(exc.code or "response_format")) from exc
            raise
        except openai.APIError as exc:
            status = _status(exc)
            raise
        except InvalidReply as exc:
            status = f"200 {exc.reason}"
            raise
        finally:
            log.info(
                "llm attempt %d: mode=%s status=%s elapsed=%.2fs",
                run.calls,
                mode,
                status,
                time.monotonic() - began,
            )

    async def _request(self, client: openai.AsyncOpenAI, messages: list[dict[str, str]], mode: Mode, timeout: float) -> Any:
        common: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_completion_tokens": self.max_completion_tokens,
            "timeout": timeout,
        }
        if mode == "json_schema":
            return await client.chat.completions.with_raw_response.parse(response_format=LLMReport, **common)
        if mode == "json_object":
            return await client.chat.completions.with_raw_response.create(response_format={"type": "json_object"}, **common)
        return await client.chat.completions.with_raw_response.create(**common)

    def _read(self, raw: Any, mode: Mode, run: _Run) -> LLMReport:
        """Usage and the validated report from a 200 reply; InvalidReply when it is not usable."""
        try:
            body = raw.http_response.json()
        except ValueError:
            raise InvalidReply("- the reply was not a JSON chat completion", None) from None
        if not isinstance(body, dict) or not body.get("choices"):
            raise InvalidReply("- the reply had no choices", None)
        usage = body.get("usage") or {}
        run.prompt_tokens += int(usage.get("prompt_tokens") or 0)
        run.completion_tokens += int(usage.get("completion_tokens") or 0)
        choice = body["choices"][0] or {}
        message = choice.get("message") or {}
        content = message.get("content")
        if message.get("refusal"):
            raise InvalidReply("- the model refused", None, reason="refused")
        if choice.get("finish_reason") == "length":
            raise InvalidReply("- the reply was cut off (too long); write shorter texts", content)
        if mode == "json_schema":
            try:
                parsed = raw.parse()
                result = parsed.choices[0].message.parsed
            except ValidationError as exc:
                raise InvalidReply(_errors_text(exc), content) from None
            except (openai.OpenAIError, AttributeError, TypeError, ValueError):
                result = None
            if isinstance(result, LLMReport):
                return result
        return validate_content(content, mode)

    def _log_done(self, run: _Run, *, fallback: bool, reason: str = "") -> None:
        log.info(
            "llm summary: model=%s calls=%d prompt_tokens=%d completion_tokens=%d elapsed=%.2fs fallback=%s%s",
            self.model,
            run.calls,
            run.prompt_tokens,
            run.completion_tokens,
            time.monotonic() - run.started,
            fallback,
            f" reason={reason}" if reason else "",
        )


def _is_format_rejection(exc: openai.BadRequestError) -> bool:
    """Does this 400 say the server does not support the response format we asked for?"""
    parts = [str(getattr(exc, "code", "") or ""), str(getattr(exc, "param", "") or ""), str(getattr(exc, "message", "") or "")]
    text = " ".join(parts).lower()
    return any(word in text for word in ("response_format", "json_schema", "json_object", "structured output", "unsupported_response_format"))
