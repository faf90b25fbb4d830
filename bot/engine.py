"""The interview engine: (state, event) -> (new state, neutral replies, what to store).

Pure: no I/O, no clock, no platform. The store applies the outcome in one
transaction; adapters render the replies.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

import prompts
from bot import texts
from bot.events import COMMANDS, Choice, Command, Event, Start, Text, same_step
from bot.flow import Flow, Step, default_flow, plan
from bot.replies import Option, Progress, Reply
from bot.living_commands import LivingJourneyCommands
from bot.templates import proposed_touchpoints, sector_template
from bot.vocabulary import (  # noqa: F401  (re-exported: adapters and tests use them from here)
    DONE,
    DONT_KNOW,
    FORGET_STEP,
    KEEP,
    LANGUAGE_STEP,
    REVIEW_PREFIX,
    SHOW,
    SKIP,
    SURVEY_STEP,
    TASK_STATUSES,
    INVALID,
    Invalid,
    TodoRef,
    matches_word,
)

@dataclass
class State:
    """What the conversation remembers between events. `answers` belong to the current journey."""

    lang: str | None = None
    journey_id: int | None = None
    cursor: str | None = None
    pending: str | None = None  # "language" or "forget": a question outside the flow is open
    paused: bool = False
    complete: bool = False
    selection: list[str] = field(default_factory=list)
    followup: str | None = None  # the step whose vague answer already got its one follow-up
    review: list[str] = field(default_factory=list)  # what a running review still has to ask
    version_due: bool = False  # a review added questions: save the new version once they are answered
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def conversation_fields(self) -> dict[str, Any]:
        return {
            "lang": self.lang,
            "cursor": self.cursor,
            "pending": self.pending,
            "paused": self.paused,
            "complete": self.complete,
            "selection": list(self.selection),
            "followup": self.followup,
            "review": list(self.review),
            "version_due": self.version_due,
        }


@dataclass(frozen=True)
class JourneyRef:
    id: int
    title: str
    answered: int
    total: int


@dataclass(frozen=True)
class Logged:
    """One answer for the append-only log."""

    key: str
    raw: str
    value: Any
    status: str  # ok, unknown, skipped


@dataclass
class Context:
    journeys: Callable[[], list[JourneyRef]] = list
    flow: Flow = field(default_factory=default_flow)
    lang_hint: str | None = None  # the platform's idea of the owner's language (Telegram language_code)
    todos: Callable[[], list[TodoRef]] = list


@dataclass
class Outcome:
    state: State
    replies: list[Reply] = field(default_factory=list)
    logged: list[Logged] = field(default_factory=list)
    effect: str | None = None  # "new", "open:<id>", "forget"
    answers_changed: bool = False
    # what else the store must do: ("completed",), ("version",), ("todo", id, status), ("survey", rows)
    effects: list[tuple[Any, ...]] = field(default_factory=list)


def handle(state: State, event: Event, ctx: Context | None = None) -> Outcome:
    ctx = ctx or Context()
    new_state = replace(state, selection=list(state.selection), answers=dict(state.answers), review=list(state.review))
    return _Turn(new_state, ctx).run(event)


def title_of(lang: str, answers: Mapping[str, Any]) -> str:
    business = texts.answer_text(answers, "business.name")
    persona = texts.answer_text(answers, "persona.name")
    parts = [p for p in (business, persona) if p]
    return " – ".join(parts) if parts else texts.message(lang, "untitled")


class _Turn(LivingJourneyCommands):
    def __init__(self, state: State, ctx: Context) -> None:
        self.state = state
        self.ctx = ctx
        self.out = Outcome(state=state)
        self._plan: list[Step] | None = None

    # -- helpers ---------------------------------------------------------
    @property
    def lang(self) -> str:
        return self.state.lang or prompts.DEFAULT_LANGUAGE

    def msg(self, key: str, **values: Any) -> str:
        return texts.message(self.lang, key, **values)

    def plan(self) -> list[Step]:
        if self._plan is None:
            self._plan = plan(self.ctx.flow, self.state.answers)
        return self._plan

    def current(self) -> Step | None:
        if self.state.complete:
            return None
        for step in self.plan():
            if step.key == self.state.cursor:
                return step
        return self.first_open()

    def first_open(self) -> Step | None:
        for step in self.plan():
            if step.key not in self.state.answers:
                return step
        return None

    def say(self, type_: str, text: str, **extra: Any) -> None:
        self.out.replies.append(Reply(type=type_, text=text, journey_id=self.state.journey_id, lang=self.lang, **extra))  # type: ignore[arg-type]

    def progress(self, step: Step | None) -> Progress:
        steps = self.plan()
        answered = sum(1 for s in steps if s.key in self.state.answers)
        section = step.template.section if step else "stage"
        return Progress(
            section=section,
            stage_index=step.stage_index if step else 0,
            stage_count=step.stage_count if step else 0,
            stage_name=step.stage_name if step else "",
            answered=answered,
            total=len(steps),
        )

    # -- the turn --------------------------------------------------------
    def run(self, event: Event) -> Outcome:
        if isinstance(event, Text) and "\x00" in event.text:
            # NUL is the one character no database text column can hold (PostgreSQL refuses it)
            event = Text(event.text.replace("\x00", ""))
        if self.state.lang is None and not self._language_event(event):
            hint = event.lang_hint if isinstance(event, Start) and event.lang_hint else self.ctx.lang_hint
            if hint:
                self.state.lang = prompts.normalise_language(hint)
                self.say("info", self.msg("welcome"))
                self.show_question()
            else:
                self.ask_language()
            return self.out
        if isinstance(event, Start):
            self.on_start()
        elif isinstance(event, Command):
            self.on_command(event)
        elif isinstance(event, Choice):
            self.on_choice(event)
        else:
            self.on_text(event.text)
        return self.out

    def _language_event(self, event: Event) -> bool:
        return self.state.pending == "language" and isinstance(event, (Choice, Text))

    def on_start(self) -> None:
        self.state.pending = None
        self.state.review = []
        self.state.paused = False
        self.say("info", self.msg("resume" if self.state.answers else "welcome"))
        if self.state.complete:
            total = len(self.plan())
            self.say("info", self.msg("status.done", journey=title_of(self.lang, self.state.answers), total=total))
            return
        self.show_question()

    # -- questions -------------------------------------------------------
    def ask_language(self) -> None:
        self.state.pending = "language"
        names = prompts.load(self.lang, "messages")["language"]["names"]
        self.say(
            "question",
            self.msg("language.ask"),
            step=LANGUAGE_STEP,
            kind="single_choice",
            choices=tuple(Option(code, names[code]) for code in prompts.LANGUAGES),
        )

    def ask_forget(self) -> None:
        self.state.pending = "forget"
        self.say(
            "question",
            self.msg("forget.confirm"),
            step=FORGET_STEP,
            kind="single_choice",
            choices=(Option("yes", self.msg("buttons.yes")), Option("no", self.msg("buttons.no"))),
        )

    def show_question(self, note: str = "") -> None:
        if self.state.paused:
            return
        if self.state.pending == "language":
            self.ask_language()
            return
        if self.state.pending == "forget":
            self.ask_forget()
            return
        if self.state.pending == "review":
            self.ask_review()
            return
        if self.state.pending == "survey":
            self.say("question", self.msg("survey.results_ask"), step=SURVEY_STEP, kind="long_text")
            return
        step = self.current()
        if step is None:
            return
        self.state.cursor = step.key
        proposal = self.proposals(step)
        lines = [texts.question_text(self.lang, step, self.state.answers, proposal=", ".join(proposal or []))]
        if proposal and step.id != "journey.stages":
            keep = self.msg("use_suggestion")
            lines.append(self.msg("suggestion", sector=self.sector_label(), items=", ".join(proposal), keep=keep))
        entry = self.state.answers.get(step.key)
        if entry:
            lines.append(self.msg("current_answer", answer=texts.display_value(self.lang, step.id, entry)))
        if step.kind == "multi_choice" and self.state.selection:
            chosen = ", ".join(texts.option_label(self.lang, step.id, v) for v in self.state.selection)
            lines.append(self.msg("selected", selected=chosen))
        if note:
            lines.insert(0, note)
        self.say(
            "question",
            "\n".join(lines),
            step=step.key,
            kind=step.kind,
            choices=self.choices(step),
            progress=self.progress(step),
            data={"selected": list(self.state.selection)} if step.kind == "multi_choice" else {},
        )

    def choices(self, step: Step) -> tuple[Option, ...]:
        opts: list[Option] = []
        if step.kind in ("single_choice", "multi_choice", "scale"):
            opts = [Option(v, texts.option_label(self.lang, step.id, v)) for v in step.template.options]
        if step.kind == "multi_choice":
            opts.append(Option(DONE, self.msg("buttons.done")))
        if step.kind == "list" and self.proposals(step):
            label = texts.questions(self.lang)[step.id].get("keep") or self.msg("use_suggestion")
            opts.append(Option(KEEP, str(label)))
        if step.id != "journey.stages":
            opts.append(Option(DONT_KNOW, self.msg("buttons.dont_know")))
        if step.optional:
            opts.append(Option(SKIP, self.msg("buttons.skip")))
        return tuple(opts)

    def error(self, key: str, **values: Any) -> None:
        self.say("error", self.msg(f"errors.{key}", **values))
        self.show_question()

    # -- commands --------------------------------------------------------
    def on_command(self, cmd: Command) -> None:
        name = cmd.name
        known = name in COMMANDS or name == SHOW
        handler = getattr(self, f"cmd_{name.lstrip('_')}", None) if known else None
        if self.state.paused and name not in ("cancel", "status"):
            self.state.paused = False  # any other command carries on with the interview
        if handler is None:
            self.error("unknown_command", name=name)
            return
        handler(cmd.arg)

    def cmd_show(self, arg: str) -> None:
        if self.state.complete and not self.state.pending:
            self.cmd_status(arg)
            return
        self.show_question()

    def cmd_start(self, arg: str) -> None:
        self.on_start()

    def cmd_help(self, arg: str) -> None:
        self.say("info", self.msg("help"))
        self.show_question()

    def cmd_status(self, arg: str) -> None:
        step = self.current()
        p = self.progress(step)
        journey = title_of(self.lang, self.state.answers)
        if self.state.paused:
            self.say("info", self.msg("status.paused"))
            return
        if step is None:
            self.say("info", self.msg("status.done", journey=journey, total=p.total))
            return
        values = dict(journey=journey, answered=p.answered, total=p.total, left=p.left)
        if step.stage_index:
            text = self.msg("status.stage", stage_index=p.stage_index, stage_count=p.stage_count, stage=p.stage_name, **values)
        else:
            text = self.msg("status.intro", section=self.msg(f"sections.{p.section}"), **values)
        self.say("info", text, progress=p)
        self.show_question()

    def cmd_back(self, arg: str) -> None:
        self.state.pending = None
        self.state.selection = []
        steps = self.plan()
        if self.state.complete or self.state.cursor is None:
            if not steps:
                self.error("nothing_before")
                return
            self.state.complete = False
            self.state.cursor = steps[-1].key
            self.show_question()
            return
        keys = [s.key for s in steps]
        index = keys.index(self.state.cursor) if self.state.cursor in keys else 0
        if index == 0:
            self.error("nothing_before")
            return
        self.state.cursor = keys[index - 1]
        self.show_question()

    def cmd_skip(self, arg: str) -> None:
        if self.state.pending == "review" and self.state.review:
            self.answer_review(KEEP, is_choice=True)
            return
        step = self.current()
        if step is None:
            self.cmd_status(arg)
            return
        if step.key in self.state.answers:
            self.advance(after=step)
        elif step.optional:
            self.record(step, "/skip", None, "skipped")
            self.advance(after=step)
        else:
            self.error("not_skippable")

    def cmd_summary(self, arg: str) -> None:
        self._deliver("summary")

    def cmd_export(self, arg: str) -> None:
        self._deliver("export")

    def _deliver(self, kind: str) -> None:
        if not self.state.answers or self.state.journey_id is None:
            self.error("empty_journey")
            return
        self.say(kind, self.msg("summary.working") if kind == "summary" else "")
        self.show_question()

    def cmd_new(self, arg: str) -> None:
        self.state.journey_id = None
        self.state.answers = {}
        self.state.cursor = None
        self.state.complete = False
        self.state.pending = None
        self.state.paused = False
        self.state.selection = []
        self._plan = None
        self.out.effect = "new"
        self.say("info", self.msg("new_started"))
        self.show_question()

    def cmd_list(self, arg: str) -> None:
        journeys = self.ctx.journeys()
        if not journeys:
            self.say("info", self.msg("list.empty"))
            return
        lines = [self.msg("list.header")]
        for ref in journeys:
            marker = self.msg("list.current" if ref.id == self.state.journey_id else "list.other")
            lines.append(self.msg("list.item", marker=marker, id=ref.id, title=ref.title, answered=ref.answered, total=ref.total))
        lines.append(self.msg("list.footer"))
        self.say("info", "\n".join(lines), data={"journeys": [ref.id for ref in journeys]})
        self.show_question()

    def cmd_open(self, arg: str) -> None:
        target = arg.strip().lstrip("#")
        refs = {str(ref.id): ref for ref in self.ctx.journeys()}
        if target not in refs:
            self.error("no_such_journey", arg=target or "?")
            return
        self.out.effect = f"open:{target}"
        self.say("info", self.msg("opened", journey=refs[target].title))

    def cmd_language(self, arg: str) -> None:
        code = arg.strip().lower()
        if not code:
            self.ask_language()
            return
        if code not in prompts.LANGUAGES:
            self.error("unknown_language")
            return
        self.set_language(code)

    def set_language(self, code: str) -> None:
        self.state.lang = code
        self.state.pending = None
        self.say("info", self.msg("language.set"))
        if self.state.answers or self.state.journey_id is not None or self.out.effect == "new":
            self.show_question()
        else:
            self.say("info", self.msg("welcome"))
            self.show_question()

    def cmd_cancel(self, arg: str) -> None:
        if self.state.pending == "review":
            self.state.pending = None
            self.state.review = []
            self.say("info", self.msg("review.cancelled"))
            self.show_question()
            return
        if self.state.pending or self.state.selection:
            self.state.pending = None
            self.state.selection = []
            self.say("info", self.msg("cancelled"))
            self.show_question()
            return
        self.state.paused = True
        self.say("info", self.msg("paused"))

    def cmd_forget(self, arg: str) -> None:
        self.ask_forget()

    # -- answers ---------------------------------------------------------
    def on_choice(self, choice: Choice) -> None:
        if self.state.pending == "language" and (choice.step is None or same_step(choice.step, LANGUAGE_STEP)):
            self.answer_language(choice.value)
            return
        if self.state.pending == "forget" and (choice.step is None or same_step(choice.step, FORGET_STEP)):
            self.answer_forget(choice.value)
            return
        if self.state.pending == "review" and self.state.review and (
            choice.step is None or same_step(choice.step, REVIEW_PREFIX + self.state.review[0])
        ):
            self.answer_review(choice.value, is_choice=True)
            return
        step = self.current()
        if self.state.paused:
            self.state.paused = False
        if step is None or (choice.step is not None and not same_step(choice.step, step.key)) or self.state.pending:
            if step is None and choice.step is None:
                self.cmd_status("")
                return
            self.say("info", self.msg("stale"))
            self.show_question()
            return
        self.answer(step, choice.value, is_choice=True)

    def on_text(self, raw: str) -> None:
        if self.state.pending == "language":
            self.answer_language(raw)
            return
        if self.state.pending == "forget":
            self.answer_forget(raw)
            return
        if self.state.pending == "review":
            self.answer_review(raw, is_choice=False)
            return
        if self.state.pending == "survey":
            self.answer_results(raw)
            return
        if self.state.paused:
            self.state.paused = False
            self.say("info", self.msg("resume"))
            self.show_question()
            return
        step = self.current()
        if step is None:
            self.cmd_status("")
            return
        self.answer(step, raw, is_choice=False)

    def answer_language(self, raw: str) -> None:
        value = raw.strip().lower()
        names = {
            str(name).lower(): code
            for lang in prompts.LANGUAGES
            for code, name in prompts.load(lang, "messages")["language"]["names"].items()
        }
        numbers = {str(i): code for i, code in enumerate(prompts.LANGUAGES, start=1)}
        code = value if value in prompts.LANGUAGES else names.get(value) or numbers.get(value)
        if code is None:
            self.say("error", self.msg("errors.unknown_language"))
            self.ask_language()
            return
        first_time = self.state.lang is None
        self.state.lang = code
        self.state.pending = None
        if first_time:
            self.say("info", self.msg("welcome"))
        else:
            self.say("info", self.msg("language.set"))
        self.show_question()

    def answer_forget(self, raw: str) -> None:
        value = raw.strip().lower()
        self.state.pending = None
        yes = value in ("yes", "ja", "y", "j", "1") or value == self.msg("buttons.yes").lower()
        if yes:
            self.out.effect = "forget"
            self.say("forgotten", self.msg("forget.done"))
            return
        self.say("info", self.msg("forget.kept"))
        self.show_question()

    def answer(self, step: Step, raw: str, *, is_choice: bool) -> None:
        limit = int(self.ctx.flow.limits.get("max_answer_chars", 2000))
        if len(raw) > limit:
            self.error("too_long", length=len(raw), limit=limit)
            return
        if raw == SKIP:
            self.cmd_skip("")
            return
        if raw == DONT_KNOW or (not is_choice and matches_word(raw, "dont_know_words")):
            if step.id == "journey.stages":
                self.record(step, raw, self.proposals(step), "ok")
            else:
                self.record(step, raw, None, "unknown")
            self.advance(after=step)
            return
        if step.template.sharpen and self.state.followup != step.key and self.is_vague(step, raw):
            self.state.followup = step.key
            example = texts.questions(self.lang)[step.id].get("example", "")
            self.say("info", self.msg("sharpen", example=example))
            self.show_question()
            return
        value = self.parsed(step, raw, is_choice)
        if value is INVALID:
            return
        if value is None:  # a multi-choice toggle: nothing recorded yet
            self.show_question()
            return
        self.record(step, raw, value, "ok")
        self.advance(after=step)

    def sector(self) -> str:
        entry = self.state.answers.get("business.sector")
        return str(entry["v"]) if entry and entry.get("s") == "ok" and entry.get("v") else ""

    def sector_label(self) -> str:
        sector = self.sector()
        return texts.option_label(self.lang, "business.sector", sector) if sector else ""

    def proposals(self, step: Step) -> list[str] | None:
        """What the interview proposes for a list step: the sector's template, or the default stages."""
        if step.id == "journey.stages":
            template = sector_template(self.lang, self.sector())
            if template:
                return [stage.name for stage in template]
            names = texts.questions(self.lang)[step.id]["default"]
            return [str(names.get(v, v)) for v in step.template.default]
        if step.id == "stage.touchpoints":
            return proposed_touchpoints(self.lang, self.sector(), step.stage_name) or None
        return None

    @staticmethod
    def is_vague(step: Step, raw: str) -> bool:
        """Too vague to act on: a catch-all word, or one word where a description is asked."""
        folded = " ".join(raw.casefold().replace("’", "'").strip(" .!?,;:").split())
        if any(folded in prompts.load(lang, "messages")["vague_words"] for lang in prompts.LANGUAGES):
            return True
        return step.kind == "long_text" and len(folded.split()) == 1

    def parsed(self, step: Step, raw: str, is_choice: bool) -> Any:
        """The parsed answer, or INVALID after telling the owner what is wrong and asking again."""
        try:
            return self.parse(step, raw, is_choice)
        except Invalid as invalid:
            self.error(invalid.key, **invalid.values)
            return INVALID

    def parse(self, step: Step, raw: str, is_choice: bool) -> Any:
        text = raw.strip()
        kind = step.kind
        if kind in ("short_text", "long_text"):
            if not text:
                raise Invalid("required")
            return text
        if kind == "scale":
            value = self.match_option(step, text)
            if value is None:
                raise Invalid("scale")
            return int(value)
        if kind == "single_choice":
            if not text:
                raise Invalid("required")
            value = self.match_option(step, text)
            if value is not None:
                return value
            if step.template.other and not is_choice:
                return text
            raise Invalid("not_a_choice", value=text)
        if kind == "multi_choice":
            return self.parse_multi(step, text, is_choice)
        if kind == "list":
            proposal = self.proposals(step)
            if proposal and (text == KEEP or (not is_choice and matches_word(text, "keep_words"))):
                return proposal
            if text == KEEP:
                raise Invalid("list_empty")
            return self.parse_list(text)
        raise ValueError(kind)

    def match_option(self, step: Step, text: str) -> str | None:
        options = step.template.options
        folded = text.casefold()
        for index, value in enumerate(options, start=1):
            label = texts.option_label(self.lang, step.id, value)
            if folded in (value.casefold(), label.casefold()) or (step.kind != "scale" and folded == str(index)):
                return value
        return None

    def parse_multi(self, step: Step, text: str, is_choice: bool) -> list[str] | None:
        if is_choice:
            if text == DONE:
                if not self.state.selection:
                    raise Invalid("nothing_selected")
                return list(self.state.selection)
            if text not in step.template.options:
                raise Invalid("not_a_choice", value=text)
            if text in self.state.selection:
                self.state.selection.remove(text)
            else:
                self.state.selection.append(text)
            return None
        items = self.split_items(text)
        if not items:
            raise Invalid("nothing_selected")
        values: list[str] = []
        for item in items:
            value = self.match_option(step, item)
            if value is None and not step.template.other:
                raise Invalid("not_a_choice", value=item)
            chosen = value if value is not None else item
            if chosen not in values:
                values.append(chosen)
        return values

    def parse_list(self, text: str) -> list[str]:
        items = self.split_items(text)
        limits = self.ctx.flow.limits
        if not items:
            raise Invalid("list_empty")
        max_items = int(limits.get("max_list_items", 12))
        if len(items) > max_items:
            raise Invalid("list_too_many", count=len(items), limit=max_items)
        max_chars = int(limits.get("max_list_item_chars", 200))
        if any(len(item) > max_chars for item in items):
            raise Invalid("list_item_too_long", limit=max_chars)
        return items

    @staticmethod
    def split_items(text: str) -> list[str]:
        separator = "\n" if "\n" in text else (";" if ";" in text else ",")
        return [item.strip() for item in text.split(separator) if item.strip()]

    def record(self, step: Step, raw: str, value: Any, status: str) -> None:
        self.state.answers[step.key] = {"v": value, "s": status}
        self.state.selection = []
        self.state.followup = None
        self.out.logged.append(Logged(key=step.key, raw=raw, value=value, status=status))
        self.out.answers_changed = True
        self._plan = None

    def advance(self, after: Step) -> None:
        self.state.selection = []
        steps = self.plan()
        keys = [s.key for s in steps]
        nxt: Step | None = None
        if after.key in keys:
            for step in steps[keys.index(after.key) + 1 :]:
                if step.key not in self.state.answers:
                    nxt = step
                    break
        if nxt is None:
            nxt = self.first_open()
        if nxt is None:
            self.state.cursor = None
            self.state.complete = True
            self.out.effects.append(("version",) if self.state.version_due else ("completed",))
            self.state.version_due = False
            self.say("done", self.msg("done"))
            self.say("summary", self.msg("summary.working"))
            return
        self.state.cursor = nxt.key
        self.show_question()
