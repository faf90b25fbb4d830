"""The LLM writer against a real model: SmolLM2-135M-Instruct served by llama_cpp.server on loopback
(`make test-llm`; never part of `make test`). What is checked is the protocol, not the prose: the
summary is the model's (`llm:<model>`) or an announced fallback to the coach; the stored rows carry
the calls and the server's `usage`; an unchanged re-export asks the model nothing; every request fits
the context window. The figures go to bench/results/llm-local.md."""
from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

import prompts
from bot.export import inline
from bot.llm_reply import reply_schema
from devkit.scripts import B2B_EN, BAKERY_NL
from store.models import Summary
from tests.jsonl_chat import JsonlChat
from tests_llm.local_server import MODEL_ALIAS, N_CTX, CountingProxy, Exchange, LlamaServer, post_json, read_events
from tests_llm.prompt_size import count_messages, count_text, measure
from tests_llm.results import Figures, Journey, Probe

pytestmark = pytest.mark.timeout(4 * 3600)

ROOT = Path(__file__).resolve().parents[1]
WRITER = f"llm:{MODEL_ALIAS}"
PER_ATTEMPT = int(os.environ.get("JOURNEYBOT_TEST_LLM_TIMEOUT", "900"))  # seconds: a CPU writes a few tokens a second on a big model
PER_SUMMARY = int(os.environ.get("JOURNEYBOT_TEST_LLM_TOTAL", "2400"))
EXPORT_TRIES = 3
SCRIPTS = {"nl": ("Bakkerij De Korenschoof", BAKERY_NL), "en": ("Northwind IT Advisory", B2B_EN)}


def bot_env(proxy: CountingProxy, db_url: str, user: str) -> dict[str, str]:
    return {
        "DATABASE_URL": db_url,
        "JOURNEYBOT_USER": user,
        "OPENAI_BASE_URL": proxy.base,
        "OPENAI_API_KEY": "",
        "OPENAI_MODEL": MODEL_ALIAS,
        "JOURNEYBOT_LLM": "on",
        "JOURNEYBOT_LLM_TIMEOUT": str(PER_ATTEMPT),
        "JOURNEYBOT_LLM_TOTAL": str(PER_SUMMARY),
        "JOURNEYBOT_LLM_CONTEXT": str(N_CTX),
    }


def journeybot(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ)
    full.update(env)
    return subprocess.run(
        [sys.executable, "-m", "handlers.cli", *args], env=full, cwd=str(ROOT), capture_output=True, text=True, timeout=PER_SUMMARY + 300
    )


def summary_rows(db_url: str) -> list[Summary]:
    engine = create_engine(db_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            return list(session.scalars(select(Summary).order_by(Summary.id)).all())
    finally:
        engine.dispose()


def stats_row(output: str) -> list[int]:
    """summaries, calls, prompt tokens, completion tokens, fallbacks of the model's line of `journeybot stats`."""
    for line in output.splitlines():
        cells = line.split()
        if cells and cells[0] == WRITER:
            return [int(c) for c in cells[1:]]
    raise AssertionError(f"no {WRITER} line in `journeybot stats`:\n{output}")


def window_problems(exchanges: list[Exchange], model_path: Path) -> list[str]:
    """What is wrong with the chat requests the bot sent: no output limit, prompt + that limit over the
    window, a 200 without usage, or more tokens written than asked."""
    problems = []
    for n, e in enumerate(exchanges, start=1):
        asked = e.max_tokens
        if asked is None:
            problems.append(f"request {n}: no max_tokens or max_completion_tokens")
            continue
        prompt = int(e.usage.get("prompt_tokens") or 0) or count_messages(str(model_path), e.body.get("messages") or [])
        if prompt + asked > N_CTX:
            problems.append(f"request {n} ({e.response_format}): prompt {prompt} + asked {asked} tokens > the window of {N_CTX}")
        if e.status == 200:
            if not e.usage.get("prompt_tokens") and not e.streamed:  # llama_cpp.server sends no usage in a stream
                problems.append(f"request {n}: a 200 answer without usage")
            completion = int(e.usage.get("completion_tokens") or 0)
            # llama_cpp.server reads `max_tokens` only; a request that gives only `max_completion_tokens` is not limited
            if completion > asked:
                sent = sorted(k for k in e.body if "max" in k)
                problems.append(f"request {n}: the server wrote {completion} tokens where {asked} were asked (limit fields sent: {sent})")
    return problems


def parts_kept(report: dict[str, Any]) -> str:
    """Which parts of the shown report the model worded and which the coach wrote, from the report's own record."""
    authors = report.get("authors")
    if report.get("generator") != WRITER or not authors:
        return "the coach wrote everything."
    cards = authors.get("improvements") or []
    wow = authors.get("wow_moments") or []
    return (
        f"the story by {'the model' if authors.get('summary') else 'the coach'}; improvement cards worded by the model {sum(cards)} of {len(cards)}, "
        f"WOW ideas {sum(wow)} of {len(wow)}; pieces of the reply replaced by the coach's: {authors.get('replaced', 0)}."
    )


def test_prompt_of_a_big_journey_with_the_real_tokenizer(server: LlamaServer, figures: Figures) -> None:
    for lang in ("en", "nl"):
        sizes, schema_tokens = measure(server.model, lang)
        figures.prompt_sizes += sizes
        figures.schema_tokens = schema_tokens
    too_big = [f"{s.lang} {s.mode}: {s.tokens} tokens" for s in figures.prompt_sizes if s.tokens >= N_CTX]
    # the same tokenizer as the server's: its /extras/tokenize/count agrees on a sample
    sample = "Bakkerij De Korenschoof: een bruidstaart bestellen, wacht 20 minuten aan de toonbank."
    status, answer = post_json(f"{server.base}/extras/tokenize/count", {"input": sample})
    assert status == 200 and answer["count"] == count_text(str(server.model), sample)
    assert not too_big, f"the prompt of a 6x24 journey does not fit the window of {N_CTX} tokens: {too_big}"


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_scripted_journey_with_the_model(lang: str, server: LlamaServer, proxy: CountingProxy, figures: Figures, tmp_path: Path) -> None:
    business, script = SCRIPTS[lang]
    db_url = f"sqlite:///{tmp_path / 'journeybot.db'}"
    env = bot_env(proxy, db_url, f"llm-{lang}")
    chat = JsonlChat(db_url, tmp_path, user=f"llm-{lang}", extra_env=env)
    try:
        for line in script[:-1]:
            turn = chat.send(line)
            assert turn and not any(t["type"] == "error" for t in turn), (line, turn)
        mark = proxy.mark()
        started = time.monotonic()
        assert chat.proc.stdin is not None
        chat.proc.stdin.write(script[-1] + "\n")
        chat.proc.stdin.flush()
        turns = chat.read_turn(timeout=PER_SUMMARY + 120)
        seconds = time.monotonic() - started
    finally:
        assert chat.close() == 0
    types = [t["type"] for t in turns]
    assert "done" in types and "summary" in types, types
    report = next(t for t in turns if t["type"] == "summary")["report"]
    calls = proxy.chat(mark)
    assert calls, "the summary asked the model nothing"
    problems = window_problems(calls, server.model)

    journey = Journey(lang=lang, business=business, generator=report["generator"], notice=report["notice"], summary_seconds=seconds)
    journey.calls = len(calls)
    journey.model_seconds = sum(e.seconds for e in calls)
    journey.statuses = [str(e.status) + (" (bot gone)" if e.client_gone else "") for e in calls]
    journey.formats = [e.response_format for e in calls]
    journey.max_asked = [e.max_tokens for e in calls]
    journey.finish = [e.finish_reason for e in calls]
    answered = [e for e in calls if e.status == 200 and not e.client_gone]
    real_prompt = sum(int(e.usage.get("prompt_tokens") or 0) or count_messages(str(server.model), e.body["messages"]) for e in answered)
    real_completion = sum(int(e.usage.get("completion_tokens") or 0) or count_text(str(server.model), e.content) for e in answered)
    journey.usage_from_server = all(e.usage.get("prompt_tokens") for e in answered)
    journey.prompt_tokens, journey.completion_tokens = real_prompt, real_completion
    journey.parts = parts_kept(report)
    journey.problems = problems
    figures.journeys.append(journey)

    # the summary shown: the model's, or the coach's with one of the notices in the owner's language
    model_wrote = report["generator"] == WRITER
    if model_wrote:  # with the record of who wrote what, told to the owner
        assert report["authors"] and report["authors"]["model"] == MODEL_ALIAS and report["notice"], report.get("authors")
    else:
        assert report["generator"] == "coach", report["generator"]
        notices = {prompts.say(lang, "llm", f"notice.{reason}") for reason in prompts.load(lang, "llm")["notice"]}
        assert report["notice"] in notices, report["notice"]

    # the stored row: which writer, the calls and the server's usage
    rows = summary_rows(db_url)
    assert len(rows) == 1, [r.generator for r in rows]
    row = rows[0]
    assert row.generator == (WRITER if model_wrote else f"{WRITER}:fallback") and row.fallback is (not model_wrote)
    assert row.calls == len(calls)
    journey.stored_tokens = (row.prompt_tokens, row.completion_tokens)
    if journey.usage_from_server:  # the server's own counts, as reported
        assert journey.stored_tokens == (real_prompt, real_completion)
    elif row.prompt_tokens < real_prompt:  # the writer's estimate must err high, or a request can overflow the window
        problems.append(f"the writer estimated {row.prompt_tokens} prompt tokens where the model's tokenizer counts {real_prompt}")

    # exports (a summary the coach wrote is not cached, so an export asks the model again, up to
    # EXPORT_TRIES times until the model's summary is stored), then one unchanged re-export
    export_calls: list[Exchange] = []
    markdown = ""
    for n in range(1, EXPORT_TRIES + 1):
        out = tmp_path / f"export-{n}.md"
        mark = proxy.mark()
        done = journeybot(["export", "--format", "md", "-o", str(out)], env)
        assert done.returncode == 0, done.stderr
        asked = proxy.chat(mark)
        export_calls += asked
        problems += window_problems(asked, server.model)
        markdown = out.read_text(encoding="utf-8")
        latest = summary_rows(db_url)[-1]
        if model_wrote:
            assert not asked, "the export asked the model again for a summary it had written"
        if not latest.fallback:  # the model's texts are in the file
            assert f"({WRITER})" in markdown
            for paragraph in latest.content["summary"]:
                assert inline(paragraph) in markdown
            journey.export_generator = f"{WRITER} (export {n})"
            if not model_wrote:
                journey.parts += f" The summary the model wrote at export {n}: {parts_kept(latest.content)}"
            break
        assert latest.content["notice"] and inline(latest.content["notice"]) in markdown  # the coach's, announced
        journey.export_generator = f"coach (export {n})"
    journey.export_calls = len(export_calls)

    mark = proxy.mark()
    again = journeybot(["export", "--format", "md", "-o", str(tmp_path / "again.md")], env)
    assert again.returncode == 0, again.stderr
    reexport_calls = proxy.chat(mark)
    journey.reexport_calls = len(reexport_calls)
    if any(not r.fallback for r in summary_rows(db_url)):
        assert not reexport_calls, f"an unchanged re-export asked the model {len(reexport_calls)} times"
        assert (tmp_path / "again.md").read_text(encoding="utf-8") == markdown
    else:
        journey.problems_note = f"the model's reply was unusable in all {1 + EXPORT_TRIES} summaries, so no re-export could be served from the cache"

    # `journeybot stats` adds up the same calls and tokens
    stats = journeybot(["stats"], env)
    assert stats.returncode == 0, stats.stderr
    summaries, stat_calls, prompt_tokens, completion_tokens, fallbacks = stats_row(stats.stdout)
    every = calls + export_calls + reexport_calls
    stored = [r for r in summary_rows(db_url)]
    assert stat_calls == len(every) == sum(r.calls for r in stored)
    assert (prompt_tokens, completion_tokens) == (sum(r.prompt_tokens for r in stored), sum(r.completion_tokens for r in stored))
    journey.stored = [f"`{r.generator}` {r.calls} calls, {r.prompt_tokens}+{r.completion_tokens} tokens" for r in stored]
    assert summaries == len(journey.stored) and fallbacks == sum(1 for r in summary_rows(db_url) if r.fallback)
    assert not problems, "\n".join(problems)


# -- what the server answers (for bot/llm_writer.py) ---------------------------------------------


def _chat(server: LlamaServer, body: dict[str, Any], timeout: float = 600) -> tuple[int, Any, float]:
    started = time.monotonic()
    status, answer = post_json(f"{server.base}/v1/chat/completions", {"model": MODEL_ALIAS, **body}, timeout=timeout)
    return status, answer, time.monotonic() - started


def _short(answer: Any, limit: int = 260) -> str:
    text = json.dumps(answer, ensure_ascii=False) if not isinstance(answer, str) else answer
    return text[:limit] + ("…" if len(text) > limit else "")


def _content(answer: Any) -> str:
    return str(answer["choices"][0]["message"]["content"] or "")


def _padding(server: LlamaServer, tokens: int) -> list[dict[str, str]]:
    """A user message whose chat prompt is about `tokens` tokens long."""
    unit = "The bakery sells bread, cakes and coffee to the people of the village every morning. "
    per = max(1, count_messages(str(server.model), [{"role": "user", "content": unit * 100}]) // 100)
    messages = [{"role": "user", "content": unit * (tokens // per)}]
    while count_messages(str(server.model), messages) > tokens:
        messages[0]["content"] = messages[0]["content"][: -len(unit)]
    return messages


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _abandoned(server: LlamaServer, body: dict[str, Any], after: float, window: float = 3.0) -> tuple[float, float]:
    """Send a request and close the connection after `after` seconds (after the first chunks when
    streaming). Then: the server's CPU use (cores) over the next `window` seconds, with no other
    request in flight (a new request would interrupt a stream by itself), and how long a one-token
    request then waits."""
    host, port = server.base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=after)
    conn.request("POST", "/v1/chat/completions", json.dumps({"model": MODEL_ALIAS, **body}), {"Content-Type": "application/json"})
    try:
        response = conn.getresponse()
        if body.get("stream"):
            response.read(200)  # the first chunks arrived: generation is under way
    except TimeoutError:
        pass
    conn.close()
    time.sleep(0.5)
    before = _cpu_seconds(server.process.pid)
    time.sleep(window)
    busy = (_cpu_seconds(server.process.pid) - before) / window
    _, _, waited = _chat(server, {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1})
    return busy, waited


def _streamed_usage(server: LlamaServer, body: dict[str, Any]) -> Any:
    host, port = server.base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=300)
    conn.request("POST", "/v1/chat/completions", json.dumps({"model": MODEL_ALIAS, **body}), {"Content-Type": "application/json"})
    events = read_events(conn.getresponse().read())
    conn.close()
    return events["usage"]


def _interrupted_stream(server: LlamaServer, body: dict[str, Any]) -> dict[str, Any]:
    """A stream under way, then another request: what the stream's client receives."""
    host, port = server.base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=300)
    conn.request("POST", "/v1/chat/completions", json.dumps({"model": MODEL_ALIAS, **body}), {"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read(200)
    other = threading.Thread(target=_chat, args=(server, {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1}))
    other.start()
    try:
        data += response.read()
    except http.client.IncompleteRead as exc:  # the server closes the connection without ending the body
        data += exc.partial
    other.join()
    conn.close()
    return read_events(data)


def test_what_the_server_answers(server: LlamaServer, figures: Figures) -> None:
    probes = figures.probes
    hello = [{"role": "user", "content": "Give the name of a bakery as JSON."}]
    small = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}

    status, answer, _ = _chat(server, {"messages": hello, "max_tokens": 40, "response_format": {"type": "json_schema", "json_schema": {"name": "x", "strict": True, "schema": small}}})
    probes.append(Probe("`response_format={type: json_schema, json_schema: …}`", str(status), _short(answer), "FastAPI's validation error, wrapped as a 500 by the server's error handler"))
    assert status == 500 and answer["error"]["type"] == "internal_server_error" and "json_object" in answer["error"]["message"]

    status, answer, seconds = _chat(server, {"messages": hello, "max_tokens": 60, "response_format": {"type": "json_object", "schema": small}})
    probes.append(Probe("`response_format={type: json_object, schema: {small}}`", str(status), _short(_content(answer) if status == 200 else answer), f"grammar from the schema; {seconds:.1f}s"))
    assert status == 200 and _content(answer).lstrip().startswith("{")  # the grammar holds it to JSON
    if answer["choices"][0]["finish_reason"] == "stop":
        assert "name" in json.loads(_content(answer))

    schema = reply_schema(described=False)
    status, answer, seconds = _chat(
        server, {"messages": hello, "max_tokens": 300, "response_format": {"type": "json_object", "schema": schema}}
    )
    probes.append(Probe("`json_object` + the writer's reply schema, max_tokens 300", str(status), _short(_content(answer) if status == 200 else answer), f"finish_reason {answer['choices'][0]['finish_reason'] if status == 200 else '—'}; {seconds:.1f}s"))
    assert status == 200

    status, answer, _ = _chat(server, {"messages": [{"role": "user", "content": "Count from 1 to 100."}], "max_completion_tokens": 5})
    used = answer["usage"]["completion_tokens"] if status == 200 else None
    probes.append(Probe("`max_completion_tokens: 5` (no `max_tokens`)", str(status), f"completion_tokens {used}", "ignored: the request model has `max_tokens` only, so generation runs until EOS or the window"))
    assert status == 200

    over = _padding(server, N_CTX + 200)
    status, answer, _ = _chat(server, {"messages": over, "max_tokens": 100})
    probes.append(Probe(f"prompt over the window ({count_messages(str(server.model), over)} tokens), max_tokens 100", str(status), _short(answer, 400), ""))
    assert status == 400 and answer["error"]["code"] == "context_length_exceeded"

    status, answer, seconds = _chat(server, {"messages": hello, "max_tokens": 100_000})
    got = answer.get("usage", {}) if status == 200 else {}
    probes.append(
        Probe(
            f"prompt {got.get('prompt_tokens', '?')} + max_tokens 100000 > {N_CTX}",
            str(status),
            f"usage {got}, finish_reason {answer['choices'][0]['finish_reason'] if status == 200 else '—'}",
            f"no error: the limit is cut to the window's rest (llama.py `_create_completion`); {seconds:.1f}s",
        )
    )
    assert status == 200 and got["prompt_tokens"] + got["completion_tokens"] <= N_CTX

    usage = _streamed_usage(server, {"messages": hello, "max_tokens": 20, "stream": True, "stream_options": {"include_usage": True}})
    probes.append(Probe("`stream: true, stream_options: {include_usage: true}`", "200", f"usage in the stream: {usage}", "the stream's chunks carry no `usage`: a client must count or estimate"))

    story = [{"role": "user", "content": "Write a long story about a bakery."}]
    _, _, alone = _chat(server, {"messages": story, "max_tokens": 400, "min_tokens": 400})
    tokens = max(400, min(4000, int(400 * 15 / max(alone, 0.1))))  # about 15 s of generation, however busy the machine
    busy, waited = _abandoned(server, {"messages": story, "max_tokens": tokens, "min_tokens": tokens}, after=1.0)
    probes.append(
        Probe(
            f"non-streaming request ({tokens} tokens, about {alone * tokens / 400:.0f}s alone), client gone after 1 s",
            "—",
            f"server CPU afterwards {busy:.2f} cores; a 1-token request then waited {waited:.1f}s",
            "generation goes on to the end: `run_in_threadpool(llama.create_chat_completion)` is not cancelled on disconnect, and holds the model lock",
        )
    )
    busy_stream, waited_stream = _abandoned(server, {"messages": story, "max_tokens": 400, "min_tokens": 400, "stream": True}, after=30.0)
    probes.append(
        Probe(
            "streaming request, client gone after the first chunks",
            "—",
            f"server CPU afterwards {busy_stream:.2f} cores; a 1-token request then waited {waited_stream:.1f}s",
            "generation stops: the event publisher checks `request.is_disconnected()` after every chunk",
        )
    )
    cut = _interrupted_stream(server, {"messages": story, "max_tokens": 400, "min_tokens": 400, "stream": True})
    probes.append(
        Probe(
            "a stream, and a second request arriving while it runs",
            "200",
            f"the stream ends after {cut['chunks']} chunks with data: [DONE], finish_reason {cut['choices'][0]['finish_reason']}, then the connection closes mid-body",
            "`interrupt_requests` (on by default): the running stream is cut for the newcomer; a client must treat a stream without a finish_reason as cut off (or run the server with `--interrupt_requests false`)",
        )
    )
    assert busy > 0.5 and waited > 1.0, "the server stopped an abandoned non-streaming request"
    assert busy_stream < 0.3, "the server kept generating for a closed stream"
