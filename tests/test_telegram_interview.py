"""A whole interview through the real python-telegram-bot stack against the fake Bot API."""
from __future__ import annotations


from devkit.fakes.telegram_api import FakeTelegram, command, private_text, visible_text
from devkit.fakes.telegram_fixtures import fake_telegram  # noqa: F401
from devkit.fakes.telegram_harness import TelegramHarness
from app import Journeys, OwnerKey
from tests.telegram_support import answers, database_url, harness, journeys, questions, step_of, tap, texts  # noqa: F401


async def test_start_asks_the_first_question_in_the_users_language(harness: TelegramHarness, fake_telegram: FakeTelegram) -> None:
    calls = await harness.send(command("start", language_code="nl"))
    sent = texts(calls)
    assert sent, calls
    q = questions(calls)[-1]
    assert step_of(q) == "business.name"
    assert "bedrijf" in visible_text(q.text)
    assert q.params["parse_mode"] == "HTML"


TYPED = {
    "business.name": "Bakkerij Bol",
    "journey.process": "a first order of a birthday cake",
    "concept.promise": "Cakes that look like the photo, delivered on the day",
    "persona.name": "Busy Bea",
    "persona.role": "working mother of two",
    "persona.goals": "a stress-free birthday party",
    "persona.pains": "no time, afraid the cake is late",
    "persona.trust": "photos of real cakes and reviews",
    "persona.trigger": "a birthday two weeks ahead",
    "journey.stages": "Awareness, Purchase",
}
TAPPED = {
    "business.sector": ["bakery"],
    "journey.goal": ["repeat"],
    "concept.sacrifice": ["__skip__"],
    "persona.channels": ["instagram", "google", "__done__"],
    "persona.source": ["interviews", "__done__"],
    "journey.team": ["per_stage"],
    "journey.evidence": ["interviews", "__done__"],
    "journey.review": ["monthly"],
}
TOUCHPOINTS = {"awareness": "Instagram post, Friend's tip", "purchase": "Checkout"}
# Awareness is rated by tapping 1..5 per touchpoint (the message is edited in place) and Done;
# Purchase by typing the line of ratings.
RATING_TAPS = {"awareness": ["rate:1=4", "rate:2=5", "__done__"]}
RATING_LINES = {"purchase": "2"}


def edited(q, calls: list):
    """The question `q` as the last in-place edit of it among `calls` left it (itself when not edited)."""
    edits = [c for c in calls if c.method == "editMessageText" and c.buttons()]
    if not edits:
        return q
    current = type(q)(q.method, q.params, result=edits[-1].result)
    current.params = edits[-1].params
    return current


async def taps(harness: TelegramHarness, q, values: list[str]) -> list:
    """Tap `values` one after the other on the question `q`, following its in-place edits."""
    calls: list = []
    current = q
    for value in values:
        calls = await harness.send(tap(current, value))
        current = edited(current, calls)
    return calls


async def answer(harness: TelegramHarness, q) -> list:
    """Answer the question `q` (a sendMessage call) by typing or tapping; the calls it caused."""
    step = step_of(q)
    if step in TYPED:
        return await harness.send(private_text(TYPED[step]))
    if step == "persona.behaviour":
        return await harness.send(command("skip"))
    if step in TAPPED:
        return await taps(harness, q, TAPPED[step])
    if step == "journey.delights":
        return await harness.send(private_text("a hand-written card with the cake"))
    parts = step.split(".")
    assert parts[0] == "stage", step
    slug = parts[1]
    field = parts[-1]
    if field == "touchpoints":
        return await harness.send(private_text(TOUCHPOINTS[slug]))
    if field == "ratings":
        if slug in RATING_TAPS:
            return await taps(harness, q, RATING_TAPS[slug])
        return await harness.send(private_text(RATING_LINES[slug]))
    if field == "pains":
        return await harness.send(private_text("The checkout page forgets the chosen pick-up time"))
    if field == "channel":
        return await harness.send(tap(q, "social"))
    if field == "team":
        return await harness.send(tap(q, "marketing"))
    raise AssertionError(f"unexpected step {step}")


async def test_a_whole_interview_ends_in_summary_document_and_chart(
    harness: TelegramHarness, fake_telegram: FakeTelegram, journeys: Journeys
) -> None:
    calls = await harness.send(command("start"))
    seen: list[str] = []
    maps: list[int] = []  # after which answers the map (the emotion curve) was sent
    for _ in range(80):
        qs = questions(calls)
        if not qs:
            break
        q = qs[-1]
        seen.append(step_of(q))
        calls = await answer(harness, q)
        if any(c.method == "sendPhoto" for c in calls) and questions(calls):
            maps.append(len(seen))
    else:
        raise AssertionError("the interview did not end")
    assert seen[0] == "business.name" and "journey.review" == seen[-1]
    assert len(seen) == len(set(seen)), f"a question came twice: {seen}"
    assert {"persona.channels", "journey.team", "stage.awareness.ratings", "stage.purchase.ratings", "stage.purchase.pains",
            "stage.purchase.team", "journey.evidence", "journey.delights"} <= set(seen), seen
    assert "stage.awareness.pains" not in seen, "every rating 4 or higher: what goes wrong is not asked"
    assert not [s for s in seen if ".tp" in s and s.endswith((".feeling", ".pain", ".team"))], "the ratings, pains and team steps filled them"
    # the map comes once, when the last stage is rated, before the journey's last questions
    assert len(maps) == 1 and seen[maps[0] - 1] == "stage.purchase.ratings", (maps, seen)
    stored = answers(journeys, OwnerKey("telegram", "", "4242"))
    feelings = {k: v["v"] for k, v in stored.items() if k.endswith(".feeling")}
    assert feelings == {"stage.awareness.tp1.feeling": 4, "stage.awareness.tp2.feeling": 5, "stage.purchase.tp1.feeling": 2}
    assert stored["stage.purchase.tp1.pain"]["v"] == "The checkout page forgets the chosen pick-up time"
    assert {stored[f"stage.{k}.team"]["v"] for k in ("awareness.tp1", "awareness.tp2", "purchase.tp1")} == {"marketing"}

    # Every tap was answered, and tapped single choices lost their keyboard and show the answer.
    taps = [c for c in fake_telegram.calls if c.method == "answerCallbackQuery"]
    assert len(taps) >= 15
    sector_q = next(c for c in fake_telegram.sent() if c.buttons() and step_of(c) == "business.sector")
    shown = fake_telegram.message(sector_q.chat_id, sector_q.result["message_id"])
    assert "reply_markup" not in shown and visible_text(shown["text"]).endswith("→ Bakery or café")
    assert shown["text"].startswith("Business and goal")  # the progress line kept its italics, not "<i>"
    assert {"type": "italic", "offset": 0, "length": len("Business and goal · 1/35")} in shown["entities"]

    # The summary: a "working" message, typing, the report as HTML, then the document, then the chart.
    order = [c.method for c in calls]
    assert "sendChatAction" in order
    doc = next(c for c in calls if c.method == "sendDocument")
    photo = next(c for c in calls if c.method == "sendPhoto")
    report = [c for c in calls if c.method == "sendMessage" and c.params.get("parse_mode") == "HTML"]
    assert report and calls.index(report[-1]) < calls.index(doc) < calls.index(photo)
    body = "\n".join(visible_text(c.text) for c in report)
    assert "Summary" in body and "Improvements" in body
    upload = doc.files["document"]
    assert upload.filename == "journey-busy-bea.md"
    assert "Busy Bea" in upload.data.decode("utf-8")
    png = photo.files["photo"].data
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(len(c.text) <= 4096 for c in report)
