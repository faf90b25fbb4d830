"""The pure engine: forward, back, skip, status, summary, new journey, language, bad input."""
from __future__ import annotations

from bot import engine
from bot.engine import DONE, DONT_KNOW, KEEP, Context, JourneyRef, State, handle, needs
from bot.engine.commands import REGISTRY
from bot.engine.effects import (AddSurveyAnswers, ForgetOwner, JourneyCompleted, NewJourney, OpenJourney, SaveVersion,
                                SetTodoStatus, SurveyAnswer)
from bot.events import COMMANDS, Choice, Command, Start, Text, parse_input
from bot.vocabulary import SHOW, TodoRef


def start(lang: str = "en") -> State:
    outcome = handle(State(), Start())
    assert outcome.replies[-1].step == "meta.language"
    outcome = handle(outcome.state, Choice(lang, "meta.language"))
    assert outcome.replies[-1].step == "business.name"
    return outcome.state


def say(state: State, *lines: str, ctx: Context | None = None):
    outcome = None
    for line in lines:
        outcome = handle(state, parse_input(line), ctx)
        state = outcome.state
    assert outcome is not None
    return outcome


def test_start_with_a_language_hint_skips_the_language_question():
    outcome = handle(State(), Start(lang_hint="nl-BE"))
    assert outcome.state.lang == "nl"
    assert outcome.replies[-1].step == "business.name"
    assert outcome.replies[-1].text.startswith("We brengen")


def test_forward_records_and_moves_on():
    out = say(start(), "Bakery Bart")
    assert out.state.answers["business.name"] == {"v": "Bakery Bart", "s": "ok"}
    assert out.logged[0].key == "business.name" and out.progress == (1, 35)
    question = out.replies[-1]
    assert question.step == "business.sector" and "Bakery Bart" in question.text
    assert [c.value for c in question.choices][:2] == ["bakery", "salon"]
    assert question.progress and question.progress.answered == 1


def test_choice_by_number_label_value_and_free_text():
    state = say(start(), "Bakery Bart").state
    assert say(state, "1").state.answers["business.sector"]["v"] == "bakery"
    assert say(state, "hair or beauty salon").state.answers["business.sector"]["v"] == "salon"
    assert say(state, "Florist").state.answers["business.sector"]["v"] == "Florist"  # other: free text
    out = handle(state, Choice("webshop", "business.sector"))
    assert out.state.answers["business.sector"]["v"] == "webshop"


def test_back_changes_the_previous_answer_and_returns():
    state = say(start(), "Bakery Bart", "1").state
    out = say(state, "/back")
    assert out.replies[-1].step == "business.sector"
    assert "Current answer: Bakery or café" in out.replies[-1].text
    out = say(out.state, "/back")
    assert out.replies[-1].step == "business.name"
    out = say(out.state, "Bakery Bert")
    assert out.state.answers["business.name"]["v"] == "Bakery Bert"
    assert out.replies[-1].step == "journey.goal", "after a change the interview goes on where it was"
    out = say(start(), "/back")
    assert out.replies[0].type == "error"


def test_skip_only_optional_steps_or_keeps_an_answer():
    state = say(start(), "Bakery Bart", "1", "leads", "first order", "fresh bread every morning").state
    out = say(state, "/skip")
    assert out.state.answers["concept.sacrifice"]["s"] == "skipped"
    assert out.replies[-1].step == "persona.name"
    out2 = say(out.state, "/skip")
    assert out2.replies[0].type == "error" and out2.replies[-1].step == "persona.name"
    assert "persona.name" not in out2.state.answers


def test_dont_know_is_an_answer():
    state = say(start(), "Bakery Bart", "1", "leads").state
    out = say(state, "I don't know")
    assert out.state.answers["journey.process"] == {"v": None, "s": "unknown"}
    out = handle(out.state, Choice(DONT_KNOW, "concept.promise"))
    assert out.state.answers["concept.promise"]["s"] == "unknown"


def test_bad_input_reasks_and_stores_nothing():
    state = start()
    for bad, hint in (("", "needs an answer"), ("   ", "needs an answer"), ("x" * 2001, "2001 characters")):
        out = say(state, bad) if bad.strip() else handle(state, Text(bad))
        assert out.replies[0].type == "error" and hint in out.replies[0].text
        assert out.replies[-1].step == "business.name"
        assert not out.logged and not out.state.answers
    state = say(state, "Bart", "1", "leads", "first order", "fresh bread daily", "/skip", "Brenda", "mum of two", "healthy breakfast", "no time left", "/skip").state
    out = say(state, "google, carrier pigeon")  # persona.channels takes free text too
    assert out.state.answers["persona.channels"]["v"] == ["google", "carrier pigeon"]
    state = say(out.state, "good reviews online", "hungry kids at home").state
    out = say(state, "telepathy")
    assert out.replies[0].type == "error" and "telepathy" in out.replies[0].text
    assert "persona.source" not in out.state.answers
    state = say(state, "gut", "Awareness, Purchase", "owner").state
    out = say(state, "Instagram, Flyer")
    assert out.replies[-1].kind == "ratings"
    for bad in ("0 3", "6 3", "3.5 3", "very"):
        bad_out = say(out.state, bad)
        assert bad_out.replies[0].type == "error" and "1 (very negative) to 5" in bad_out.replies[0].text
        assert not bad_out.logged
    too_many = say(out.state, "4 3 2")
    assert too_many.replies[0].type == "error" and "3 ratings for 2 steps" in too_many.replies[0].text
    half = say(out.state, "4")
    assert half.replies[0].type == "error" and "Flyer" in half.replies[0].text and not half.logged
    rated = say(half.state, "2=2")
    assert rated.state.answers["stage.awareness.tp1.feeling"]["v"] == 4
    assert rated.state.answers["stage.awareness.tp2.feeling"]["v"] == 2


def test_multi_choice_toggles_then_done():
    state = say(start(), "Bart", "1", "leads", "first order", "fresh bread daily", "/skip", "Brenda", "mum of two", "healthy breakfast", "no time left", "/skip").state
    out = handle(state, Choice(DONE, "persona.channels"))
    assert out.replies[0].type == "error"
    out = handle(state, Choice("google", "persona.channels"))
    out = handle(out.state, Choice("instagram", "persona.channels"))
    out = handle(out.state, Choice("google", "persona.channels"))
    assert out.replies[-1].data["selected"] == ["instagram"] and not out.logged
    out = handle(out.state, Choice(DONE, "persona.channels"))
    assert out.state.answers["persona.channels"]["v"] == ["instagram"]


def test_stages_can_be_kept_renamed_dropped_or_added():
    base = say(start(), "Bart", "1", "leads", "first order", "fresh bread daily", "/skip", "Brenda", "mum of two", "healthy breakfast", "no time left", "/skip", "google", "good reviews online", "hungry kids at home", "gut").state
    kept = handle(base, Choice(KEEP, "journey.stages"))
    assert kept.state.answers["journey.stages"]["v"][0] == "Awareness" and len(kept.state.answers["journey.stages"]["v"]) == 6
    assert kept.replies[-1].step == "journey.team"
    kept = handle(kept.state, Choice("owner", "journey.team"))
    assert kept.replies[-1].step == "stage.awareness.touchpoints"
    assert kept.replies[-1].progress.stage_count == 6
    custom = say(base, "Discover\nOrder online\nEnjoy")
    assert custom.replies[-1].step == "journey.team"
    custom = say(custom.state, "per_stage")
    assert custom.replies[-1].text.startswith("Stage 1 of 3: Discover")
    out = say(custom.state, "Instagram, Shop visit, Something else")
    assert out.state.answers["stage.discover.tp1.channel"] == {"v": "social", "s": "ok", "by": "inferred"}
    assert out.state.answers["stage.discover.tp2.channel"]["v"] == "shop"
    assert out.replies[-1].step == "stage.discover.ratings"
    out = say(out.state, "4 2 3")
    assert out.replies[-1].step == "stage.discover.pains", "a low point asks what goes wrong"
    out = say(out.state, "the shop visit takes too long")
    assert out.state.answers["stage.discover.tp2.pain"]["v"] == "the shop visit takes too long"
    assert out.state.answers["stage.discover.tp1.pain"]["s"] == "skipped"
    assert out.replies[-1].step == "stage.discover.team"
    out = say(out.state, "marketing")
    assert all(out.state.answers[f"stage.discover.tp{n}.team"]["v"] == "marketing" for n in (1, 2, 3))
    assert out.replies[-1].step == "stage.discover.tp3.channel", "only the channel no name says is asked"


def test_status_summary_and_export_mid_way():
    state = say(start(), "Bakery Bart", "1").state
    state.journey_id = 7
    status = say(state, "/status")
    assert status.replies[0].type == "info" and "2 of 35" in status.replies[0].text
    summary = say(state, "/summary")
    assert summary.replies[0].type == "summary" and summary.replies[0].journey_id == 7
    assert summary.replies[-1].step == "journey.goal"
    export = say(state, "/export")
    assert export.replies[0].type == "export"
    empty = say(start(), "/summary")
    assert empty.replies[0].type == "error"


def test_new_list_open():
    state = say(start(), "Bakery Bart").state
    state.journey_id = 1
    out = say(state, "/new")
    assert out.effects == [NewJourney()] and out.state.answers == {} and out.state.journey_id is None
    assert out.progress == (0, 35)
    assert out.replies[-1].step == "business.name"
    refs = [JourneyRef(1, "Bakery Bart", 1, 16), JourneyRef(2, "Shop", 3, 16)]
    ctx = Context(journeys=refs)
    listing = say(state, "/list", ctx=ctx)
    assert "1. Bakery Bart" in listing.replies[0].text and "2. Shop" in listing.replies[0].text
    opened = say(state, "/open 2", ctx=ctx)
    assert opened.effects == [OpenJourney(2)] and opened.progress is None
    missing = say(state, "/open 9", ctx=ctx)
    assert missing.effects == [] and missing.replies[0].type == "error"


def test_language_switch_any_time():
    state = say(start("en"), "Bakery Bart").state
    out = say(state, "/language nl")
    assert out.state.lang == "nl" and out.replies[0].text == "Vanaf nu spreken we Nederlands."
    assert out.replies[-1].text.startswith("Wat voor bedrijf is Bakery Bart")
    out = say(out.state, "/taal")
    assert out.replies[-1].step == "meta.language"
    out = handle(out.state, Text("English"))
    assert out.state.lang == "en" and out.replies[-1].step == "business.sector"
    bad = say(state, "/language fr")
    assert bad.replies[0].type == "error" and bad.state.lang == "en"


def test_stale_button_is_answered_politely():
    state = say(start(), "Bakery Bart", "1").state
    out = handle(state, Choice("salon", "business.sector"))
    assert out.replies[0].type == "info" and "already answered" in out.replies[0].text
    assert out.replies[-1].step == "journey.goal"
    assert state.answers["business.sector"]["v"] == "bakery" and not out.logged


def test_cancel_pauses_and_forget_asks_first():
    state = say(start(), "Bakery Bart").state
    paused = say(state, "/cancel")
    assert paused.state.paused and paused.replies[-1].type == "info"
    resumed = say(paused.state, "hello")
    assert not resumed.state.paused and resumed.replies[-1].step == "business.sector" and not resumed.logged
    ask = say(state, "/forget")
    assert ask.replies[-1].step == engine.FORGET_STEP and ask.effects == []
    no = handle(ask.state, Choice("no", engine.FORGET_STEP))
    assert no.effects == [] and no.replies[-1].step == "business.sector"
    yes = handle(ask.state, Choice("yes", engine.FORGET_STEP))
    assert yes.effects == [ForgetOwner()] and yes.replies[-1].type == "forgotten"


def test_unknown_command_and_dutch_aliases():
    out = say(start("nl"), "/vliegen")
    assert out.replies[0].type == "error" and "/vliegen" in out.replies[0].text
    assert parse_input("/terug").name == "back" and parse_input("/samenvatting").name == "summary"
    assert isinstance(parse_input("/ not a command"), Text)


def test_completion_says_done_and_asks_for_the_summary():
    state = say(start(), "B", "other", "leads", "first order", "good bread daily", "/skip", "Pia", "young mum", "good food fast",
                "no time at all", "/skip", "google", "friends who tried it", "an empty fridge", "gut", "Only", "sales").state
    out = say(state, "Shop visit", "5")
    assert [r.type for r in out.replies][:1] == ["map"], "the map is shown once every stage is rated"
    out = say(out.state, "gut", "/skip")
    assert out.replies[-1].step == "journey.review" and out.replies[-1].choices[0].value == "monthly"
    out = say(out.state, "1")
    assert [r.type for r in out.replies] == ["done", "summary"] and out.effects == [JourneyCompleted()]
    assert out.state.complete and out.state.cursor is None
    again = say(out.state, "/back")
    assert again.replies[-1].step == "journey.review" and not again.state.complete


def test_a_vague_answer_gets_exactly_one_follow_up():
    state = say(start(), "Bakery Bart", "1", "leads", "a first birthday cake order").state
    out = say(state, "everything")
    assert out.replies[0].type == "info" and "For example" in out.replies[0].text
    assert out.replies[-1].step == "concept.promise" and not out.logged
    again = say(out.state, "good")
    assert again.state.answers["concept.promise"]["v"] == "good", "the second answer is accepted as given"
    assert again.replies[-1].step == "concept.sacrifice"
    persona = say(again.state, "/skip", "iedereen")
    assert persona.replies[0].type == "info" and persona.replies[-1].step == "persona.name"
    sharp = say(state, "Cakes that look exactly like the photo")
    assert sharp.replies[0].type == "question" and sharp.state.answers["concept.promise"]["s"] == "ok"


def test_sector_template_proposes_stages_and_touchpoints():
    state = say(start("nl"), "Kapsalon Knip", "2", "leads", "een eerste knipbeurt boeken").state
    state = say(state, "Een kapsel dat thuis ook goed zit", "/skip", "Stijlvolle Sanne", "student van twintig",
                "er goed uitzien zonder veel moeite", "geen tijd en weinig geld", "/skip", "instagram",
                "foto's van echt werk", "een feest volgende week", "interviews").state
    ask = handle(state, Command("status"))
    question = ask.replies[-1]
    assert question.step == "journey.stages" and "Afspraak maken" in question.text
    out = handle(state, Choice(KEEP, "journey.stages"))
    assert out.state.answers["journey.stages"]["v"][2] == "Afspraak maken"
    out = handle(out.state, Choice("owner", "journey.team"))
    touch = out.replies[-1]
    assert touch.step == "stage.bewustwording.touchpoints"
    assert "Instagram voor-en-na" in touch.text and touch.choices[0].value == KEEP
    accepted = handle(out.state, Choice(KEEP, touch.step))
    assert accepted.state.answers[touch.step]["v"] == ["Instagram voor-en-na", "Nieuw kapsel van een vriendin"]
    corrected = say(out.state, "Instagram voor-en-na\nEtalage")
    assert corrected.state.answers[touch.step]["v"] == ["Instagram voor-en-na", "Etalage"]


def test_every_command_is_registered_and_needs_name_what_to_load():
    assert set(REGISTRY) == set(COMMANDS) | {SHOW}
    state = start()
    assert needs(state, Command("list")) == needs(state, Command("open", "2")) == {"journeys"}
    assert needs(state, Command("todo")) == needs(state, Command("review")) == {"todos"}
    assert needs(state, Text("hello")) == needs(state, Command("bogus")) == needs(state, Command("back")) == frozenset()
    reviewing = State(lang="en", pending="review", review=["todo:1"])
    assert needs(reviewing, Text("done")) == needs(reviewing, Command("skip")) == {"todos"}


def finished(journey_id: int = 5) -> State:
    state = say(start(), "B", "other", "leads", "first order", "good bread daily", "/skip", "Pia", "young mum", "good food fast",
                "no time at all", "/skip", "google", "friends who tried it", "an empty fridge", "gut", "Only", "sales",
                "Shop visit", "2", "/skip", "gut", "/skip", "1").state
    assert state.complete
    state.journey_id = journey_id
    return state


TODOS = (TodoRef(1, "improvement", "Faster service", "open"), TodoRef(2, "wow", "A free coffee", "done"))


def test_todo_command_sets_a_status_by_word_in_either_language():
    ctx = Context(todos=TODOS)
    listing = say(finished(), "/todo", ctx=ctx)
    assert listing.replies[0].data == {"todos": [1, 2]} and "Faster service" in listing.replies[0].text
    done = say(finished(), "/todo 1 gepland", ctx=ctx)
    assert done.effects == [SetTodoStatus(1, "planned")] and done.progress is None
    assert say(finished(), "/todo 9 done", ctx=ctx).replies[0].type == "error"
    assert say(finished(), "/todo 1 someday", ctx=ctx).effects == []


def test_review_walks_touchpoints_feelings_and_open_todos_then_saves_a_version():
    ctx = Context(todos=TODOS)
    out = say(finished(), "/review", ctx=ctx)
    assert out.replies[-1].step == "review:stage.only.touchpoints" and out.state.pending == "review"
    out = handle(out.state, Choice(KEEP, out.replies[-1].step), ctx)
    assert out.replies[-1].step == "review:stage.only.tp1.feeling"
    out = say(out.state, "4", ctx=ctx)
    assert out.logged[0].value == 4 and out.progress is not None
    assert out.replies[-1].step == "review:todo:1", "done to-dos are not asked about"
    out = say(out.state, "done", ctx=ctx)
    assert out.effects == [SetTodoStatus(1, "done"), SaveVersion()]
    assert out.state.pending is None and [r.type for r in out.replies] == ["info", "summary"]


def test_survey_results_become_typed_answers():
    state = finished()
    survey = say(state, "/survey")
    assert survey.replies[0].data["survey"] == ["only", "_overall"]
    saved = say(state, "/results Only,Total,Comment\n2,3,Too slow\n4,,")
    [effect] = saved.effects
    assert effect == AddSurveyAnswers((SurveyAnswer({"only": 2, "_overall": 3}, "Too slow"), SurveyAnswer({"only": 4}, "")), key=effect.key)
    assert effect.key and len(effect.key) == 64, "the import's sha256, so the same answers are stored once"
    ask = say(state, "/results")
    assert ask.replies[-1].step == "meta.survey" and ask.state.pending == "survey"
    bad = say(ask.state, "9")
    assert bad.replies[0].type == "error" and bad.state.pending == "survey" and bad.effects == []
