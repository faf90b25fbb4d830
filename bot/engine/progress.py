"""Honest progress: the questions the owner answered, and those still to come.

Answers filled for the owner (inferred channels, a stage's ratings spread over its touchpoints)
are not questions. Before the stages are named, their questions are estimated, so the total
never jumps by more than a few questions once they are known.
"""
from __future__ import annotations

from typing import Any, Mapping

from bot.flow import Flow, plan, still_to_ask

ESTIMATED_STAGES = 6
# per stage: its touchpoints and their ratings; "what goes wrong" only where something scores low,
# about every other stage
QUESTIONS_FOR_STAGES = ESTIMATED_STAGES * 2 + ESTIMATED_STAGES // 2


def count(flow: Flow, answers: Mapping[str, Any]) -> tuple[int, int]:
    """(answered, total) questions of the interview as it stands."""
    steps = plan(flow, answers)
    answered = total = 0
    for step in steps:
        if not step.template.asked:
            continue
        entry = answers.get(step.key)
        if entry is not None:
            if not entry.get("by"):  # the owner's own answer, not one filled for them
                answered += 1
                total += 1
        elif still_to_ask(step, steps, answers):
            total += 1
    if "journey.stages" not in answers:
        total += QUESTIONS_FOR_STAGES + sum(1 for t in flow.tail if t.asked)
    return answered, total
