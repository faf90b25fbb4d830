"""Honest progress: the questions the owner answered, and those still to come.

Answers filled for the owner (inferred channels, a stage's ratings spread over its touchpoints)
are not questions. Before the stages are named, their questions are estimated, so the total
never jumps by more than a few questions once they are known.
"""
from __future__ import annotations

from typing import Any, Mapping

from bot.flow import Flow, is_done, plan

ESTIMATED_STAGES = 6
# per stage: its touchpoints and their ratings; "what goes wrong" only where something scores low,
# about every other stage
QUESTIONS_FOR_STAGES = ESTIMATED_STAGES * 2 + ESTIMATED_STAGES // 2


def _covered_templates(flow: Flow) -> set[str]:
    every = flow.head + flow.stage_steps + flow.touchpoint_steps + flow.stage_tail + flow.tail
    return {t.covers for t in every if t.covers}


def _team_per_stage(answers: Mapping[str, Any]) -> bool:
    entry = answers.get("journey.team") or {}
    return entry.get("v") == "per_stage"


def count(flow: Flow, answers: Mapping[str, Any]) -> tuple[int, int]:
    """(answered, total) questions of the interview as it stands."""
    covered = _covered_templates(flow)
    answered = total = 0
    for step in plan(flow, answers):
        if not step.template.asked:
            continue
        entry = answers.get(step.key)
        if entry is not None:
            if not entry.get("by"):
                answered += 1
                total += 1
            continue
        if is_done(step, answers) or step.id in covered:
            continue  # answered another way, or its covering step will answer it
        if step.id == "stage.team" and not _team_per_stage(answers):
            continue
        total += 1
    if "journey.stages" not in answers:
        total += QUESTIONS_FOR_STAGES + sum(1 for t in flow.tail if t.asked)
    return answered, total
