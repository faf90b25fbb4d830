"""The turn: one event's work on a copy of the state, collecting the outcome."""
from __future__ import annotations

from typing import Any

import prompts
from bot import texts
from bot.engine.effects import Effect, NewJourney
from bot.engine.state import Context, Logged, Outcome, State
from bot.flow import Step, is_open, plan
from bot.replies import Option, Progress, Reply, ReplyType


class Turn:
    def __init__(self, state: State, ctx: Context) -> None:
        self.state = state
        self.ctx = ctx
        self.out = Outcome(state=state)
        self._plan: list[Step] | None = None
        self._answers_changed = False

    @property
    def lang(self) -> str:
        return self.state.lang or prompts.DEFAULT_LANGUAGE

    def msg(self, key: str, **values: Any) -> str:
        return texts.message(self.lang, key, **values)

    def say(
        self,
        type_: ReplyType,
        text: str,
        *,
        step: str | None = None,
        kind: str | None = None,
        choices: tuple[Option, ...] = (),
        progress: Progress | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.out.replies.append(
            Reply(type=type_, text=text, step=step, kind=kind, choices=choices, progress=progress,
                  journey_id=self.state.journey_id, data=data or {}, lang=self.lang)
        )

    def effect(self, effect: Effect) -> None:
        self.out.effects.append(effect)

    def has_effect(self, kind: type) -> bool:
        return any(isinstance(effect, kind) for effect in self.out.effects)

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
            if is_open(step, self.state.answers):
                return step
        return None

    def record(self, step: Step, raw: str, value: Any, status: str) -> None:
        self.state.answers[step.key] = {"v": value, "s": status}
        self.state.selection = []
        self.state.followup = None
        self.out.logged.append(Logged(key=step.key, raw=raw, value=value, status=status))
        self._answers_changed = True
        self._plan = None

    def fill(self, key: str, value: Any, status: str = "ok", *, by: str) -> None:
        """An answer the owner did not type for this key: inferred from a name, or given for the whole
        stage or journey in one turn. Logged like any answer; `by` says where it came from."""
        self.state.answers[key] = {"v": value, "s": status, "by": by}
        self.out.logged.append(Logged(key=key, raw=f"({by})", value=value, status=status))
        self._answers_changed = True
        self._plan = None

    def reset_journey(self) -> None:
        """Start afresh: no journey, no answers, no open question."""
        self.state.journey_id = None
        self.state.answers = {}
        self.state.cursor = None
        self.state.complete = False
        self.state.pending = None
        self.state.paused = False
        self.state.selection = []
        self._plan = None
        self.effect(NewJourney())

    def finish(self) -> Outcome:
        if self._answers_changed or self.has_effect(NewJourney):
            from bot.engine.progress import count

            self.out.progress = count(self.ctx.flow, self.state.answers, self.plan())
        return self.out
