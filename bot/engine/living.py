"""The living journey: the to-do list, the review walk-through and the customer survey."""
from __future__ import annotations

from typing import Sequence

import prompts
from bot import texts
from bot.engine.commands import command
from bot.engine.effects import AddSurveyAnswers, SaveVersion, SetTodoStatus, SurveyAnswer
from bot.engine.questions import error, open_question, parsed, show_question
from bot.engine.turn import Turn
from bot.journey import JourneyView, build_view
from bot.replies import Option
from bot.survey import SurveyError, SurveyTooLarge, import_key, parse_rows, survey_questions, survey_text
from bot.vocabulary import INVALID, KEEP, REVIEW_PREFIX, SURVEY_STEP, TASK_STATUSES, TodoRef, matches_word

def view(turn: Turn) -> JourneyView:
    return build_view(turn.state.answers, turn.lang, turn.state.journey_id, turn.ctx.flow)


@command("todo", needs={"todos"})
def todo_command(turn: Turn, arg: str) -> None:
    todos = turn.ctx.todos
    parts = arg.split()
    if not parts:
        list_todos(turn, todos)
        return
    target = {str(t.id): t for t in todos}.get(parts[0].lstrip("#"))
    if target is None:
        error(turn, "todo_unknown", arg=parts[0])
        return
    status = todo_status(" ".join(parts[1:]))
    if status is None:
        error(turn, "todo_bad_status")
        return
    turn.effect(SetTodoStatus(target.id, status))
    turn.say("info", turn.msg("todo.set", title=target.title, status=turn.msg(f"todo.statuses.{status}")))
    show_question(turn)


def list_todos(turn: Turn, todos: Sequence[TodoRef]) -> None:
    if not todos:
        turn.say("info", turn.msg("todo.empty"))
        show_question(turn)
        return
    lines = [turn.msg("todo.header")]
    for t in todos:
        lines.append(turn.msg("todo.item", id=t.id, status=turn.msg(f"todo.statuses.{t.status}"), title=t.title))
    lines.append(turn.msg("todo.footer"))
    turn.say("info", "\n".join(lines), data={"todos": [t.id for t in todos]})
    show_question(turn)


def todo_status(word: str) -> str | None:
    """The status a word names: the status itself, one of its words or its label, in either language."""
    folded = word.strip().casefold()
    if folded in TASK_STATUSES:
        return folded
    for lang in prompts.LANGUAGES:
        for status, words in prompts.load(lang, "messages")["todo"]["words"].items():
            if folded in words:
                return str(status)
        for status, label in prompts.load(lang, "messages")["todo"]["statuses"].items():
            if folded == str(label).casefold():
                return str(status)
    return None


@command("review", needs={"todos"})
def review_command(turn: Turn, arg: str) -> None:
    state = turn.state
    if not state.complete:
        turn.say("info", turn.msg("review.not_complete"))
        show_question(turn)
        return
    queue: list[str] = []
    for stage in view(turn).stages:
        queue.append(f"stage.{stage.slug}.touchpoints")
        queue += [tp.feeling.key for tp in stage.touchpoints if tp.score is not None]
    queue += [f"todo:{t.id}" for t in turn.ctx.todos if t.status in ("open", "planned")]
    state.review = queue
    state.pending = "review"
    turn.say("info", turn.msg("review.start"))
    show_question(turn)


def ask_review(turn: Turn) -> None:
    """Ask the next item of the review: a stage's touchpoints, a touchpoint's feeling or a to-do."""
    state = turn.state
    if not state.review:
        finish_review(turn)
        return
    item = state.review[0]
    keep = Option(KEEP, turn.msg("review.still_true"))
    if item.startswith("todo:"):
        todo = {f"todo:{t.id}": t for t in turn.ctx.todos}.get(item)
        if todo is None:
            state.review.pop(0)
            ask_review(turn)
            return
        status = turn.msg(f"todo.statuses.{todo.status}")
        options = tuple(Option(s, turn.msg(f"todo.statuses.{s}")) for s in ("planned", "done", "dropped"))
        turn.say("question", turn.msg("review.todo", title=todo.title, status=status), step=REVIEW_PREFIX + item,
                 kind="single_choice", choices=(keep, *options))
        return
    journey = view(turn)
    if journey.fields.get(item) is None:  # the touchpoint it belonged to is gone
        state.review.pop(0)
        ask_review(turn)
        return
    stage = next(s for s in journey.stages if item.startswith(f"stage.{s.slug}."))
    if item.endswith(".touchpoints"):
        items = ", ".join(tp.name for tp in stage.touchpoints) or "–"
        turn.say("question", turn.msg("review.touchpoints", stage=stage.name, items=items), step=REVIEW_PREFIX + item,
                 kind="list", choices=(keep,))
        return
    tp = next(tp for tp in stage.touchpoints if tp.feeling.key == item)
    scale = tuple(Option(v, texts.option_label(turn.lang, "touchpoint.feeling", v)) for v in ("1", "2", "3", "4", "5"))
    turn.say("question", turn.msg("review.feeling", stage=stage.name, touchpoint=tp.name, score=tp.score),
             step=REVIEW_PREFIX + item, kind="scale", choices=(keep, *scale))


def answer_review(turn: Turn, raw: str, is_choice: bool) -> None:
    state = turn.state
    if not state.review:
        finish_review(turn)
        return
    item = state.review[0]
    keep = raw == KEEP or (not is_choice and matches_word(raw, "keep_words"))
    if item.startswith("todo:"):
        status = None if keep else todo_status(raw)
        if not keep and status is None:
            error(turn, "todo_bad_status")
            return
        if status is not None:
            turn.effect(SetTodoStatus(int(item.split(":", 1)[1]), status))
    elif not keep:
        step = next((s for s in turn.plan() if s.key == item), None)
        if step is None:
            state.review.pop(0)
            ask_review(turn)
            return
        value = parsed(turn, step, raw, is_choice)
        if value is INVALID:
            return
        if value != state.answers.get(item, {}).get("v"):
            turn.record(step, raw, value, "ok")
            # a changed touchpoint list can add questions: the journey is open again until they are answered
            state.complete = turn.first_open() is None
            if item.endswith(".touchpoints"):
                prefix = item[: -len("touchpoints")]
                state.review = [k for k in state.review if not k.startswith(prefix)]
                state.review.insert(0, item)
    state.review.pop(0)
    ask_review(turn)


def finish_review(turn: Turn) -> None:
    state = turn.state
    state.pending = None
    state.review = []
    state.complete = turn.first_open() is None
    if state.complete:
        turn.effect(SaveVersion())
        state.cursor = None
        turn.say("info", turn.msg("review.done"))
        turn.say("summary", turn.msg("summary.working"))
    else:
        state.version_due = True
        show_question(turn)


def review_button_step(turn: Turn) -> str | None:
    return REVIEW_PREFIX + turn.state.review[0] if turn.state.review else None


@command("survey")
def survey_command(turn: Turn, arg: str) -> None:
    journey = view(turn)
    questions = survey_questions(journey)
    if not questions:
        turn.say("info", turn.msg("survey.no_stages"))
        show_question(turn)
        return
    if turn.state.journey_id is not None and matches_word(arg, "survey_close_words"):
        turn.say("survey_link", "", data={"close": True})
        show_question(turn)
        return
    turn.say("info", survey_text(journey, questions), data={"survey": [q.key for q in questions]})
    if turn.state.journey_id is not None:  # a link to share, and its QR code: the customers answer on their phone
        turn.say("survey_link", "", data={"renew": matches_word(arg, "survey_new_words")})
    show_question(turn)


@command("results", needs={"imports"})
def results_command(turn: Turn, arg: str) -> None:
    if turn.state.journey_id is None or not turn.state.answers:
        error(turn, "empty_journey")
        return
    if arg.strip():
        answer_results(turn, arg, False)
        return
    turn.state.pending = "survey"
    show_question(turn)


def ask_results(turn: Turn) -> None:
    turn.say("question", turn.msg("survey.results_ask"), step=SURVEY_STEP, kind="long_text")


def answer_results(turn: Turn, raw: str, is_choice: bool) -> None:
    """Customers' survey answers, pasted as CSV lines: saved all at once, or none with the first problem."""
    questions = survey_questions(view(turn))
    turn.state.pending = None
    try:
        rows = parse_rows(raw, questions)
    except SurveyTooLarge as exc:
        turn.say("error", turn.msg(f"survey.{exc.problem}", **exc.values))
        show_question(turn)
        return
    except SurveyError as exc:
        problem = turn.msg(f"survey.problems.{exc.problem}", **exc.values)
        turn.say("error", turn.msg("survey.bad_row", line=exc.line, problem=problem))
        turn.state.pending = "survey"
        show_question(turn)
        return
    if not rows:
        turn.say("error", turn.msg("survey.problems.empty"))
        turn.state.pending = "survey"
        show_question(turn)
        return
    key = import_key(rows)
    if key in turn.ctx.imports:  # a re-sent file, a replayed /results: these answers are stored already
        turn.say("info", turn.msg("survey.already_saved", count=len(rows)), data={"survey_saved": 0})
        show_question(turn)
        return
    turn.effect(AddSurveyAnswers(tuple(SurveyAnswer(scores=r.scores, comment=r.comment) for r in rows), key=key))
    turn.say("info", turn.msg("survey.saved", count=len(rows)), data={"survey_saved": len(rows)})
    show_question(turn)


open_question("review", ask=ask_review, answer=answer_review, button_step=review_button_step, needs={"todos"})
open_question("survey", ask=ask_results, answer=answer_results, needs={"imports"})
