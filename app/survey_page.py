"""The survey page's application layer: what a survey link shows, and taking a customer's answers.

The handler (handlers/web.py) calls only these. A page is read from the store by its token and its
questions are made from the journey's answers, as `/survey` makes them (bot/survey.py), in the
customer's language. A submission is checked against those questions before anything is stored, and
stored once per submission key (the store's unique key).
"""
from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

from bot.journey import build_view
from bot.survey import SurveyQuestion, survey_questions
from bot.survey_page import COMMENT, FIELD_PREFIX, MAX_COMMENT, SCORES, SUBMISSION, page_language

if TYPE_CHECKING:
    from app.journeys import Journeys

TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")  # the store makes 32 characters (secrets.token_urlsafe(24))
SUBMISSION_KEY = re.compile(r"[A-Za-z0-9_-]{20,64}")  # fits the store's column (64)
MAX_FIELDS = 64  # form fields read from one submission
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


@dataclass(frozen=True)
class SurveyPage:
    """What one survey link shows: never the owner, only the business's name and the questions."""

    token: str
    lang: str  # the language the page is shown in
    business: str
    questions: tuple[SurveyQuestion, ...]
    closed: bool

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(q.key for q in self.questions)


@dataclass(frozen=True)
class Submission:
    scores: dict[str, int]
    comment: str | None
    key: str


class Invalid(ValueError):
    """A submission that is not stored. `reason` is a key of `errors` in survey_page.yaml; `chosen`
    and `comment` are what the customer sent that can be shown again in the form."""

    def __init__(self, reason: str, chosen: dict[str, int] | None = None, comment: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.chosen = chosen or {}
        self.comment = comment


@dataclass(frozen=True)
class _Fields:
    scores: dict[str, list[str]] = field(default_factory=dict)
    comment: list[str] = field(default_factory=list)
    submission: list[str] = field(default_factory=list)


def valid_token(token: str) -> bool:
    return TOKEN.fullmatch(token) is not None


def new_submission_key() -> str:
    """The one-time key a served form carries, so that sending it twice stores it once."""
    return secrets.token_urlsafe(24)


def load_page(journeys: "Journeys", token: str, accept_language: str | None = None) -> SurveyPage | None:
    """The page of a survey link in the customer's language, or None for a token that is not a link."""
    if not valid_token(token):
        return None
    record = journeys.store.survey_page(token)
    if record is None:
        return None
    lang = page_language(accept_language, record.lang)
    view = build_view(record.answers, lang, record.journey_id, journeys.flow)
    return SurveyPage(token=token, lang=lang, business=view.business_name, questions=tuple(survey_questions(view)), closed=record.closed)


def clean_comment(text: str) -> str:
    """A comment as it is stored: line breaks as \\n, control characters and bidi overrides removed,
    trimmed, at most MAX_COMMENT characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n").replace("\t", " ")
    kept = "".join(ch for ch in text if ch == "\n" or (unicodedata.category(ch) != "Cc" and ch not in _BIDI))
    return kept.strip()[:MAX_COMMENT].strip()


def read_submission(page: SurveyPage, fields: Sequence[tuple[str, str]]) -> Submission:
    """The customer's answers from the form's fields; Invalid when a score is not 1..5 for a question
    of this page, when no question was answered, or when the submission key is missing or malformed."""
    if len(fields) > MAX_FIELDS:
        raise Invalid("bad_form")
    found = _Fields()
    for name, value in fields:
        if name.startswith(FIELD_PREFIX):
            found.scores.setdefault(name[len(FIELD_PREFIX):], []).append(value)
        elif name == COMMENT:
            found.comment.append(value)
        elif name == SUBMISSION:
            found.submission.append(value)
    comment = clean_comment(found.comment[0]) if len(found.comment) == 1 else ""
    chosen: dict[str, int] = {}
    problem: str | None = None
    for key, values in found.scores.items():
        if key not in page.keys:
            problem = problem or "changed"
            continue
        value = values[0].strip() if len(values) == 1 else ""
        if not (value.isascii() and value.isdigit() and int(value) in SCORES):
            problem = "bad_score"
            continue
        chosen[key] = int(value)
    if len(found.comment) > 1:
        problem = problem or "bad_form"
    if problem is None and not chosen:
        problem = "no_scores"
    key = found.submission[0] if len(found.submission) == 1 else ""
    if problem is None and SUBMISSION_KEY.fullmatch(key) is None:
        problem = "bad_form"
    if problem is not None:
        raise Invalid(problem, chosen, comment)
    return Submission(scores=chosen, comment=comment or None, key=key)


def submit(journeys: "Journeys", page: SurveyPage, submission: Submission) -> str:
    """Store one customer's answers once: "stored", "duplicate" (this submission key was stored
    before: nothing is stored again) or "closed" (the link closed meanwhile: nothing is stored)."""
    return journeys.store.submit_survey(page.token, submission.scores, submission.comment, submission.key)
