"""Block Kit rendering stays within Slack's limits and escapes owner text."""
from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.replies import Option, Progress, Reply
from bot.report import CalendarRow, Improvement, MistakeCheck, Report, TeamScore, TodoLine, WowMoment
from handlers.slack import render
from handlers.slack.app import ConfigError, build_app, web_client
from devkit.fakes.slack_api import check_blocks

texts = st.text(alphabet=st.sampled_from(list("ab <>&\n") + ["é", "😀"]), max_size=9000)


@settings(max_examples=60, deadline=None)
@given(texts)
def test_escaped_sections_fit_and_lose_nothing(raw: str) -> None:
    blocks = render.escaped_sections(raw)
    assert check_blocks(blocks) is None or len(blocks) > 50
    for block in blocks:
        body = block["text"]["text"]
        assert len(body) <= render.MAX_SECTION
        assert "<" not in body and ">" not in body
    joined = "".join(render.unescape(b["text"]["text"]) for b in blocks)
    assert joined.replace("\n", "").replace(" ", "") == raw.strip("\n").replace("\n", "").replace(" ", "")


def test_escape_only_three_characters() -> None:
    assert render.escape('a & <b> "c" \'d\'') == 'a &amp; &lt;b&gt; "c" \'d\''
    assert render.unescape(render.escape("<@U1> & co")) == "<@U1> & co"


def test_pages_of_at_most_fifty_blocks() -> None:
    blocks = [render.section(str(i)) for i in range(123)]
    pages = render.paginate(blocks)
    assert [len(p) for p in pages] == [50, 50, 23]
    assert sum(pages, []) == blocks


def test_question_buttons_encode_the_step_and_respect_limits() -> None:
    long_label = "x" * 200
    reply = Reply(
        type="question",
        text="How does <Petra> feel? " + "y" * 4000,
        step="stage.purchase.tp1.feeling",
        kind="scale",
        choices=tuple(Option(str(i), f"{i} {long_label}") for i in range(1, 6)) + (Option("__dont_know__", "I don't know"),),
        progress=Progress("stage", 2, 6, "Purchase", 20, 40),
    )
    blocks = render.question_blocks("en", reply)
    assert check_blocks(blocks) is None
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert len(buttons) == 6
    assert all(len(b["text"]["text"]) <= 75 for b in buttons)
    assert len({b["action_id"] for b in buttons}) == 6
    assert render.parse_answer_value(buttons[0]["value"]) == ("stage.purchase.tp1.feeling", "1")
    assert "&lt;Petra&gt;" in blocks[0]["text"]["text"]
    answered = render.answered_blocks("en", blocks, "5 😍")
    assert not [b for b in answered if b["type"] == "actions"] and "5 😍" in answered[-1]["text"]["text"]


def test_a_huge_report_still_fits_in_messages() -> None:
    report = Report(
        language="en",
        summary=["<b>" + "word " * 900 for _ in range(5)],
        improvements=[Improvement(title=f"Fix {i}", why="w " * 300, step="s", trigger="t", effort="low", impact="high") for i in range(40)],
        wow_moments=[WowMoment(stage="s", idea="i " * 200, why="w", cost="c", trigger="t") for _ in range(20)],
        mistakes=[MistakeCheck(number=n, title="m", ok=n % 2 == 0, note="n") for n in range(1, 8)],
        calendar=[CalendarRow(stage="s", channel="c", idea="i") for _ in range(30)],
        review_date="2026-12-23",
        missing=["q"] * 50,
        changes=["<changed> " * 100] * 30,
        todos=[TodoLine(id=i, kind="improvement", title=f"Fix {i}", status="open") for i in range(1, 60)],
        team=[TeamScore(stage="s", touchpoint="<t>", owner=1, scores=[5, 4], disagree=True, teammates=["U1", "<!here>"]) for _ in range(40)],
        team_added=["s: <new>"] * 20,
    )
    blocks = render.report_blocks("nl", report, "Zon & <Co>")
    pages = render.paginate(blocks)
    assert len(pages) >= 1
    for page in pages:
        assert check_blocks(page) is None
    text = json.dumps(blocks, ensure_ascii=False)
    assert "<b>" not in text and "<!here>" not in text and "<@U1> 5" in text
    assert "Verbeteringen" in text and "Takenlijst" in text and "Scores van het team" in text  # Dutch headings from prompts/nl/report.yaml


def test_configuration() -> None:
    with pytest.raises(ConfigError):
        web_client({})
    client = web_client({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": "http://127.0.0.1:9/api"})
    assert client.base_url == "http://127.0.0.1:9/api/"
    assert any(type(h).__name__ == "AsyncRateLimitErrorRetryHandler" for h in client.retry_handlers)
    with pytest.raises(ConfigError):
        build_app(env={"SLACK_BOT_TOKEN": "xoxb-1"})  # HTTP mode needs the signing secret


def test_socket_mode_is_chosen_by_the_app_token(tmp_path, monkeypatch) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from app import Journeys
    from handlers.slack import app as slack_app
    from store.repository import Store

    started: list[str] = []

    async def fake_start(self) -> None:  # no network: record the token and stop
        started.append(self.app_token)

    monkeypatch.setattr(AsyncSocketModeHandler, "start_async", fake_start)
    monkeypatch.setattr(slack_app.web, "run_app", lambda *a, **k: started.append("http"))
    journeys = Journeys(Store.open(f"sqlite:///{tmp_path}/s.db"))
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1-abc"}
    slack_app.run(port=3999, env=env, journeys=journeys)
    assert started[-1] == "xapp-1-abc"
    slack_app.run(port=3999, env={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, journeys=journeys)
    assert started[-1] == "http"
    journeys.close()


def test_files_are_fetched_from_slacks_file_host_only() -> None:
    from handlers.slack.core import SlackJourneys

    slack = web_client({"SLACK_BOT_TOKEN": "xoxb-1"})
    local = web_client({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": "http://127.0.0.1:8080/api/"})
    assert SlackJourneys.from_slack(slack, "https://files.slack.com/files-pri/T1-F1/download/a.csv")
    assert not SlackJourneys.from_slack(slack, "http://files.slack.com/files-pri/T1-F1/download/a.csv")  # never in clear text
    assert not SlackJourneys.from_slack(slack, "https://files.slack.com.evil.example/a.csv")
    assert not SlackJourneys.from_slack(slack, "https://example.com/a.csv")
    assert not SlackJourneys.from_slack(slack, "file:///etc/passwd")
    assert SlackJourneys.from_slack(local, "http://127.0.0.1:8080/files-pri/F1/a.csv")  # the configured API host (tests, Enterprise)
    assert not SlackJourneys.from_slack(local, "http://127.0.0.1:9999/files-pri/F1/a.csv")


# -- the report is data: addresses as text, no unfurls ----------------------------------------------

PHISH = "https://bakkerij-login.example/verify?id=1"
ADDRESS = re.compile(r"https?://\S+|www\.\S+|\b[\w.-]+\.(?:example|nl)\b(?:/\S*)?|@\w{4,}")


def assert_addresses_are_code(text: str) -> int:
    """Every address in a mrkdwn text is inside `code` (outside code there is none); how many."""
    outside = re.sub(r"`[^`]*`", "", text)
    assert not ADDRESS.search(outside), outside
    return sum(len(ADDRESS.findall(code)) for code in re.findall(r"`([^`]*)`", text))


def report_texts(blocks: list[dict]) -> list[dict]:
    """The mrkdwn text objects of a report's sections and context lines."""
    out = [b["text"] for b in blocks if b.get("type") == "section" and b.get("text", {}).get("type") == "mrkdwn"]
    return out + [e for b in blocks if b.get("type") == "context" for e in b.get("elements", []) if e.get("type") == "mrkdwn"]


def test_report_addresses_are_code_and_the_sections_verbatim() -> None:
    say = f"Log in at {PHISH} now. Zie www.korting-taart.nl/actie of betaal.example, mail info@bakkerij.example of @bakkerij_support."
    report = Report(
        language="en",
        summary=[say, "An ordinary paragraph, e.g. about Instagram, at 3.5 stars."],
        improvements=[Improvement(title=f"Pay at {PHISH}", why=say, step="Purchase", trigger=f"“{PHISH}”", effort="low", impact="high")],
        wow_moments=[WowMoment(stage="Delivery", idea=f"Send {PHISH}", why=say, cost="betaal.example", trigger="t")],
        mistakes=[MistakeCheck(number=n, title=f"Mistake {n}", ok=n % 2 == 0, note=say) for n in range(1, 8)],
        calendar=[CalendarRow(stage="Awareness", channel="Instagram", idea="Post www.korting-taart.nl/actie")],
        review_date="2027-01-01",
        notice=f"Written at {PHISH}",
        team=[TeamScore(stage="s", touchpoint="t", owner=1, scores=[5], disagree=True, teammates=["U1"])],
    )
    blocks = render.report_blocks("en", report, "Bakery")
    texts = report_texts(blocks)
    assert texts and all(t.get("verbatim") is True for t in texts)  # Slack links and mentions nothing by itself
    assert sum(assert_addresses_are_code(t["text"]) for t in texts) >= 20
    joined = "\n".join(t["text"] for t in texts)
    assert f"`{PHISH}`" in joined and "e.g. about Instagram, at 3.5 stars" in joined
    assert "<@U1> 5" in joined  # a teammate is still mentioned on purpose
    for page in render.paginate(blocks):
        assert check_blocks(page) is None


async def test_a_model_report_is_posted_without_unfurls(tmp_path) -> None:
    """Through the real Bolt app and the fake Web API: the model's report with unfurling off, and the
    addresses the model made up (not in the owner's answers) left out."""
    from app import Journeys
    from bot.llm_writer import LLMWriter, RetryPolicy
    from devkit.drive import type_lines
    from devkit.fakes.openai_api import API_KEY, FakeOpenAI, Reply as ModelReply
    from devkit.fakes.slack_api import TEAM_ID
    from devkit.llm_support import TODAY, good_llm_report
    from devkit.scripts import B2B_EN
    from store.repository import OwnerKey, Store
    from tests.slack_harness import start_harness, stop_harness

    store = Store.open(f"sqlite:///{tmp_path}/journeybot.db")
    type_lines(Journeys(store, today=lambda: TODAY), OwnerKey("slack", TEAM_ID, "U1"), B2B_EN)
    reply = good_llm_report()
    reply["summary"][0] = f"Log in at {PHISH} now, or mail info@bakkerij.example."
    reply["improvements"][0]["title"] = f"Pay at {PHISH}"
    async with FakeOpenAI() as model:
        model.default = ModelReply.json_content(reply)
        writer = LLMWriter(model="gpt-fake", api_key=API_KEY, base_url=model.base_url, timeout=5.0, today=lambda: TODAY,
                           policy=RetryPolicy(attempts=2, total=20.0, multiplier=0.01, max_wait=0.02, jitter=0.01))
        h, runner = await start_harness(tmp_path, journeys=Journeys(store, writer, today=lambda: TODAY))
        try:
            mark = len(h.slack.calls)
            await h.signer.command("U1", "summary")
            await h.slack.wait_for("chat.postMessage", since=mark, predicate=lambda c: "The low point is the deposit" in json.dumps(c.params), timeout=30)
        finally:
            await stop_harness(h, runner)
    assert model.calls == 1
    posts = h.slack.since(mark, "chat.postMessage")
    assert posts and all(c.params.get("unfurl_links") is False and c.params.get("unfurl_media") is False for c in posts), [c.params for c in posts]
    assert "bakkerij-login" not in json.dumps([c.params for c in posts]) and "info@bakkerij" not in json.dumps([c.params for c in posts])
