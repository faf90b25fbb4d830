"""Rendering for Telegram: safe splitting, escaping, keyboards within 64 bytes, the report."""
from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

import prompts
from bot import engine
from bot.events import Choice, step_token
from bot.flow import default_flow, plan
from bot.replies import Option, Progress, Reply
from bot.report import CalendarRow, CustomerCheck, Improvement, MistakeCheck, Report, TeamScore, TodoLine, WowMoment
from handlers.telegram import render
from devkit.fakes.telegram_api import _check_html, visible_text
from devkit.fakes.telegram_fixtures import fake_telegram  # noqa: F401

ALPHABET = st.sampled_from(list("ab <>&;/\n\"'é😀") + ["&amp;", "</b>", "<b>", "&lt;"])


@settings(max_examples=200, deadline=None)
@given(
    segments=st.lists(
        st.tuples(st.sampled_from([None, "b", "i"]), st.lists(ALPHABET, max_size=120).map("".join)), min_size=1, max_size=6
    ),
    limit=st.integers(min_value=40, max_value=300),
)
def test_split_never_cuts_a_tag_or_entity_and_keeps_all_text(segments, limit) -> None:
    parts = render.pack([segments], limit=limit)
    original = "".join(text for _, text in segments)
    for part in parts:
        assert render.units(part) <= limit
        _check_html(part)  # raises on a cut tag or entity
    joined = "".join(visible_text(p) for p in parts)
    # every visible character is kept, in order; whitespace where a message ends is not (Telegram trims it too)
    assert " ".join(joined.replace("\n", "").split()) == " ".join(original.replace("\n", "").split())


def test_long_text_splits_at_paragraphs_and_words_under_4096() -> None:
    paragraph = ("Word & <word> " * 40).strip()
    parts = render.pack([[(None, "\n\n".join([paragraph] * 40))]])
    assert len(parts) > 1
    assert all(render.units(p) <= 4096 for p in parts)
    assert all(not p.endswith("&") and "&amp" in p for p in parts)
    assert all(visible_text(p).rstrip().endswith(("<word>", "&")) for p in parts)


def question(step: str, kind: str, options: list[tuple[str, str]], **data) -> Reply:
    return Reply(
        type="question",
        text="How does <Bea> feel & why?",
        step=step,
        kind=kind,
        choices=tuple(Option(v, l) for v, l in options),
        progress=Progress("stage", 2, 6, "Consideration", 10, 40),
        data=data,
    )


def test_scale_buttons_in_one_row_and_special_answers_apart() -> None:
    reply = question(
        "stage.consideration.tp1.feeling",
        "scale",
        [(str(i), f"{i} 🙂") for i in range(1, 6)] + [(engine.DONT_KNOW, "I don't know"), (engine.SKIP, "Skip")],
    )
    rows = render.keyboard(reply).inline_keyboard
    assert [len(r) for r in rows] == [5, 2]
    data = rows[0][3].callback_data
    assert data == "a|" + step_token("stage.consideration.tp1.feeling") + "|4"  # 31 bytes: too long to spell out
    tap = render.parse_callback(data)
    assert tap is not None and tap.value == "4"
    html = render.reply_messages("en", reply)[0]
    assert html.startswith("<i>Journey · 2/6 Consideration · 10/40</i>\n")
    assert "&lt;Bea&gt; feel &amp; why?" in html


def test_callback_data_fits_64_bytes_for_the_longest_step_keys() -> None:
    slug = "x" * 40
    for step in (f"stage.{slug}.tp12.channel", f"stage.{slug}.tp3.feeling", "business.sector", "meta.forget"):
        for value in ("comparison_site", "__dont_know__", "word_of_mouth", "5", "yes"):
            data = render.callback_data(step, value)
            assert data is not None and len(data.encode("utf-8")) <= 64
            tap = render.parse_callback(data)
            assert tap.value == value
            assert tap.step in (step, step_token(step))
    assert render.callback_data("business.name", "é" * 40) is None  # never over the limit


def test_selected_options_are_ticked_and_labels_found_back() -> None:
    reply = question("persona.channels", "multi_choice", [("google", "Google"), ("instagram", "Instagram"), (engine.DONE, "Done")], selected=["instagram"])
    markup = render.keyboard(reply)
    labels = [b.text for row in markup.inline_keyboard for b in row]
    assert labels == ["Google", "✓ Instagram", "Done"]
    assert render.button_label(markup, "a|persona.channels|instagram") == "Instagram"


def test_engine_accepts_the_short_token_and_rejects_an_old_one() -> None:
    names = ["A stage with a very long name that the owner typed in full", "Second"]
    slug = "a-stage-with-a-very-long-name-that-the-ow"[:40]
    state = engine.State(lang="en", answers={"journey.stages": {"v": names, "s": "ok"}})
    flow_keys = [s.key for s in plan(default_flow(), state.answers)]
    touchpoints = next(k for k in flow_keys if k.endswith(".touchpoints"))
    state.answers[touchpoints] = {"v": ["Ad"], "s": "ok"}
    flow_keys = [s.key for s in plan(default_flow(), state.answers)]
    channel = next(k for k in flow_keys if k.endswith("tp1.channel"))
    assert len(channel) > 30 and slug[:10] in channel
    state.cursor = channel
    data = render.callback_data(channel, "social")
    tap = render.parse_callback(data)
    assert tap.step.startswith("#")
    out = engine.handle(state, Choice(tap.value, step=tap.step))
    assert out.state.answers[channel]["v"] == "social"
    stale = engine.handle(out.state, Choice("website", step=tap.step))
    assert channel not in [lg.key for lg in stale.logged]
    assert stale.replies[0].text == prompts.say("en", "messages", "stale")


def test_report_is_split_safely_and_keeps_every_part() -> None:
    big = "Lots of detail & <context> " * 60
    report = Report(
        language="nl",
        summary=[big, "Tweede alinea"],
        improvements=[
            Improvement(title=f"Fix {i} <now>", why=big, step="Aankoop · Kassa", trigger="\"te duur\" & traag", effort="low", impact="high")
            for i in range(8)
        ],
        wow_moments=[WowMoment(stage="Loyaliteit", idea="Een bloem", why="onverwacht", cost="onder 5 euro", trigger="trouw")],
        mistakes=[MistakeCheck(number=n, title=f"Fout {n}", ok=n % 2 == 0, note="noot") for n in range(1, 8)],
        calendar=[CalendarRow(stage="Bewustwording", channel="Instagram", idea="Reels van taarten")],
        review_date="2027-01-01",
        missing=["Persona gedrag"],
        notice="De offline coach schreef deze samenvatting.",
        changes=["Veranderd sinds versie 1", "+ nieuw contactpunt <Podcast>"],
        customer_check=[CustomerCheck(stage="", owner=3.25, customers=2.0, responses=4)],
        todos=[TodoLine(id=3, kind="wow", title="Een bloem", status="done")],
        team=[TeamScore(stage="Aankoop", touchpoint="Kassa", owner=2, scores=[5], disagree=True, teammates=["U2"])],
        team_added=["Bewustwording: Flyer"],
    )
    parts = render.report_messages(report)
    assert len(parts) > 2
    for part in parts:
        assert render.units(part) <= 4096
        _check_html(part)
    body = "\n".join(visible_text(p) for p in parts)
    for needle in ("Samenvatting", "Verbeteringen", "Fix 7 <now>", "WOW-momenten", "Fout 7", "Contentkalender", "1 januari 2027", "Nog open", "moeite: laag",
                   "Wat er veranderd is", "<Podcast>", "totaal – jij 3,2 · klanten 2,0", "3. Een bloem – status: klaar", "jij 2 · team 5", "Bewustwording: Flyer"):
        assert needle in body
    assert "U2" not in body  # Slack user ids mean nothing in Telegram


# -- the report is data: addresses as text, no previews ------------------------------------------------

PHISH = "https://bakkerij-login.example/verify?id=1"
ADDRESSES = (PHISH, "www.korting-taart.nl/actie", "betaal.example", "info@bakkerij.example", "@bakkerij_support")


def linky_report() -> Report:
    """A report as a model tricked into advertising addresses might write it."""
    say = f"Log in at {PHISH} now. Zie www.korting-taart.nl/actie of betaal.example, mail info@bakkerij.example of @bakkerij_support."
    return Report(
        language="en",
        summary=[say, "An ordinary paragraph about Instagram, e.g. a reel, at 3.5 stars."],
        improvements=[Improvement(title=f"Pay at {PHISH}", why=say, step="Purchase › Deposit", trigger=f"“{PHISH}”", effort="low", impact="high")],
        wow_moments=[WowMoment(stage="Delivery", idea=f"Send {PHISH}", why=say, cost="betaal.example", trigger="t")],
        mistakes=[MistakeCheck(number=n, title=f"Mistake {n}", ok=n % 2 == 0, note=say) for n in range(1, 8)],
        calendar=[CalendarRow(stage="Awareness", channel="Instagram", idea="Post www.korting-taart.nl/actie")],
        review_date="2027-01-01",
    )


def assert_no_link(message: str) -> int:
    """Every address of ADDRESSES in `message` lies inside a code entity (no client links those) and
    the message makes no link of its own; the number of addresses found."""
    from devkit.fakes.telegram_api import html_to_entities

    plain, entities = html_to_entities(message)
    assert not [e for e in entities if e["type"] in ("text_link", "url")], entities
    codes = [(e["offset"], e["offset"] + e["length"]) for e in entities if e["type"] == "code"]
    found = 0
    for address in ADDRESSES:
        for match in re.finditer(re.escape(address), plain):
            start, end = render.units(plain[: match.start()]), render.units(plain[: match.end()])
            assert any(a <= start and end <= b for a, b in codes), (address, plain[max(0, match.start() - 40) : match.end() + 10])
            found += 1
    return found


def test_addresses_in_the_report_are_code_not_links() -> None:
    parts = render.report_messages(linky_report())
    assert sum(assert_no_link(part) for part in parts) >= 20
    body = "\n".join(visible_text(p) for p in parts)
    assert f"Log in at {PHISH} now." in body and "e.g. a reel, at 3.5 stars" in body  # the text itself is unchanged
    assert "<code>e.g" not in "".join(parts) and "<code>3.5" not in "".join(parts)


async def test_a_model_report_arrives_without_links_or_previews(fake_telegram, tmp_path) -> None:
    """Through the real adapter: the model's report goes out with previews off; addresses the model made
    up (not in the owner's answers) are left out."""
    from app import Journeys, OwnerKey
    from bot.llm_writer import LLMWriter, RetryPolicy
    from devkit.drive import type_lines
    from devkit.fakes.openai_api import API_KEY, FakeOpenAI, Reply as ModelReply
    from devkit.fakes.telegram_api import command
    from devkit.fakes.telegram_harness import TelegramHarness
    from devkit.llm_support import TODAY, good_llm_report
    from devkit.scripts import B2B_EN
    from store.repository import Store

    store = Store.open(f"sqlite:///{tmp_path / 'journeybot.db'}")
    type_lines(Journeys(store, today=lambda: TODAY), OwnerKey("telegram", "", "4242"), B2B_EN)
    reply = good_llm_report()
    reply["summary"][0] = f"Log in at {PHISH} now, or mail info@bakkerij.example."
    reply["improvements"][0]["title"] = f"Pay at {PHISH}"
    async with FakeOpenAI() as model:
        model.default = ModelReply.json_content(reply)
        writer = LLMWriter(model="gpt-fake", api_key=API_KEY, base_url=model.base_url, timeout=5.0, today=lambda: TODAY,
                           policy=RetryPolicy(attempts=2, total=20.0, multiplier=0.01, max_wait=0.02, jitter=0.01))
        bot = TelegramHarness(fake_telegram, Journeys(store, writer, today=lambda: TODAY))
        await bot.start()
        try:
            calls = await bot.send(command("summary"), timeout=30)
        finally:
            await bot.stop()
            store.close()
    assert model.calls == 1
    sent = [c for c in calls if c.method == "sendMessage"]
    assert sent and all(c.params.get("link_preview_options") == {"is_disabled": True} for c in sent), [c.params for c in sent]
    assert any("The low point is the deposit" in c.text for c in sent)
    assert not [c for c in sent if "bakkerij-login" in c.text or "info@bakkerij" in c.text]
