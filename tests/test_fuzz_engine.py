"""Hypothesis over the pure engine: random event sequences (any unicode, any command, stale and
made-up buttons, half of them answers the current question would accept) never crash, and:

- the cursor is a step of the plan, or the journey is complete, or a question outside the flow
  (language, forget) is open;
- answers change only by what the outcome logs (except /new, /open and forget, which swap journeys);
  an answer filled for the owner carries the "by" its log line names ("(inferred)", "(stage)", ...),
  and the outcome's progress (bot.engine.progress.count) is set exactly when they changed;
- handling with only the lists `needs()` names gives the same outcome as with everything loaded;
- a complete journey has no question of its plan left open (bot.flow.is_open);
- every turn says something, and every question names a step of the plan (or a meta step);
- the state survives a JSON round trip (it is stored as JSON).
"""
from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import engine
from bot.engine import Context, JourneyRef, State
from bot.engine.effects import ForgetOwner, NewJourney, OpenJourney
from bot.events import COMMANDS, Choice, Command, Event, Start, Text, parse_input, step_token
from bot.engine.progress import count
from bot.flow import default_flow, is_open, plan

OUTSIDE_PREFIXES = tuple(p for p in (getattr(engine, "REVIEW_PREFIX", None),) if p)  # questions of a running review
SPECIAL = [engine.DONT_KNOW, engine.DONE, engine.SKIP, engine.KEEP]
WORDS = ["i don't know", "weet ik niet", "keep", "ok", "?", "1", "3", "5", "0", "6", "-1", "yes", "ja", "nee", "en", "nl",
         "a, b, c", "x;y", "one\ntwo", " ", "", "/", "//", "/back extra", "/open 1", "/open 999", "/language fr",
         "/taal nl", "/vergeet", "/unknowncmd", "\x00", "ok\x00ok", "'; DROP TABLE answer_log; --", "x" * 2001,
         ", ".join(["item"] * 13), "y" * 201]

any_text = st.text(max_size=120)  # the whole of unicode, surrogates excepted (they cannot come over the wire)
texts = st.one_of(any_text, st.sampled_from(WORDS))
random_events = st.one_of(
    st.builds(Start, lang_hint=st.sampled_from([None, "en", "nl", "nl-BE", "fr", ""])),
    st.builds(Text, texts),
    texts.map(parse_input),
    st.builds(Command, st.sampled_from(COMMANDS + ("bogus",)), st.one_of(st.sampled_from(["", "1", "2", "en", "nl", "xx"]), any_text)),
    st.builds(Choice, st.one_of(st.sampled_from(SPECIAL + ["1", "5", "yes", "no", "en", "bakery", "google"]), any_text),
              st.one_of(st.none(), any_text, st.sampled_from(["business.name", "persona.source", "meta.language"]))),
)


class Harness:
    """The engine with what the repository does around it, in memory."""

    def __init__(self) -> None:
        self.state = State()
        self.journeys: dict[int, dict[str, Any]] = {}
        self.next_id = 1

    def refs(self) -> list[JourneyRef]:
        return [JourneyRef(id=i, title=f"j{i}", answered=len(a), total=40) for i, a in self.journeys.items()]

    def context(self, state: State, event: Event) -> Context:
        """What the repository loads for this event: only the lists `needs()` names."""
        return Context(journeys=self.refs() if "journeys" in engine.needs(state, event) else ())

    def step(self, event: Event) -> engine.Outcome:
        before = dict(self.state.answers)
        outcome = engine.handle(self.state, event, self.context(self.state, event))
        assert outcome == engine.handle(self.state, event, Context(journeys=self.refs())), "needs() left out a list"
        check_outcome(before, outcome)
        state = outcome.state
        if any(isinstance(e, ForgetOwner) for e in outcome.effects):
            self.state, self.journeys = State(), {}
            return outcome
        opened = [e.journey_id for e in outcome.effects if isinstance(e, OpenJourney)]
        if opened:
            self.save(state)
            state = State(lang=state.lang, journey_id=opened[0], answers=dict(self.journeys[opened[0]]))
            show = Command(engine.SHOW)
            outcome = engine.handle(state, show, self.context(state, show))
            state = outcome.state
        if outcome.logged and state.journey_id is None:
            state.journey_id, self.next_id = self.next_id, self.next_id + 1
        self.save(state)
        self.state = json_round_trip(state)
        check_state(self.state)
        return outcome

    def save(self, state: State) -> None:
        if state.journey_id is not None:
            self.journeys[state.journey_id] = dict(state.answers)


def json_round_trip(state: State) -> State:
    fields = json.loads(json.dumps(state.conversation_fields()))
    answers = json.loads(json.dumps(state.answers))
    assert answers == state.answers, "answers do not survive JSON"
    fields.pop("lang")
    restored = State(lang=state.lang, journey_id=state.journey_id, answers=answers, **{k: v for k, v in fields.items() if k in State.__dataclass_fields__})
    return restored


def check_outcome(before: dict[str, Any], outcome: engine.Outcome) -> None:
    state = outcome.state
    assert outcome.replies, "a turn that says nothing"
    for reply in outcome.replies:
        assert isinstance(reply.text, str) and reply.lang in ("en", "nl")
    steps = plan(default_flow(), state.answers)
    if outcome.logged or NewJourney() in outcome.effects:
        assert outcome.progress == count(default_flow(), state.answers)
        answered, total = outcome.progress
        assert 0 <= answered <= total
    else:
        assert outcome.progress is None
    if any(isinstance(e, (NewJourney, ForgetOwner, OpenJourney)) for e in outcome.effects):
        return
    expected = dict(before)
    for item in outcome.logged:
        expected[item.key] = {"v": item.value, "s": item.status}
        by = (state.answers.get(item.key) or {}).get("by")
        if by is not None and item.raw == f"({by})":  # filled for the owner: logged as "(by)"
            expected[item.key]["by"] = by
    assert state.answers == expected, "answers changed without a logged answer"
    keys = {step.key for step in steps}
    for reply in outcome.replies:
        if reply.type == "question":
            assert reply.step in keys or reply.step.startswith(("meta.",) + OUTSIDE_PREFIXES), reply.step
            assert reply.choices or reply.kind in ("short_text", "long_text", "list"), reply
    for item in outcome.logged:
        assert item.status in ("ok", "unknown", "skipped")


def check_state(state: State) -> None:
    steps = plan(default_flow(), state.answers)
    keys = [step.key for step in steps]
    if state.complete:
        assert not [s.key for s in steps if is_open(s, state.answers)], "complete with open questions"
        return
    assert state.cursor is None or state.cursor in keys or state.pending, (state.cursor, state.pending)
    assert set(state.selection) <= set(sum((list(s.template.options) for s in plan(default_flow(), state.answers)), [])) | set(state.selection)


PAINS = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Nd")), min_size=1, max_size=40).filter(lambda s: s.strip() and not s.strip().startswith("/"))


def ratings_line(data: st.DataObject, question: Any) -> Event:
    """A valid answer to a ratings question: every touchpoint's score in one line ("4 3 2", "4,3,2"),
    perhaps with what goes wrong after a dash, or single touchpoints ("2=1"), or a tapped score."""
    count_ = len(question.data["touchpoints"])
    scores = data.draw(st.lists(st.integers(1, 5), min_size=count_, max_size=count_))
    form = data.draw(st.sampled_from(["line", "line", "pain", "pairs", "tap"]))
    if form == "tap":
        index = data.draw(st.integers(1, count_))
        return Choice(f"rate:{index}={scores[index - 1]}", data.draw(st.sampled_from([question.step, step_token(question.step)])))
    if form == "pairs":
        chosen = data.draw(st.lists(st.integers(1, count_), min_size=1, max_size=count_, unique=True))
        return Text(" ".join(f"{i}={scores[i - 1]}" for i in chosen))
    line = data.draw(st.sampled_from([" ", ",", ", "])).join(str(v) for v in scores)
    if form == "pain":
        line += " - " + data.draw(PAINS)
    return Text(line)


def accepted_answer(data: st.DataObject, question: Any) -> Event:
    """Something the current question accepts: a shown button, its label, or plain text."""
    if question.kind == "ratings" and data.draw(st.integers(0, 3)) > 0:
        return ratings_line(data, question)
    options = [o.value for o in question.choices]
    if options and data.draw(st.booleans()):
        value = data.draw(st.sampled_from(options))
        step = data.draw(st.sampled_from([question.step, step_token(question.step)]))
        return Choice(value, step)
    if question.kind in ("short_text", "long_text"):
        return Text(data.draw(st.text(min_size=1, max_size=60).filter(str.strip).map(lambda s: s + " and more words")))
    if question.kind == "list":
        return Text(data.draw(st.lists(st.text(alphabet=st.characters(blacklist_characters=",;\n", blacklist_categories=("Cs",)), min_size=1, max_size=20).filter(str.strip), min_size=1, max_size=4).map(", ".join)))
    if question.choices:
        return Text(data.draw(st.sampled_from([o.label for o in question.choices] + [str(i) for i in range(1, 6)])))
    return Text("i don't know")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_random_sequences_keep_the_invariants(data: st.DataObject) -> None:
    harness = Harness()
    outcome = harness.step(data.draw(st.builds(Start, lang_hint=st.sampled_from([None, "en", "nl"]))))
    for _ in range(data.draw(st.integers(min_value=5, max_value=60))):
        questions = [r for r in outcome.replies if r.type == "question"]
        if questions and data.draw(st.integers(0, 9)) < 6:
            event = accepted_answer(data, questions[-1])
        else:
            event = data.draw(random_events)
        outcome = harness.step(event)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_answering_every_question_reaches_the_end(seed: int) -> None:
    """Accepting answers only (random buttons and texts) always completes the interview."""
    import random

    rng = random.Random(seed)
    harness = Harness()
    outcome = harness.step(Start(lang_hint=rng.choice(["en", "nl"])))
    for _ in range(400):
        if harness.state.complete:
            break
        question = [r for r in outcome.replies if r.type == "question"][-1]
        values = [o.value for o in question.choices if o.value not in (engine.DONE, engine.SKIP)]
        if question.kind == "ratings":
            touchpoints = question.data["touchpoints"]
            assert touchpoints and all(tp["value"] is None for tp in touchpoints), question.data
            if rng.random() < 0.5:
                pain = rng.choice(["", " - de rij bij de kassa", " - the form asks too much"])
                outcome = harness.step(Text(" ".join(str(rng.randint(1, 5)) for _ in touchpoints) + pain))
            else:  # tapped one by one, then Done
                for tp in touchpoints:
                    outcome = harness.step(Choice(f"rate:{tp['index']}={rng.randint(1, 5)}", question.step))
                    asked = [r for r in outcome.replies if r.type == "question"][-1]
                    assert asked.step == question.step and asked.data["touchpoints"][tp["index"] - 1]["value"] is not None
                outcome = harness.step(Choice(engine.DONE, question.step))
            assert [r for r in outcome.replies if r.type == "question"][-1].step != question.step, "a valid rating was refused"
        elif question.kind == "multi_choice":
            picks = [v for v in values if v != engine.DONT_KNOW] or values
            outcome = harness.step(Choice(rng.choice(picks), question.step))
            if not harness.state.complete and [r for r in outcome.replies if r.type == "question"][-1].kind == "multi_choice" and harness.state.selection:
                outcome = harness.step(Choice(engine.DONE, question.step))
        elif values and rng.random() < 0.7:
            outcome = harness.step(Choice(rng.choice(values), question.step))
        elif question.kind == "list":
            outcome = harness.step(Text(", ".join(f"Ding {rng.randint(1, 99)} ü" for _ in range(rng.randint(1, 3)))))
        else:
            outcome = harness.step(Text(f"Antwoord {rng.random()} met details"))
    assert harness.state.complete, "the interview never ended"
