"""The survey page customers answer on, through the real aiohttp server on loopback and the real store
(SQLite and PostgreSQL): filled in and sent in a real headless Chromium at phone size, in Dutch and
English; the refusals (404, 410, 400, 413, 429) store nothing; a submission key sent twice is stored
once; everything the owner or the customer typed is escaped; /forget removes the answers; the page is
also served by `journeybot web`, the Telegram webhook server and Slack's HTTP server."""
from __future__ import annotations

import asyncio
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from html import escape
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlencode

import pytest
from aiohttp import web
from sqlalchemy import select

import prompts
from app import Journeys, OwnerKey
from app.survey_page import clean_comment
from bot.events import Command, Text
from bot.survey_page import page_language
from devkit.browser import chromium, require_browser, visit, visit_html
from devkit.drive import type_lines
from devkit.fakes.telegram_fixtures import fake_telegram  # noqa: F401  (the fixture)
from devkit.scripts import B2B_EN, BAKERY_NL
from handlers.web import HEADERS, RateLimit, web_application
from store.living import SurveyLink, SurveyResponse
from store.repository import Store

ROOT = Path(__file__).resolve().parent.parent
ANN = OwnerKey("telegram", "", "1")
BOB = OwnerKey("telegram", "", "2")
MARKUP_NAME = 'Northwind <i>IT</i> & "Advisory" <script>alert(1)</script>'
VIEWPORT = (360, 740)


# ---------------------------------------------------------------------------- the server and the store
class LiveServer:
    """`journeybot web`'s application on 127.0.0.1 (a free port), in a thread with its own event loop."""

    def __init__(self, journeys: Journeys, **options: Any) -> None:
        self.journeys = journeys
        self.options = options
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        runner = web.AppRunner(web_application(self.journeys, **self.options), access_log=None)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    def __enter__(self) -> "LiveServer":
        self._thread.start()
        assert self._ready.wait(10), "the server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def url(self, token: str) -> str:
        return f"http://127.0.0.1:{self.port}/s/{token}"

    def request(self, method: str, token: str, body: bytes | None = None, headers: dict[str, str] | None = None, *, chunked: bool = False) -> tuple[int, http.client.HTTPMessage, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            if chunked:
                conn.request(method, f"/s/{token}", body=iter([body or b""]), headers=headers or {}, encode_chunked=True)
            else:
                conn.request(method, f"/s/{token}", body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.headers, response.read().decode("utf-8")
        finally:
            conn.close()

    def post(self, token: str, fields: dict[str, str] | list[tuple[str, str]], headers: dict[str, str] | None = None) -> tuple[int, http.client.HTTPMessage, str]:
        body = urlencode(fields).encode()
        return self.request("POST", token, body, {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})


def journey(journeys: Journeys, owner: OwnerKey, script: list[str]) -> int:
    type_lines(journeys, owner, script)
    journey_id = journeys.current_journey_id(owner)
    assert journey_id is not None
    return journey_id


def stored(journeys: Journeys, journey_id: int) -> list[tuple[dict[str, int], str | None]]:
    with journeys.store.sessions() as session:
        rows = session.execute(
            select(SurveyResponse.scores, SurveyResponse.comment).where(SurveyResponse.journey_id == journey_id).order_by(SurveyResponse.id)
        ).all()
    return [(dict(scores), comment) for scores, comment in rows]


def key_of(page: str) -> str:
    found = re.search(r'name="submission" value="([^"]+)"', page)
    assert found, "no submission key in the form"
    return found.group(1)


def say(lang: str, key: str, **values: str) -> str:
    return prompts.say(lang, "survey_page", key, **values)


@pytest.fixture
def journeys(db_url: str) -> Iterator[Journeys]:
    app = Journeys(Store.open(db_url))
    yield app
    app.close()


# ---------------------------------------------------------------------------- in a real browser
CHECKS = [
    "document.documentElement.lang",
    "document.documentElement.scrollWidth",  # no sideways scrolling at 360 px
    "document.querySelectorAll('fieldset').length",
    "[...document.querySelectorAll('fieldset')].every(f => f.querySelector('legend') && f.querySelector('legend').textContent.trim().length > 3"
    " && f.querySelectorAll('input[type=radio]').length === 5)",
    "[...document.querySelectorAll('input:not([type=hidden]), textarea')].every(i => i.labels.length === 1 && i.labels[0].textContent.trim().length > 2)",
    "[...document.querySelectorAll('input[type=radio]')].map(i => i.labels[0].textContent.trim().replace(/\\s+/g, ' '))",
    "Math.min(...[...document.querySelectorAll('.scale label, button, textarea')].map(e => { const r = e.getBoundingClientRect(); return Math.min(r.width, r.height); }))",
    "document.scripts.length + document.querySelectorAll('[onclick],[onload],[onerror]').length",
    "document.querySelector('h1').textContent",
    "document.querySelector('textarea').maxLength",
]

CONTRAST = """(() => {
  const parse = c => { const p = c.match(/[\\d.]+/g).map(Number); return [p.slice(0, 3), p.length > 3 ? p[3] : 1]; };
  const lum = c => { const [rgb] = parse(c); const [r, g, b] = rgb.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const back = el => { for (let e = el; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor; if (parse(c)[1] > 0) return c; } return 'rgb(255, 255, 255)'; };
  let worst = 99, where = '';
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.sr') || ![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const a = lum(getComputedStyle(el).color), b = lum(back(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < worst) { worst = ratio; where = el.tagName + ': ' + el.textContent.trim().slice(0, 40); }
  }
  return [worst, where];
})()"""


def fill_and_send(browser: Any, url: str, locale: str, picks: dict[int, int], comment: str) -> dict[str, Any]:
    """Open the form like a phone would (with the page's JavaScript switched off: the form needs none),
    focus a face with the keyboard, tap faces (their labels), type a comment and send; what the browser
    saw on the way."""
    seen: dict[str, Any] = {"requests": [], "console": [], "errors": []}
    context = browser.new_context(viewport={"width": VIEWPORT[0], "height": VIEWPORT[1]}, locale=locale, device_scale_factor=1, has_touch=True, java_script_enabled=False)
    try:
        page = context.new_page()
        page.on("request", lambda r: seen["requests"].append(f"{r.method} {r.url}"))
        page.on("console", lambda m: seen["console"].append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: seen["errors"].append(str(e)))
        page.goto(url, wait_until="load")
        page.keyboard.press("Tab")
        seen["focus"] = page.evaluate(
            "(() => { const e = document.activeElement; const s = getComputedStyle(e.labels[0]);"
            " return [e.type, s.outlineStyle, parseFloat(s.outlineWidth)]; })()"
        )
        for number, score in picks.items():
            page.click(f'label[for="q{number}-{score}"]')
        seen["contrast"] = page.evaluate(CONTRAST)  # with faces chosen: white on blue as well
        page.fill("textarea", comment)
        with page.expect_navigation():
            page.click("button[type=submit]")
        seen["status"] = page.evaluate("performance.getEntriesByType('navigation')[0].responseStatus")
        seen["text"] = page.inner_text("body")
        seen["lang"] = page.evaluate("document.documentElement.lang")
        seen["screenshot"] = page.screenshot(full_page=True)
    finally:
        context.close()
    return seen


def test_customers_answer_in_a_real_browser_in_dutch_and_english(journeys: Journeys) -> None:
    require_browser()
    bakery = journey(journeys, ANN, BAKERY_NL)
    northwind = journey(journeys, BOB, [MARKUP_NAME if line == "Northwind IT Advisory" else line for line in B2B_EN])
    nl_link = journeys.store.survey_link(ANN, bakery)
    en_link = journeys.store.survey_link(BOB, northwind)
    with LiveServer(journeys) as server, chromium() as browser:
        # Dutch: the browser asks for Dutch; the form as loaded, then filled in and sent
        form = visit(browser, server.url(nl_link.token), viewport=VIEWPORT, evaluate=CHECKS)
        assert form.problems == []
        lang, width, fieldsets, legends_ok, labelled, labels, smallest, scripts, heading, maxlength = form.values
        assert lang == "en"  # the browser's own language (en-US) before the journey's Dutch
        assert width <= VIEWPORT[0] and fieldsets == 4 and legends_ok and labelled and scripts == 0 and maxlength == 1000
        assert smallest >= 44  # touch targets
        assert heading == "Bakkerij De Korenschoof"

        sent = fill_and_send(browser, server.url(nl_link.token), "nl-NL", {1: 2, 2: 4, 4: 5}, "Sneller antwoorden <b>graag</b>")
        assert sent["console"] == [] and sent["errors"] == []
        assert sent["requests"] == [f"GET {server.url(nl_link.token)}", f"POST {server.url(nl_link.token)}"]  # nothing else, not even a favicon
        assert sent["focus"][0] == "radio" and sent["focus"][1] != "none" and sent["focus"][2] >= 2  # focus is visible
        assert sent["contrast"][0] >= 4.5, sent["contrast"]
        assert sent["status"] == 200 and sent["lang"] == "nl"
        assert say("nl", "thanks", business="Bakkerij De Korenschoof") in sent["text"]
        assert stored(journeys, bakery) == [({"overweging": 2, "ophalen-en-proeven": 4, "_overall": 5}, "Sneller antwoorden <b>graag</b>")]

        # English, with markup in the business's name: shown as text, never run
        sent = fill_and_send(browser, server.url(en_link.token), "en-GB", {1: 5, 2: 1}, "Quick & friendly")
        assert sent["console"] == [] and sent["errors"] == [] and sent["status"] == 200 and sent["lang"] == "en"
        assert len(sent["requests"]) == 2
        assert say("en", "thanks", business=MARKUP_NAME) in sent["text"]
        scores, comment = stored(journeys, northwind)[0]
        assert comment == "Quick & friendly" and sorted(scores.values()) == [1, 5]
        english = visit(browser, server.url(en_link.token), viewport=VIEWPORT, evaluate=CHECKS + ["document.querySelectorAll('i, script').length"])
        assert english.problems == [] and english.dialogs == []
        assert english.values[8] == MARKUP_NAME and english.values[-1] == 0
        assert english.values[5][:5] == ["1 very unhappy", "2 unhappy", "3 neither happy nor unhappy", "4 happy", "5 very happy"]
    # the owner's report puts the customers' scores next to the owner's (outside Playwright's own loop)
    check = {c.stage: c for c in asyncio.run(journeys.report(ANN, bakery)).customer_check}
    assert check["Overweging"].customers == 2.0 and check["Overweging"].responses == 1
    assert check["Ophalen en proeven"].customers == 4.0 and check[""].customers == 5.0


def test_the_language_follows_the_browser_when_it_is_dutch_or_english() -> None:
    assert page_language("nl-NL,nl;q=0.9,en;q=0.8", "en") == "nl"
    assert page_language("en-GB,en;q=0.9", "nl") == "en"
    assert page_language("de-DE,de;q=0.9,en;q=0.5,nl;q=0.4", "nl") == "en"  # the higher of the two
    assert page_language("fr-FR,fr;q=0.9", "nl") == "nl"  # neither: the journey's language
    assert page_language("nl;q=0, en;q=0", "nl") == "nl"
    assert page_language(None, None) == "en" and page_language("*", "xx") == "en"


# ---------------------------------------------------------------------------- refusals store nothing
def test_unknown_closed_duplicate_bad_and_huge_submissions(journeys: Journeys) -> None:
    bakery = journey(journeys, ANN, BAKERY_NL)
    token = journeys.store.survey_link(ANN, bakery).token
    nl = {"Accept-Language": "nl"}
    with LiveServer(journeys, per_address=None, per_link=None) as server:  # the limits: see below
        status, headers, page = server.request("GET", token, headers=nl)
        assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
        for name, value in HEADERS.items():
            assert headers[name] == value
        assert 'lang="nl"' in page and "Bakkerij De Korenschoof" in page and "Feestende Fenna" not in page  # never the persona
        key = key_of(page)
        assert key != key_of(server.request("GET", token)[2])  # a new key for every form served

        # unknown links: a friendly 404 with the security headers, nothing stored
        for unknown in ("A" * 32, "x", "..%2F..%2Fetc", token[:-1] + ("A" if token[-1] != "A" else "B")):
            status, headers, page = server.request("GET", unknown, headers=nl)
            assert status == 404 and say("nl", "not_found_title") in page and headers["Content-Security-Policy"] == HEADERS["Content-Security-Policy"]
            assert server.post(unknown, {"q._overall": "4", "submission": key})[0] == 404

        # a bad score, an unknown question, no score, a missing key, not a form: 400, the form again, in Dutch
        evil = '</textarea><script>alert(1)</script> & "quotes"'
        for fields, error in (
            ({"q.overweging": "6", "comment": evil, "submission": key}, "bad_score"),
            ({"q.overweging": "0", "submission": key}, "bad_score"),
            ({"q.overweging": "3.5", "submission": key}, "bad_score"),
            ({"q.overweging": "٣", "submission": key}, "bad_score"),
            ([("q.overweging", "3"), ("q.overweging", "4"), ("submission", key)], "bad_score"),
            ({"q.nope": "3", "submission": key}, "changed"),
            ({"comment": "Only words", "submission": key}, "no_scores"),
            ({"q._overall": "4"}, "bad_form"),
            ({"q._overall": "4", "submission": "short"}, "bad_form"),
        ):
            status, headers, page = server.post(token, fields, nl)
            assert status == 400, fields
            assert escape(say("nl", f"errors.{error}"), quote=True) in page and headers["Cache-Control"] == "no-store"
        status, _, page = server.post(token, {"q.overweging": "6", "comment": evil, "submission": key}, nl)
        assert "<script>" not in page and escape(evil) in page
        status, _, page = server.request("POST", token, b'{"q._overall": 4}', {"Content-Type": "application/json"})
        assert status == 400
        status, _, _ = server.request("POST", token, b"q._overall=4&comment=%ff%fe&submission=" + key.encode(), {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 400  # not UTF-8
        assert stored(journeys, bakery) == []

        # a huge body: 413, declared or streamed
        huge = urlencode({"q._overall": "4", "comment": "x" * 20_000, "submission": key}).encode()
        assert server.request("POST", token, huge, {"Content-Type": "application/x-www-form-urlencoded"})[0] == 413
        assert server.request("POST", token, huge, {"Content-Type": "application/x-www-form-urlencoded"}, chunked=True)[0] == 413
        assert stored(journeys, bakery) == []

        # the same submission key twice: two thank-you pages, one row; the comment cleaned
        fields = {"q.overweging": "2", "q._overall": "4", "comment": "  Fijn\x00\x07 \u202egeen\r\n" + "a" * 1200, "submission": key}
        first, second = server.post(token, fields, nl), server.post(token, fields, nl)
        assert first[0] == second[0] == 200 and say("nl", "thanks_title") in second[2]
        rows = stored(journeys, bakery)
        assert len(rows) == 1 and rows[0][0] == {"overweging": 2, "_overall": 4}
        assert rows[0][1] is not None and rows[0][1].startswith("Fijn geen\naaa") and len(rows[0][1]) == 1000

        # a closed link: 410 for the page and for answers, nothing stored
        assert journeys.store.close_survey_link(ANN, bakery)
        status, headers, page = server.request("GET", token, headers=nl)
        assert status == 410 and say("nl", "closed_title") in page and headers["Referrer-Policy"] == "no-referrer"
        assert server.post(token, {"q._overall": "5", "submission": "k" * 32}, nl)[0] == 410
        assert len(stored(journeys, bakery)) == 1

        # /forget removes the answers and the link
        fresh = journeys.store.survey_link(ANN, bakery, renew=True).token
        assert server.post(fresh, {"q._overall": "3", "submission": "f" * 32})[0] == 200
        assert len(stored(journeys, bakery)) == 2
        journeys.handle(ANN, Command("forget"))
        journeys.handle(ANN, Text("yes"))
        assert stored(journeys, bakery) == []
        with journeys.store.sessions() as session:
            assert session.scalars(select(SurveyLink.id).where(SurveyLink.journey_id == bakery)).all() == []
        assert server.request("GET", fresh)[0] == 404


def test_the_comment_is_cleaned_and_shown_escaped_in_a_browser(sqlite_url: str) -> None:
    require_browser()
    assert clean_comment(" a\tb\x1b[31m\x7f\x85c\u2028d \u202e ") == "a b[31mc\nd"
    journeys = Journeys(Store.open(sqlite_url))
    try:
        bakery = journey(journeys, ANN, BAKERY_NL)
        token = journeys.store.survey_link(ANN, bakery).token
        evil = '</textarea><img src=x onerror=alert(1)><script>alert(2)</script>'
        with LiveServer(journeys) as server:
            status, _, page = server.post(token, {"q.overweging": "2", "q._overall": "9", "comment": evil, "submission": "s" * 32})
        assert status == 400 and stored(journeys, bakery) == []
        seen = visit_html(
            page,
            viewport=VIEWPORT,
            evaluate=[
                "document.querySelector('textarea').value",
                "document.querySelectorAll('img, script').length",
                "[...document.querySelectorAll('input:checked')].map(i => i.name + '=' + i.value)",
            ],
        )
        assert seen.dialogs == [] and seen.page_errors == [] and seen.console_errors == []
        assert seen.values == [evil, 0, ["q.overweging=2"]]  # the comment as typed, as text; the valid choice kept
    finally:
        journeys.close()


# ---------------------------------------------------------------------------- rate limits
def test_rate_limits_per_address_and_per_link_answer_429(sqlite_url: str) -> None:
    journeys = Journeys(Store.open(sqlite_url))
    try:
        bakery = journey(journeys, ANN, BAKERY_NL)
        token = journeys.store.survey_link(ANN, bakery).token
        n = iter(range(1000))

        def answer(server: LiveServer, forwarded: str | None = None) -> tuple[int, http.client.HTTPMessage, str]:
            headers = {"X-Forwarded-For": forwarded} if forwarded else {}
            return server.post(token, {"q._overall": "4", "submission": f"key-{next(n):04d}-" + "k" * 20}, headers)

        with LiveServer(journeys, per_address=3, per_link=5, trust_proxy=False) as server:
            assert [answer(server, f"10.0.0.{i}")[0] for i in range(3)] == [200, 200, 200]  # X-Forwarded-For ignored
            status, headers, page = answer(server, "10.0.0.9")
            assert status == 429 and 1 <= int(headers["Retry-After"]) <= 60
            assert escape(say("en", "too_many")) in page and headers["Content-Security-Policy"] == HEADERS["Content-Security-Policy"]  # before the link is read: the browser's language or English
        assert len(stored(journeys, bakery)) == 3

        with LiveServer(journeys, per_address=3, per_link=5, trust_proxy=True) as server:
            # behind a proxy: the last X-Forwarded-For address is the client's; the first may be forged
            assert [answer(server, f"6.6.6.{i}, 10.0.0.1")[0] for i in range(4)] == [200, 200, 200, 429]
            assert [answer(server, "10.0.0.2")[0] for _ in range(3)] == [200, 200, 429]  # 5 for this link
            status, headers, page = answer(server, "10.0.0.3")
            assert status == 429 and int(headers["Retry-After"]) >= 1 and escape(say("nl", "too_many")) in page  # the journey's language
            assert server.request("GET", token)[0] == 200  # reading the form is never limited
        assert len(stored(journeys, bakery)) == 3 + 5
    finally:
        journeys.close()


def test_a_rate_limit_slides_with_time() -> None:
    now = [100.0]
    limit = RateLimit(2, window=60, clock=lambda: now[0])
    assert limit.hit("a") == 0 and limit.hit("a") == 0
    assert limit.hit("a") == pytest.approx(60)
    assert limit.hit("b") == 0
    now[0] += 30
    assert limit.hit("a") == pytest.approx(30)
    now[0] += 30
    assert limit.hit("a") == 0
    now[0] += 200
    limit.hit("c")
    assert set(limit._hits) == {"c"}  # idle keys are dropped
    assert RateLimit(None).hit("a") == 0


# ---------------------------------------------------------------------------- where it is served
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int, token: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", f"/s/{token}", headers={"Accept-Language": "en"})
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8")
    finally:
        conn.close()


def test_journeybot_web_serves_the_page_and_stops_on_sigterm(sqlite_url: str) -> None:
    journeys = Journeys(Store.open(sqlite_url))
    try:
        bakery = journey(journeys, ANN, BAKERY_NL)
        token = journeys.store.survey_link(ANN, bakery).token
    finally:
        journeys.close()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": sqlite_url, "JOURNEYBOT_WEB_PORT": str(port), "JOURNEYBOT_LANG": "en", "JOURNEYBOT_PUBLIC_URL": "https://survey.example.test"}
    process = subprocess.Popen([sys.executable, "-m", "handlers.cli", "web"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()  # type: ignore[union-attr]
        assert f"http://127.0.0.1:{port}/s/" in line and "https://survey.example.test/s/" in line
        status, page = get(port, token)
        assert status == 200 and "Bakkerij De Korenschoof" in page
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = {**env, "JOURNEYBOT_WEB_PORT": str(taken.getsockname()[1])}
        done = subprocess.run([sys.executable, "-m", "handlers.cli", "web"], cwd=ROOT, env=busy, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "JOURNEYBOT_WEB_PORT" in done.stderr
    done = subprocess.run([sys.executable, "-m", "handlers.cli", "web"], cwd=ROOT, env={**env, "JOURNEYBOT_WEB_PORT": "eighty"}, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "eighty" in done.stderr


async def test_the_telegram_webhook_and_slack_http_servers_serve_the_page(sqlite_url: str, fake_telegram) -> None:
    from slack_bolt.async_app import AsyncApp

    from devkit.fakes.telegram_harness import TelegramHarness
    from handlers.slack.app import web_app

    journeys = Journeys(Store.open(sqlite_url))
    try:
        bakery = await asyncio.to_thread(journey, journeys, ANN, BAKERY_NL)
        token = journeys.store.survey_link(ANN, bakery).token
        port = free_port()
        bot = TelegramHarness(fake_telegram, journeys, webhook_url="https://bot.example.test/tg/hook", webhook_secret="s3cr3t_Token-42", listen="127.0.0.1", port=port)
        await bot.start()
        try:
            status, page = await asyncio.to_thread(get, port, token)
            assert status == 200 and "Bakkerij De Korenschoof" in page
        finally:
            await bot.stop()

        slack = AsyncApp(token="xoxb-test", signing_secret="secret")  # no request reaches Slack here
        runner = web.AppRunner(web_app(slack, "secret", journeys=journeys), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            slack_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            status, page = await asyncio.to_thread(get, slack_port, token)
            assert status == 200 and "Bakkerij De Korenschoof" in page
            assert (await asyncio.to_thread(get, slack_port, "A" * 32))[0] == 404
        finally:
            await runner.cleanup()
    finally:
        journeys.close()

