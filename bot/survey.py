"""The customer check: a short survey derived from the journey, and parsing the answers customers gave."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import prompts
from bot.journey import JourneyView
from bot.vocabulary import fold

if TYPE_CHECKING:  # the interview uses this module too, and must not wait for pydantic to load
    from bot.report import CustomerCheck

OVERALL = "_overall"
MAX_STAGE_QUESTIONS = 3


@dataclass(frozen=True)
class SurveyQuestion:
    key: str  # a stage slug, or OVERALL
    stage: str
    example: str  # the step the question is about
    text: str = ""  # the question in a customer's words, without its number


@dataclass(frozen=True)
class SurveyRow:
    scores: dict[str, int]
    comment: str


class SurveyError(ValueError):
    def __init__(self, line: int, problem: str, **values: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem
        self.values = values


EVIDENCE_WEIGHT = {"green": 0.0, "amber": 0.5, "red": 1.0, "unknown": 1.0}  # how much a stage's evidence needs checking



@lru_cache(maxsize=None)
def _activities() -> tuple[tuple[str, re.Pattern[str]], ...]:
    words: dict[str, list[str]] = {}
    for lang in prompts.LANGUAGES:
        for name, entry in prompts.load(lang, "survey")["activities"].items():
            words.setdefault(name, []).extend(fold(str(w)) for w in entry["words"])
    return tuple(
        (name, re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in sorted(set(ws), key=len, reverse=True)) + ")"))
        for name, ws in words.items()
    )


def activity_of(touchpoint: str) -> str | None:
    """What a customer does at a step, read from its name ("Online booking page": book)."""
    folded = fold(touchpoint)
    return next((name for name, pattern in _activities() if pattern.search(folded)), None)


def question_about(lang: str, touchpoint: str) -> str:
    texts = prompts.load(lang, "survey")
    activity = activity_of(touchpoint)
    if activity is None:
        return str(texts["fallback"]).format(touchpoint=touchpoint)
    return str(texts["activities"][activity]["question"])


def survey_questions(journey: JourneyView) -> list[SurveyQuestion]:
    """Up to three stages, the ones with the lowest scores and the weakest evidence first, asked in journey
    order about their lowest step in a customer's words, plus an overall score."""
    from bot.evidence import field_level, stage_evidence

    candidates = []
    for stage in journey.stages:
        if not stage.touchpoints:
            continue
        scores = [tp.score for tp in stage.touchpoints if tp.score is not None]
        average = sum(scores) / len(scores) if scores else 3.0
        weakness = EVIDENCE_WEIGHT[field_level(stage_evidence(journey, stage.slug))]
        candidates.append((average - weakness, stage.index, stage))
    chosen = sorted(sorted(candidates, key=lambda c: (c[0], c[1]))[:MAX_STAGE_QUESTIONS], key=lambda c: c[1])
    questions = []
    for _, _, stage in chosen:
        lowest = min(stage.touchpoints, key=lambda tp: (tp.score if tp.score is not None else 3, tp.index))
        questions.append(SurveyQuestion(key=stage.slug, stage=stage.name, example=lowest.name, text=question_about(journey.lang, lowest.name)))
    if questions:
        questions.append(SurveyQuestion(key=OVERALL, stage="", example=""))
    return questions


def survey_text(journey: JourneyView, questions: list[SurveyQuestion]) -> str:
    lang = journey.lang
    say = lambda key, **v: prompts.say(lang, "messages", f"survey.{key}", **v)  # noqa: E731
    texts = prompts.load(lang, "survey")
    business = journey.business_name or prompts.say(lang, "messages", "fallback.business")
    lines = [say("intro"), ""]
    for n, q in enumerate(questions, start=1):
        if q.key == OVERALL:
            lines.append(say("q_overall", n=n, business=business))
        else:
            lines.append(str(texts["question"]).format(n=n, question=q.text or question_about(lang, q.example), scale=texts["scale"]))
    lines.append(say("q_open", n=len(questions) + 1))
    lines += ["", say("howto")]
    return "\n".join(lines)


MAX_ROWS = 2_000  # customers in one import; more is refused as a whole, with a message
MAX_BYTES = 1_000_000  # the text of one import in UTF-8 (a CSV file has the same limit)
SEPARATORS = (",", ";", "\t")  # comma; semicolon (Dutch and other European Excel); tab (pasted from a sheet)
SNIFF_LINES = 5


class SurveyTooLarge(SurveyError):
    """More than MAX_ROWS customers or MAX_BYTES of text: nothing of it is taken."""

    def __init__(self, problem: str) -> None:
        super().__init__(0, problem, max_rows=str(MAX_ROWS), max_size=f"{MAX_BYTES / 1_000_000:g} MB")


def _is_score(cell: str) -> bool:
    cell = cell.strip()
    return cell.isdigit() and 1 <= int(cell) <= 5


def separator_of(lines: list[str]) -> str:
    """The separator the first lines use: the one that splits them into the most scores from 1 to 5
    (a comment may hold another one: `4;Slow, rude` is two cells), a comma on a tie."""

    def scores(separator: str) -> int:
        try:
            reader = csv.reader(lines[:SNIFF_LINES], delimiter=separator, skipinitialspace=True)
            return sum(_is_score(cell) for row in reader for cell in row)
        except csv.Error:
            return -1

    return max(SEPARATORS, key=lambda s: (scores(s), -SEPARATORS.index(s)))


def parse_rows(text: str, questions: list[SurveyQuestion]) -> list[SurveyRow]:
    """One row per customer: scores in question order, then an optional comment. A header row is skipped.

    Cells are separated by commas, semicolons or tabs, whichever the first lines use; a byte-order
    mark is ignored. More than MAX_ROWS customers or MAX_BYTES of text raise SurveyTooLarge."""
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise SurveyTooLarge("too_large")
    rows: list[SurveyRow] = []
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").lstrip("\ufeff")
    sample = [line for line in normalised.split("\n", 50)[:50] if line.strip()]
    reader = csv.reader(io.StringIO(normalised, newline=""), delimiter=separator_of(sample), skipinitialspace=True)
    number = 0
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error:
            raise SurveyError(number, "unreadable") from None
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if number == 1 and cells[0] and not cells[0].isdigit():
            continue  # a header row
        if len(rows) == MAX_ROWS:
            raise SurveyTooLarge("too_many_rows")
        scores: dict[str, int] = {}
        comment_cells: list[str] = []
        for index, cell in enumerate(cells):
            if index >= len(questions):
                if cell.isdigit():
                    raise SurveyError(number, "too_many")
                comment_cells.append(cell)
                continue
            if not cell:
                continue
            if not cell.isdigit() or not 1 <= int(cell) <= 5:
                if index == len(cells) - 1 and scores and not cell.isdigit():
                    comment_cells.append(cell)  # a comment right after fewer scores
                    continue
                raise SurveyError(number, "score", value=cell)
            scores[questions[index].key] = int(cell)
        if not scores:
            raise SurveyError(number, "empty")
        rows.append(SurveyRow(scores=scores, comment=", ".join(c for c in comment_cells if c)))
    return rows


def import_key(rows: list[SurveyRow]) -> str:
    """What identifies one import: the sha256 of its rows as parsed, in any order. The same answers
    sent again (as a file, or pasted; with commas or semicolons; with or without a byte-order mark
    or a header row) have the same key."""
    canonical = sorted([sorted(row.scores.items()), row.comment] for row in rows)
    return hashlib.sha256(json.dumps(canonical, ensure_ascii=False).encode("utf-8")).hexdigest()


def compare(journey: JourneyView) -> list[CustomerCheck]:
    """Per surveyed stage (and overall): the owner's average feeling next to the customers' average score."""
    from bot.report import CustomerCheck

    if not journey.survey:
        return []
    checks: list[CustomerCheck] = []
    stages = {stage.slug: stage for stage in journey.stages}
    all_owner = [tp.score for _, tp in journey.touchpoints() if tp.score is not None]
    keys: list[str] = []
    for row in journey.survey:
        for key in row.get("scores", {}):
            if key not in keys:
                keys.append(key)
    ordered = [s.slug for s in journey.stages if s.slug in keys] + ([OVERALL] if OVERALL in keys else [])
    for key in ordered:
        scores = [int(row["scores"][key]) for row in journey.survey if key in row.get("scores", {})]
        if key == OVERALL:
            owner = sum(all_owner) / len(all_owner) if all_owner else None
            name = ""  # the overall score; renderers show the word for "overall"
        else:
            stage = stages[key]
            own = [tp.score for tp in stage.touchpoints if tp.score is not None]
            owner = sum(own) / len(own) if own else None
            name = stage.name
        checks.append(
            CustomerCheck(stage=name, owner=round(owner, 1) if owner is not None else None, customers=round(sum(scores) / len(scores), 1), responses=len(scores))
        )
    return checks
