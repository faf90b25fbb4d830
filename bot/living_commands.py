"""The living-journey commands of the interview: the to-do list, the review walk-through and the
customer survey. A part of the engine's turn (mixed into it), so pure like the rest of it."""
from __future__ import annotations

from typing import Any

import prompts
from bot import texts
from bot.replies import Option
from bot.vocabulary import INVALID, KEEP, REVIEW_PREFIX, TASK_STATUSES, TodoRef, matches_word


class LivingJourneyCommands:
    """Methods of the engine's turn; `self` is the turn (state, ctx, out, msg, say, ...)."""

    state: Any
    ctx: Any
    out: Any
    lang: str

    def cmd_todo(self, arg: str) -> None:
        todos = self.ctx.todos()
        parts = arg.split()
        if not parts:
            self.list_todos(todos)
            return
        target = {str(t.id): t for t in todos}.get(parts[0].lstrip("#"))
        if target is None:
            self.error("todo_unknown", arg=parts[0])
            return
        status = self.todo_status(" ".join(parts[1:]))
        if status is None:
            self.error("todo_bad_status")
            return
        self.out.effects.append(("todo", target.id, status))
        self.say("info", self.msg("todo.set", title=target.title, status=self.msg(f"todo.statuses.{status}")))
        self.show_question()

    def list_todos(self, todos: list[TodoRef]) -> None:
        if not todos:
            self.say("info", self.msg("todo.empty"))
            self.show_question()
            return
        lines = [self.msg("todo.header")]
        for t in todos:
            lines.append(self.msg("todo.item", id=t.id, status=self.msg(f"todo.statuses.{t.status}"), title=t.title))
        lines.append(self.msg("todo.footer"))
        self.say("info", "\n".join(lines), data={"todos": [t.id for t in todos]})
        self.show_question()

    def todo_status(self, word: str) -> str | None:
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

    def view(self):  # type: ignore[no-untyped-def]
        from bot.journey import build_view

        return build_view(self.state.answers, self.lang, self.state.journey_id, self.ctx.flow)

    def cmd_review(self, arg: str) -> None:
        if not self.state.complete:
            self.say("info", self.msg("review.not_complete"))
            self.show_question()
            return
        journey = self.view()
        queue: list[str] = []
        for stage in journey.stages:
            queue.append(f"stage.{stage.slug}.touchpoints")
            queue += [tp.feeling.key for tp in stage.touchpoints if tp.score is not None]
        queue += [f"todo:{t.id}" for t in self.ctx.todos() if t.status in ("open", "planned")]
        self.state.review = queue
        self.state.pending = "review"
        self.say("info", self.msg("review.start"))
        self.show_question()

    def review_todos(self) -> dict[str, TodoRef]:
        return {f"todo:{t.id}": t for t in self.ctx.todos()}

    def ask_review(self) -> None:
        if not self.state.review:
            self.finish_review()
            return
        item = self.state.review[0]
        keep = Option(KEEP, self.msg("review.still_true"))
        if item.startswith("todo:"):
            todo = self.review_todos().get(item)
            if todo is None:
                self.state.review.pop(0)
                self.ask_review()
                return
            status = self.msg(f"todo.statuses.{todo.status}")
            options = tuple(Option(s, self.msg(f"todo.statuses.{s}")) for s in ("planned", "done", "dropped"))
            self.say("question", self.msg("review.todo", title=todo.title, status=status), step=REVIEW_PREFIX + item,
                     kind="single_choice", choices=(keep, *options))
            return
        journey = self.view()
        field = journey.fields.get(item)
        if field is None:  # the touchpoint it belonged to is gone
            self.state.review.pop(0)
            self.ask_review()
            return
        stage = next(s for s in journey.stages if item.startswith(f"stage.{s.slug}."))
        if item.endswith(".touchpoints"):
            items = ", ".join(tp.name for tp in stage.touchpoints) or "–"
            self.say("question", self.msg("review.touchpoints", stage=stage.name, items=items), step=REVIEW_PREFIX + item,
                     kind="list", choices=(keep,))
            return
        tp = next(tp for tp in stage.touchpoints if tp.feeling.key == item)
        scale = tuple(Option(v, texts.option_label(self.lang, "touchpoint.feeling", v)) for v in ("1", "2", "3", "4", "5"))
        self.say("question", self.msg("review.feeling", stage=stage.name, touchpoint=tp.name, score=tp.score),
                 step=REVIEW_PREFIX + item, kind="scale", choices=(keep, *scale))

    def answer_review(self, raw: str, *, is_choice: bool) -> None:
        if not self.state.review:
            self.finish_review()
            return
        item = self.state.review[0]
        keep = raw == KEEP or (not is_choice and matches_word(raw, "keep_words"))
        if item.startswith("todo:"):
            status = None if keep else self.todo_status(raw)
            if not keep and status is None:
                self.error("todo_bad_status")
                return
            if status is not None:
                self.out.effects.append(("todo", int(item.split(":", 1)[1]), status))
        elif not keep:
            step = next((s for s in self.plan() if s.key == item), None)
            if step is None:
                self.state.review.pop(0)
                self.ask_review()
                return
            value = self.parsed(step, raw, is_choice)  # type: ignore[attr-defined]
            if value is INVALID:
                return
            if value != self.state.answers.get(item, {}).get("v"):
                self.record(step, raw, value, "ok")
                # a changed touchpoint list can add questions: the journey is open again until they are answered
                self.state.complete = self.first_open() is None
                if item.endswith(".touchpoints"):
                    prefix = item[: -len("touchpoints")]
                    self.state.review = [k for k in self.state.review if not k.startswith(prefix)]
                    self.state.review.insert(0, item)
        self.state.review.pop(0)
        self.ask_review()

    def finish_review(self) -> None:
        self.state.pending = None
        self.state.review = []
        self.state.complete = self.first_open() is None
        if self.state.complete:
            self.out.effects.append(("version",))
            self.state.cursor = None
            self.say("info", self.msg("review.done"))
            self.say("summary", self.msg("summary.working"))
        else:
            self.state.version_due = True
            self.show_question()

    def cmd_survey(self, arg: str) -> None:
        from bot.survey import survey_questions, survey_text

        journey = self.view()
        questions = survey_questions(journey)
        if not questions:
            self.say("info", self.msg("survey.no_stages"))
            self.show_question()
            return
        self.say("info", survey_text(journey, questions), data={"survey": [q.key for q in questions]})
        self.show_question()

    def cmd_results(self, arg: str) -> None:
        if self.state.journey_id is None or not self.state.answers:
            self.error("empty_journey")
            return
        if arg.strip():
            self.answer_results(arg)
            return
        self.state.pending = "survey"
        self.show_question()

    def answer_results(self, raw: str) -> None:
        from bot.survey import SurveyError, parse_rows, survey_questions

        questions = survey_questions(self.view())
        self.state.pending = None
        try:
            rows = parse_rows(raw, questions)
        except SurveyError as exc:
            problem = self.msg(f"survey.problems.{exc.problem}", **exc.values)
            self.say("error", self.msg("survey.bad_row", line=exc.line, problem=problem))
            self.state.pending = "survey"
            self.show_question()
            return
        if not rows:
            self.say("error", self.msg("survey.problems.empty"))
            self.state.pending = "survey"
            self.show_question()
            return
        self.out.effects.append(("survey", [{"scores": r.scores, "comment": r.comment} for r in rows]))
        self.say("info", self.msg("survey.saved", count=len(rows)), data={"survey_saved": len(rows)})
        self.show_question()
