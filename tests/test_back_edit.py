"""Fixing an earlier answer where it is: /back and /edit return to where the owner was, and an edited
chat message changes the answer it carried while that is still the last one (engine level; the
Telegram and Slack adapters are in test_telegram_edits.py and test_slack_edits.py)."""
from __future__ import annotations

import json

from bot.engine import Context, DONE, State, handle
from bot.engine.commands import REGISTRY
from bot.engine.state import Outcome
from bot.events import COMMANDS, Choice, Command, EditedText, Event, Start, Text, parse_input, step_token

INTRO = ("Bakery Bart", "1", "leads", "a first order of a birthday cake")  # name, sector, goal, process


def start(lang: str = "en") -> State:
    outcome = handle(State(), Start())
    return handle(outcome.state, Choice(lang, "meta.language")).state


def say(state: State, *lines: str | Event) -> Outcome:
    outcome = None
    for line in lines:
        outcome = handle(state, parse_input(line) if isinstance(line, str) else line, Context())
        state = round_trip(outcome.state)
        outcome.state = state
    assert outcome is not None
    return outcome


def round_trip(state: State) -> State:
    """The state as the store keeps it: the conversation fields go through JSON."""
    fields = json.loads(json.dumps(state.conversation_fields()))
    return State(journey_id=state.journey_id, answers=json.loads(json.dumps(state.answers)), **fields)


def asked(out: Outcome) -> str | None:
    questions = [r for r in out.replies if r.type == "question"]
    return questions[-1].step if questions else None


def value(out: Outcome, key: str) -> object:
    return out.state.answers[key]["v"]


# ---------------------------------------------------------------------------- /back
def test_back_then_an_answer_returns_to_where_the_owner_was():
    out = say(start(), *INTRO)
    assert asked(out) == "concept.promise"
    out = say(out.state, "/back")
    assert asked(out) == "journey.process" and out.state.resume == "concept.promise"
    assert "Current answer: a first order of a birthday cake" in out.replies[-1].text
    out = say(out.state, "a wedding cake ordered by phone")
    assert value(out, "journey.process") == "a wedding cake ordered by phone"
    assert asked(out) == "concept.promise" and out.state.resume is None


def test_several_backs_keep_the_first_return_point_and_leave_the_answers_between():
    out = say(start(), *INTRO)
    out = say(out.state, "/back", "/back", "/back")
    assert asked(out) == "business.sector" and out.state.resume == "concept.promise"
    out = say(out.state, "2")
    assert value(out, "business.sector") == "salon"
    assert asked(out) == "concept.promise", "after the change the interview goes on where the owner was"
    assert value(out, "journey.goal") == "leads" and value(out, "journey.process") == "a first order of a birthday cake"
    assert [item.key for item in out.logged] == ["business.sector"]


def test_back_then_skip_keeps_the_answer_and_returns():
    out = say(start(), *INTRO)
    out = say(out.state, "/back", "/back", "/skip")
    assert asked(out) == "concept.promise" and value(out, "journey.goal") == "leads" and not out.logged


def test_back_on_the_first_question_says_there_is_nothing_before():
    out = say(start(), "/back")
    assert out.replies[0].type == "error" and asked(out) == "business.name" and out.state.resume is None


def test_the_return_point_survives_a_restart_and_goes_with_a_new_journey():
    out = say(start(), *INTRO, "/back")
    assert round_trip(out.state).resume == "concept.promise"
    out = say(out.state, "/new")
    assert out.state.resume is None and out.state.last_answer is None and asked(out) == "business.name"


# ---------------------------------------------------------------------------- /edit
def test_edit_lists_the_answers_numbered_and_edit_n_asks_one_again():
    out = say(start(), *INTRO)
    listed = say(out.state, "/edit")
    info = listed.replies[0]
    assert info.type == "info"
    assert "1. Business name: Bakery Bart" in info.text and "2. Kind of business: Bakery or café" in info.text
    assert "4. Process mapped: a first order of a birthday cake" in info.text and "/edit N" in info.text
    assert [a["step"] for a in info.data["answers"]] == ["business.name", "business.sector", "journey.goal", "journey.process"]
    assert asked(listed) == "concept.promise", "the list is followed by the open question"
    assert not listed.logged and listed.state.resume is None

    out = say(out.state, "/edit 1")
    assert asked(out) == "business.name" and "Current answer: Bakery Bart" in out.replies[-1].text
    out = say(out.state, "Bakery Bert")
    assert value(out, "business.name") == "Bakery Bert"
    assert asked(out) == "concept.promise", "no redoing of what follows"
    assert value(out, "business.sector") == "bakery" and value(out, "journey.goal") == "leads"


def test_edit_by_step_key_or_token_and_a_wrong_number():
    out = say(start(), *INTRO)
    assert asked(say(out.state, "/edit journey.goal")) == "journey.goal"
    assert asked(say(out.state, Command("edit", step_token("journey.goal")))) == "journey.goal"
    wrong = say(out.state, "/edit 9")
    assert wrong.replies[0].type == "error" and "9" in wrong.replies[0].text and "/edit" in wrong.replies[0].text
    assert asked(wrong) == "concept.promise" and wrong.state.resume is None
    nothing = say(start(), "/edit")
    assert nothing.replies[0].type == "error" and asked(nothing) == "business.name"


def test_edit_then_back_keeps_the_first_return_point():
    out = say(start(), *INTRO)
    out = say(out.state, "/edit 3", "/back")
    assert asked(out) == "business.sector" and out.state.resume == "concept.promise"
    out = say(out.state, "1")
    assert asked(out) == "concept.promise"


def test_wijzig_in_dutch():
    out = say(start("nl"), "Bakkerij Bart", "1", "leads", "een eerste bestelling van een taart")
    assert parse_input("/wijzig 2") == Command("edit", "2")
    listed = say(out.state, "/wijzig")
    assert "1. Naam van het bedrijf: Bakkerij Bart" in listed.replies[0].text
    assert "/wijzig N" in listed.replies[0].text
    out = say(out.state, "/wijzig 1", "Bakkerij Bert")
    assert value(out, "business.name") == "Bakkerij Bert" and asked(out) == "concept.promise"
    wrong = say(out.state, "/wijzig 12")
    assert "Er is geen antwoord 12" in wrong.replies[0].text


def test_edit_and_back_are_registered_commands():
    assert "edit" in COMMANDS and "edit" in REGISTRY


def answer_anything(out: Outcome) -> list[Event]:
    """Something the open question accepts, whatever its kind."""
    question = [r for r in out.replies if r.type == "question"][-1]
    values = [c.value for c in question.choices]
    if question.kind == "list":
        return [Text("Instagram post, Website")]
    if question.kind == "multi_choice":
        return [Choice(values[0], question.step), Choice(DONE, question.step)]
    if question.kind in ("single_choice", "scale"):
        return [Choice(values[0], question.step)]
    if question.kind == "ratings":
        return [Text(" ".join("4" for _ in question.data.get("touchpoints", ())))]
    return [Text("a concrete answer with several words")]


def test_a_change_that_opens_questions_asks_them_before_returning():
    out = say(start(), *INTRO)
    for _ in range(60):
        if asked(out) == "stage.purchase.touchpoints":
            break
        out = say(out.state, *(["Awareness, Purchase"] if asked(out) == "journey.stages" else answer_anything(out)))
    assert asked(out) == "stage.purchase.touchpoints"
    out = say(out.state, "/edit journey.stages", "Awareness, Visit, Purchase")
    assert asked(out).startswith("stage.visit."), "the new stage's questions come first"
    assert out.state.resume == "stage.purchase.touchpoints"
    for _ in range(20):
        if not asked(out).startswith("stage.visit."):
            break
        out = say(out.state, *answer_anything(out))
    assert asked(out) == "stage.purchase.touchpoints" and out.state.resume is None


# ---------------------------------------------------------------------------- edited messages
def test_an_edited_message_updates_the_last_answer_and_stays_where_the_owner_is():
    out = say(start(), Text("Bakery Bart", message_id="m1"))
    assert out.state.last_answer == {"step": "business.name", "msg": "m1"}
    out = say(out.state, EditedText("Bakery Bert", "m1"))
    assert value(out, "business.name") == "Bakery Bert"
    assert [item.key for item in out.logged] == ["business.name"]
    assert out.replies[0].type == "info" and "Bakery Bert" in out.replies[0].text and "Business name" in out.replies[0].text
    assert asked(out) == "business.sector" and "Bakery Bert" in out.replies[-1].text
    assert out.state.cursor == "business.sector" and out.state.resume is None
    again = say(out.state, EditedText("Bakery Bort", "m1"))  # the same message edited twice
    assert value(again, "business.name") == "Bakery Bort"


def test_an_edited_older_message_is_refused_with_a_hint_and_never_answers():
    out = say(start(), Text("Bakery Bart", message_id="m1"), Text("1", message_id="m2"))
    assert out.state.last_answer == {"step": "business.sector", "msg": "m2"}
    refused = say(out.state, EditedText("Bakery Bert", "m1"))
    assert len(refused.replies) == 1 and refused.replies[0].type == "info" and "/edit" in refused.replies[0].text
    assert not refused.logged and refused.state.answers == out.state.answers and refused.state.cursor == "journey.goal"
    # an edited message is never the answer to the open question
    stray = say(out.state, EditedText("leads", "m0"))
    assert not stray.logged and "journey.goal" not in stray.state.answers and stray.state.cursor == "journey.goal"


def test_an_edit_after_a_tapped_answer_or_of_a_command_is_refused():
    out = say(start(), Text("Bakery Bart", message_id="m1"), Choice("bakery", "business.sector"))
    assert out.state.last_answer is None, "a tapped answer came after the typed one"
    refused = say(out.state, EditedText("Bakery Bert", "m1"))
    assert not refused.logged and "/edit" in refused.replies[0].text
    out = say(start(), Text("Bakery Bart", message_id="m1"))
    assert not say(out.state, EditedText("/back", "m1")).logged
    out = say(out.state, "/status")  # a command answers nothing: the last answer is still the name
    assert value(say(out.state, EditedText("Bakery Bert", "m1")), "business.name") == "Bakery Bert"


def test_an_edit_during_a_back_returns_to_the_question_the_owner_was_at():
    out = say(start(), Text("Bakery Bart", message_id="m1"), Text("1", message_id="m2"))
    out = say(out.state, "/back", "/back")
    assert asked(out) == "business.name" and out.state.resume == "journey.goal"
    out = say(out.state, EditedText("2", "m2"))
    assert value(out, "business.sector") == "salon"
    assert asked(out) == "business.name", "back at the question the owner was looking at"
    assert out.state.resume == "journey.goal"
    out = say(out.state, "Salon Sara")
    assert asked(out) == "journey.goal" and value(out, "business.name") == "Salon Sara"


def test_an_edit_that_cannot_be_taken_asks_that_question_again():
    out = say(start(), Text("Bakery Bart", message_id="m1"))
    out = say(out.state, EditedText("x" * 2001, "m1"))
    assert out.replies[0].type == "error" and asked(out) == "business.name" and not out.logged
    assert value(out, "business.name") == "Bakery Bart"
    out = say(out.state, "Bakery Bert")
    assert asked(out) == "business.sector"


def test_edited_messages_in_dutch():
    out = say(start("nl"), Text("Bakkerij Bart", message_id="m1"))
    out = say(out.state, EditedText("Bakkerij Bert", "m1"))
    assert "gewijzigd" in out.replies[0].text and value(out, "business.name") == "Bakkerij Bert"
    out = say(out.state, Text("1", message_id="m2"))
    refused = say(out.state, EditedText("Bakkerij Bort", "m1"))
    assert "/wijzig" in refused.replies[0].text and "aangepast" in refused.replies[0].text and not refused.logged


def test_a_new_journey_forgets_the_last_answer():
    out = say(start(), Text("Bakery Bart", message_id="m1"), "/new")
    refused = say(out.state, EditedText("Bakery Bert", "m1"))
    assert not refused.logged and "business.name" not in refused.state.answers


def test_backs_from_a_complete_journey_end_it_again():
    out = say(start(), *INTRO)
    for _ in range(150):
        if out.state.complete:
            break
        out = say(out.state, *(["Awareness, Purchase"] if asked(out) == "journey.stages" else answer_anything(out)))
    assert out.state.complete
    back = say(out.state, "/back", "/back")
    assert not back.state.complete and back.state.resume is not None
    again = say(back.state, *answer_anything(back))
    assert again.state.complete and [r.type for r in again.replies] == ["done", "summary"]
    edited = say(out.state, "/edit 2", "2")
    assert edited.state.complete and value(edited, "business.sector") == "salon"
