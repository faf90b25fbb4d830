"""The interview in few turns: channels inferred from names, one rating turn per stage, pains and
teams once, evidence and delights once, honest progress, and journeys of the first flow finishing."""
from __future__ import annotations

import pytest

from bot.engine import Context, State, handle
from bot.engine.derive import infer_channel, named_touchpoint
from bot.engine.effects import JourneyCompleted
from bot.events import Choice, Start, parse_input
from bot.journey import build_view

HEAD_EN = ["Bart's Bakery", "bakery", "repeat", "a first birthday cake order", "cakes that look like the photo", "/skip",
           "Party Pia", "mother of two", "a stress-free party", "no time, fears a late cake", "/skip",
           "instagram, google", "photos of real cakes", "invitations are out", "interviews, gut"]


@pytest.mark.parametrize(
    "name, channel",
    [
        ("Instagram post", "social"), ("Instagram-post van een vriendin", "social"), ("Passing the shop window", "shop"),
        ("Langs de etalage lopen", "shop"), ("Zoeken op Google", "website"), ("Reading reviews", "review_site"),
        ("Vragen via WhatsApp", "whatsapp"), ("Factuur", "invoice"), ("Offerte aanvragen", "invoice"),
        ("Ordering in the shop or by phone", "shop"), ("Bellen met de monteur", "phone"), ("Nieuwsbrief", "email"),
        ("Pakket bezorgd", "courier"), ("Tip from a friend", "in_person"), ("Seasonal special", None),
    ],
)
def test_channels_are_inferred_from_touchpoint_names_in_both_languages(name: str, channel: str | None) -> None:
    assert infer_channel(name) == channel


def test_a_pain_lands_on_the_touchpoint_it_names_or_the_lowest_rated() -> None:
    names = ["Instagram post", "Picking up the cake", "Paying"]
    assert named_touchpoint("the queue when picking up on Saturday", names, {1: 4, 2: 3, 3: 2}) == 2
    assert named_touchpoint("it all takes too long", names, {1: 4, 2: 3, 3: 2}) == 3


def run(state: State, *lines: str):
    outcome = None
    for line in lines:
        event = Choice(line[1:], state_step(outcome)) if line.startswith("!") else parse_input(line)
        outcome = handle(state, event, Context())
        state = outcome.state
    assert outcome is not None
    return outcome


def state_step(outcome) -> str | None:
    return outcome.replies[-1].step if outcome else None


def started(lang: str = "en") -> State:
    return handle(State(), Start(lang_hint=lang)).state


def test_a_six_stage_journey_with_a_template_takes_at_most_35_turns_with_full_depth() -> None:
    outcome = handle(State(), Start(lang_hint="en"))
    state, turns, progress = outcome.state, 0, []
    ratings = iter(["4 3 4", "3 2 - prices are only in a PDF", "3 2", "2 5 - a queue at the counter on Saturday", "3 3", "4 3"])
    answers = iter(HEAD_EN)
    while not state.complete:
        question = outcome.replies[-1]
        assert question.type == "question", [r.text for r in outcome.replies]
        step = question.step or ""
        if step == "journey.stages" or step.endswith(".touchpoints"):
            event = Choice("__keep__", step)
        elif step == "journey.team":
            event = Choice("owner", step)
        elif question.kind == "ratings":
            event = parse_input(next(ratings))
        elif step.endswith(".pains"):
            event = parse_input("the order form asks too much")
        elif step.endswith(".channel"):
            event = Choice("website", step)
        elif step == "journey.evidence":
            event = parse_input("interviews, gut")
        elif step == "journey.delights":
            event = parse_input("tasting the cake at the party")
        elif step == "journey.review":
            event = Choice("monthly", step)
        else:
            event = parse_input(next(answers))
        outcome = handle(state, event, Context())
        state, turns = outcome.state, turns + 1
        if question.progress:
            progress.append((question.progress.answered, question.progress.total))
    assert turns <= 35 and outcome.effects == [JourneyCompleted()]
    view = build_view(state.answers, "en")
    assert len(view.stages) == 6 and 12 <= sum(len(s.touchpoints) for s in view.stages) <= 15
    for stage, tp in view.touchpoints():
        assert tp.channel.known and tp.score is not None and tp.team.known, (stage.name, tp.name)
        assert tp.team.value == "owner"
    assert all(view.fields[f"stage.{s.slug}.evidence"].known for s in view.stages)
    assert any(s.delights.known for s in view.stages)
    answered = [a for a, _ in progress]
    assert answered == sorted(answered), "progress never runs backwards"
    totals = [t for _, t in progress]
    assert max(totals) - min(totals) <= 4 and totals[-1] <= 35


def test_the_map_is_shown_once_every_stage_is_rated() -> None:
    state = run(started(), *HEAD_EN, "Discover, Buy", "owner").state
    out = run(state, "Instagram post, Shop window")
    out = run(out.state, "4 5")
    assert "map" not in [r.type for r in out.replies]
    out = run(out.state, "Paying at the till")
    out = run(out.state, "2")
    assert [r.type for r in out.replies][0] == "map"
    assert out.replies[-1].step == "stage.buy.pains"


def test_a_journey_of_the_first_flow_resumes_and_finishes() -> None:
    """Stage one was answered touchpoint by touchpoint, with evidence and delights per stage."""
    old = {key: {"v": value, "s": "ok"} for key, value in {
        "business.name": "Old Shop", "business.sector": "other", "journey.goal": "leads", "journey.process": "a first order",
        "concept.promise": "fresh every day", "persona.name": "Olga", "persona.role": "retired teacher",
        "persona.goals": "a good breakfast", "persona.pains": "stairs", "persona.channels": ["google"],
        "persona.trust": "neighbours", "persona.trigger": "guests coming", "persona.source": ["gut"],
        "journey.stages": ["Find", "Buy"], "stage.find.touchpoints": ["Google", "Window"],
        "stage.find.tp1.channel": "website", "stage.find.tp1.feeling": 4, "stage.find.tp1.team": "marketing",
        "stage.find.tp2.channel": "shop", "stage.find.tp2.feeling": 2, "stage.find.tp2.team": "sales",
        "stage.find.evidence": ["gut"],
    }.items()}
    for key in ("concept.sacrifice", "persona.behaviour", "stage.find.tp1.pain", "stage.find.tp2.pain", "stage.find.delights"):
        old[key] = {"v": None, "s": "skipped"}
    state = State(lang="en", journey_id=3, cursor="stage.buy.touchpoints", answers=old)
    out = handle(state, Start(), Context())
    assert out.replies[-1].step == "stage.buy.touchpoints", "the first stage is not asked again"
    out = run(out.state, "Counter")
    assert out.replies[-1].step == "stage.buy.ratings"
    out = run(out.state, "3")
    assert out.replies[-1].step == "stage.buy.team", "no journey team yet: this stage's team is asked"
    out = run(out.state, "sales", "data", "/skip", "!quarterly")
    assert out.state.complete
    view = build_view(out.state.answers, "en")
    assert view.fields["stage.find.evidence"].value == ["gut"], "what was answered per stage is kept"
    assert view.fields["stage.buy.evidence"].value == ["data"]
    assert [tp.team.value for _, tp in view.touchpoints()] == ["marketing", "sales", "sales"]


def test_status_progress_and_the_summary_agree_on_what_is_left() -> None:
    out = run(started(), *HEAD_EN, "Discover, Buy", "owner", "Instagram post, Shop window")
    question = out.replies[-1]
    assert question.kind == "ratings" and question.progress is not None
    status = run(out.state, "/status").replies[0]
    assert f"{question.progress.answered} of {question.progress.total}" in status.text
    view = build_view(out.state.answers, "en")
    # left: this stage's ratings and its pains, the next stage's touchpoints, ratings and pains, evidence, delights, review
    assert question.progress.left == 8
    assert len(view.missing) == question.progress.left, view.missing


def test_a_stage_told_in_own_words_is_read_into_touchpoints_and_confirmed_first() -> None:
    state = run(started("nl"), *HEAD_EN, "Ontdekken, Kopen", "owner").state
    out = run(state, "ze ziet ons op Instagram, leest Google-reviews en belt ons dan")
    question = out.replies[-1]
    assert question.data["described"] == ["Ziet ons op Instagram", "Leest Google-reviews", "Belt ons"]
    assert "(Social media)" in question.text or "(" in question.text
    assert "stage.ontdekken.touchpoints" not in out.state.answers, "nothing stored before the owner agrees"
    kept = handle(out.state, Choice("__keep__", question.step), Context())
    assert kept.state.answers["stage.ontdekken.touchpoints"]["v"] == ["Ziet ons op Instagram", "Leest Google-reviews", "Belt ons"]
    assert kept.state.answers["stage.ontdekken.tp1.channel"]["v"] == "social"
    assert kept.state.answers["stage.ontdekken.tp2.channel"]["v"] == "review_site"
    assert kept.state.answers["stage.ontdekken.tp3.channel"]["v"] == "phone"
    assert kept.replies[-1].kind == "ratings"
    retyped = run(out.state, "Instagram, Google-reviews")
    assert retyped.state.answers["stage.ontdekken.touchpoints"]["v"] == ["Instagram", "Google-reviews"]
    plain = run(state, "Instagram, Etalage")
    assert plain.state.answers["stage.ontdekken.touchpoints"]["v"] == ["Instagram", "Etalage"], "a plain list is stored at once"


def test_one_stage_evidence_given_for_all_is_changed_with_edit() -> None:
    out = run(started(), *HEAD_EN, "Discover, Buy", "owner", "Instagram post", "4", "Shop window", "5", "interviews")
    assert out.replies[-1].step == "journey.delights"
    assert out.state.answers["stage.buy.evidence"]["v"] == ["interviews"]
    edit = run(out.state, "/edit stage.buy.evidence")
    assert edit.replies[-1].step == "stage.buy.evidence"
    changed = run(edit.state, "gut")
    assert changed.state.answers["stage.buy.evidence"]["v"] == ["gut"]
    assert changed.state.answers["stage.discover.evidence"]["v"] == ["interviews"]
    assert changed.replies[-1].step == "journey.delights", "back to where the owner was"


def test_the_edit_list_offers_each_stage_evidence() -> None:
    out = run(started(), *HEAD_EN, "Discover, Buy", "owner", "Instagram post", "4", "Shop window", "5", "interviews")
    listing = run(out.state, "/edit").replies[0]
    steps = [a["step"] for a in listing.data["answers"]]
    assert "stage.discover.evidence" in steps and "stage.buy.evidence" in steps
    n = steps.index("stage.buy.evidence") + 1
    assert run(out.state, f"/edit {n}").replies[-1].step == "stage.buy.evidence"
