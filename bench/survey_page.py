"""Customers' submissions per second through the survey page, on SQLite and on PostgreSQL.

    .venv/bin/python -m bench.survey_page [--clients 16] [--seconds 10] [--kind sqlite|postgresql]
    .venv/bin/python -m bench.survey_page --screenshot docs/survey-page.png   # the README's picture

The page's server (handlers/web.py, as `journeybot web` runs it, with the rate limits lifted) runs in
a process of its own on loopback with a fresh database holding one scripted journey (the Dutch bakery)
and its survey link. CLIENTS aiohttp clients in this process each send complete forms (three faces
and a comment, a distinct submission key each) one after the other for SECONDS; every answer must be
the thank-you page, and the stored rows are counted afterwards. The server's CPU time (user + system,
all threads) divided by the submissions is its CPU per submission. Forms served per second (GET) are
measured the same way. Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from typing import Any

from bench.common import ROOT, database, ms, percentile, pg_reachable

OWNER = ("bench", "", "survey")
CLIENTS = 16
SECONDS = 10.0
COMMENT = "Lekkere taart, maar ophalen op zaterdag duurde lang."


def _prepare(url: str) -> str:
    """One scripted journey and its survey link in a fresh database; the link's token."""
    from app import Journeys, OwnerKey
    from devkit.drive import type_lines
    from devkit.scripts import BAKERY_NL
    from store.repository import Store

    journeys = Journeys(Store.open(url))
    try:
        owner = OwnerKey(*OWNER)
        type_lines(journeys, owner, BAKERY_NL)
        journey_id = journeys.current_journey_id(owner)
        assert journey_id is not None
        return journeys.store.survey_link(owner, journey_id).token
    finally:
        journeys.close()


def _serve(url: str) -> None:
    """The server process: `journeybot web`'s application without rate limits; prints its port."""
    from app import Journeys
    from handlers.web import serve
    from store.repository import Store

    journeys = Journeys(Store.open(url, pool_size=8))

    def started(port: int) -> None:
        print(port, flush=True)

    try:
        asyncio.run(serve(journeys, "127.0.0.1", 0, started=started, per_link=None, per_address=None))
    finally:
        journeys.close()


def _cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stored(url: str) -> int:
    from sqlalchemy import func, select

    from store.living import SurveyResponse
    from store.repository import Store

    store = Store.open(url)
    try:
        with store.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(SurveyResponse)) or 0)
    finally:
        store.close()


async def _load(base: str, token: str, clients: int, seconds: float, post: bool) -> tuple[int, list[float], int]:
    """CLIENTS clients sending forms (post) or fetching them for `seconds`: answers, latencies, failures."""
    import aiohttp

    from bot.survey_page import COMMENT as COMMENT_FIELD, SUBMISSION, field_name

    url = f"{base}/s/{token}"
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as http:
        async with http.get(url) as response:  # the questions' keys, from the page itself
            page = await response.text()
        keys = [k for k in ("overweging", "ophalen-en-proeven", "_overall") if f'name="{field_name(k)}"' in page]
        if not keys:
            raise RuntimeError("the survey page has none of the expected questions")

        async def client(n: int) -> None:
            nonlocal failures
            sent = 0
            while time.perf_counter() < deadline:
                sent += 1
                started = time.perf_counter()
                if post:
                    form = {field_name(k): str(1 + (n + sent + i) % 5) for i, k in enumerate(keys)}
                    form[COMMENT_FIELD] = COMMENT
                    form[SUBMISSION] = f"bench-{n:03d}-{sent:07d}-{os.getpid()}"
                    async with http.post(url, data=form) as response:
                        await response.read()
                        ok = response.status == 200
                else:
                    async with http.get(url, headers={"Accept-Language": "nl"}) as response:
                        await response.read()
                        ok = response.status == 200
                latencies.append(time.perf_counter() - started)
                failures += 0 if ok else 1

        await asyncio.gather(*(client(n) for n in range(clients)))
    return len(latencies), latencies, failures


def run(kinds: list[str], clients: int = CLIENTS, seconds: float = SECONDS) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for kind in kinds:
        with database(kind) as url:
            token = _prepare(url)
            env = {**os.environ, "JOURNEYBOT_LLM": "off"}
            proc = subprocess.Popen(
                [sys.executable, "-c", "import sys; from bench.survey_page import _serve; _serve(sys.argv[1])", url],
                cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
            )
            try:
                assert proc.stdout is not None
                line = proc.stdout.readline().strip()
                if not line.isdigit():
                    raise RuntimeError("the survey page server did not start")
                base = f"http://127.0.0.1:{line}"
                asyncio.run(_load(base, token, clients, 1.0, post=False))  # warm-up: imports, caches, connections
                row: dict[str, Any] = {"db": kind, "clients": clients}
                for what, post in (("get", False), ("post", True)):
                    cpu0, t0 = _cpu(proc.pid), time.perf_counter()
                    count, latencies, failures = asyncio.run(_load(base, token, clients, seconds, post))
                    elapsed, cpu = time.perf_counter() - t0, _cpu(proc.pid) - cpu0
                    row[what] = {
                        "count": count,
                        "rate": count / elapsed,
                        "p50": percentile(latencies, 50),
                        "p99": percentile(latencies, 99),
                        "cpu": cpu / max(count, 1),
                        "failures": failures,
                    }
            finally:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            row["stored"] = _stored(url)
        post = row["post"]
        print(
            f"  {kind}: {post['rate']:.0f} submissions/s (p50 {ms(post['p50'])}, p99 {ms(post['p99'])}, "
            f"{post['cpu'] * 1000:.2f} ms server CPU each; {row['stored']} stored of {post['count']}, {post['failures']} failed); "
            f"forms {row['get']['rate']:.0f}/s",
            flush=True,
        )
        rows.append(row)
    return rows


def table(rows: list[dict[str, Any]], seconds: float) -> list[str]:
    clients = rows[0]["clients"] if rows else CLIENTS
    lines = [
        "## Survey page: customers' submissions per second (bench/survey_page.py)",
        "",
        f"`journeybot web`'s server (rate limits lifted) in a process of its own on loopback; {clients} aiohttp clients in "
        f"another process, each sending complete forms (three faces, a comment, a new submission key) one after the other "
        f"for {seconds:.0f} s; then the same for fetching the form. The Dutch bakery's journey and its link in a fresh database. "
        "Server CPU is that process's user + system time per request.",
        "",
        "| database | submissions/s | p50 | p99 | server CPU per submission | stored / sent | forms served/s | form p50 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        post, get = r["post"], r["get"]
        lines.append(
            f"| {r['db']} | {post['rate']:.0f} | {ms(post['p50'])} | {ms(post['p99'])} | {post['cpu'] * 1000:.2f} ms | "
            f"{r['stored']:,} / {post['count']:,}{' (' + str(post['failures']) + ' failed)' if post['failures'] else ''} | "
            f"{get['rate']:.0f} | {ms(get['p50'])} |"
        )
    return lines


def section(quick: bool = False) -> list[str]:
    """The survey page's section of bench/results/latest.md."""
    note = pg_reachable()
    seconds = 4.0 if quick else SECONDS
    rows = run(["sqlite"] + ([] if note else ["postgresql"]), CLIENTS, seconds)
    lines = table(rows, seconds)
    if note:
        lines.append(f"| postgresql | skipped ({note}) | | | | | | |")
    return lines


def screenshot(path: str, lang: str = "nl") -> None:
    """A phone-size picture (360 px wide) of the form of the scripted bakery, some faces chosen."""
    from pathlib import Path

    from devkit.browser import chromium

    with database("sqlite") as url:
        token = _prepare(url)
        proc = subprocess.Popen(
            [sys.executable, "-c", "import sys; from bench.survey_page import _serve; _serve(sys.argv[1])", url],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )
        try:
            assert proc.stdout is not None
            port = proc.stdout.readline().strip()
            with chromium() as browser:
                context = browser.new_context(viewport={"width": 360, "height": 740}, locale=lang, device_scale_factor=2)
                page = context.new_page()
                page.goto(f"http://127.0.0.1:{port}/s/{token}")
                for label in ("q1-2", "q2-4"):
                    page.click(f'label[for="{label}"]')
                page.fill("textarea", "Sneller antwoord op WhatsApp zou fijn zijn." if lang == "nl" else "A quicker answer on WhatsApp would be nice.")
                page.evaluate("document.activeElement.blur()")
                Path(path).write_bytes(page.screenshot(full_page=True))
                context.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(15)
    print(f"written to {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="survey page submissions per second")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--kind", action="append", choices=("sqlite", "postgresql"))
    parser.add_argument("--screenshot", metavar="PNG", help="write a phone-size picture of the page instead")
    parser.add_argument("--lang", default="nl", choices=("nl", "en"))
    args = parser.parse_args(argv)
    if args.screenshot:
        screenshot(args.screenshot, args.lang)
        return 0
    kinds = args.kind or (["sqlite"] + ([] if pg_reachable() else ["postgresql"]))
    rows = run(kinds, args.clients, args.seconds)
    print()
    print("\n".join(table(rows, args.seconds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
