"""Question texts, labels and option labels for concrete steps, in the owner's language."""
from __future__ import annotations

from typing import Any, Mapping

import prompts
from bot.flow import Step


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def message(lang: str, key: str, /, **values: Any) -> str:
    return prompts.say(lang, "messages", key, **values)


def questions(lang: str) -> Mapping[str, Any]:
    return prompts.load(lang, "questions")


def answer_text(answers: Mapping[str, Any], key: str) -> str:
    entry = answers.get(key)
    if entry and entry.get("s") == "ok" and isinstance(entry.get("v"), str):
        return entry["v"]
    return ""


def default_stage_names(lang: str) -> list[str]:
    return list(questions(lang)["journey.stages"]["default"].values())


def placeholders(lang: str, step: Step, answers: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    fallback = prompts.load(lang, "messages")["fallback"]
    return {
        "business": answer_text(answers, "business.name") or fallback["business"],
        "persona": answer_text(answers, "persona.name") or fallback["persona"],
        "stage": step.stage_name,
        "stage_index": step.stage_index,
        "stage_count": step.stage_count,
        "touchpoint": step.touchpoint_name,
        "proposal": ", ".join(default_stage_names(lang)),
        **extra,
    }


def question_text(lang: str, step: Step, answers: Mapping[str, Any], **extra: Any) -> str:
    template = questions(lang)[step.id]["text"]
    return template.format_map(_Blank(placeholders(lang, step, answers, **extra)))


def step_label(lang: str, step: Step, answers: Mapping[str, Any] | None = None) -> str:
    template = questions(lang)[step.id]["label"]
    values = placeholders(lang, step, answers or {})
    label = template.format_map(_Blank(values))
    if step.stage_name and "{stage}" not in template:
        label = f"{step.stage_name}: {label}"
    return label


def option_label(lang: str, template_id: str, value: str) -> str:
    options = questions(lang).get(template_id, {}).get("options", {})
    return str(options.get(value, value))


def display_value(lang: str, template_id: str, entry: Mapping[str, Any] | None) -> str:
    """The answer as the owner would read it: option labels, joined lists, 'don't know'."""
    if not entry:
        return ""
    status = entry.get("s")
    if status == "unknown":
        return message(lang, "unknown_answer")
    if status == "skipped":
        return message(lang, "skipped_answer")
    value = entry.get("v")
    if isinstance(value, list):
        return ", ".join(option_label(lang, template_id, str(v)) for v in value)
    return option_label(lang, template_id, str(value))
