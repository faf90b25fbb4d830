"""Honest progress: the questions the owner answered, and those still to come.

Answers filled for the owner (inferred channels, a stage's ratings spread over its touchpoints)
are not questions. Before the stages are named, their questions are estimated, so the total
never jumps by more than a few questions once they are known.
"""
from __future__ import annotations

from typing import Any, Mapping

from bot.flow import Flow, Step, plan, questions_to_ask

ESTIMATED_STAGES = 6
# per stage: its touchpoints and their ratings; "what goes wrong" only where something scores low,
# about every other stage
QUESTIONS_FOR_STAGES = ESTIMATED_STAGES * 2 + ESTIMATED_STAGES // 2


def count(flow: Flow, answers: Mapping[str, Any], steps: list[Step] | None = None) -> tuple[int, int]:
    """(answered, total) questions of the interview as it stands; `steps` is its plan when known."""
    steps = plan(flow, answers) if steps is None else steps
    answered = sum(1 for step in steps if step.template.asked and step.key in answers and not answers[step.key].get("by"))
    total = answered + len(questions_to_ask(steps, answers))
    if "journey.stages" not in answers:
        total += QUESTIONS_FOR_STAGES + sum(1 for t in flow.tail if t.asked)
    return answered, total
