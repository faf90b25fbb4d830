"""What the model may write, and how its reply is checked piece by piece before any of it is used.

The coach owns the facts: the ranking of the improvements, their remedies (effort, cost), the WOW
ideas that fit, the checklist, the calendar and the review date. The model writes the story and
rewords the coach's cards and ideas for this business, choosing among (and rephrasing) the coach's
remedies. Each piece is checked on its own: a card or idea whose quoted trigger is not in the
owner's answers, whose step is not on the map, that carries a link the owner never gave or that is
written in the other language is dropped and the coach's own stays in its place. What the model
wrote and what the coach wrote is recorded in `Report.authors` and said in one notice.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from rapidfuzz import fuzz

from bot.journey import JourneyView
from bot.report import Action, Authorship, Improvement, Report, WowMoment

# -- what the model writes (the JSON schema it is given) ------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore")  # read leniently; the schema the model gets is strict


class RemedyText(_Strict):
    n: int = Field(description="the number of the coach's remedy on this card")
    do: str = Field(description="the remedy reworded for this business, one or two sentences")


class CardText(_Strict):
    n: int = Field(description="the number of the coach's improvement this card rewrites")
    step: str = Field(default="", description="the card's step exactly as the findings give it")
    title: str = Field(description="short and imperative")
    why: str = Field(description="why it matters for this persona, tied to the answers and the method")
    trigger: str = Field(description="the owner's own words that led to it, quoted exactly from the answers")
    remedies: list[RemedyText] = Field(default_factory=list, description="the coach's remedies for this card you recommend, most fitting first")


class IdeaText(_Strict):
    n: int = Field(description="the number of the coach's WOW idea this rewrites")
    idea: str = Field(description="the idea, personal and concrete for this business")
    why: str = Field(description="why it would surprise this persona")
    trigger: str = Field(description="the owner's own words it builds on, quoted exactly from the answers")


class SummaryReply(_Strict):
    """The model's whole reply."""

    summary: list[str] = Field(description="3 to 5 short paragraphs telling the journey from the persona's side")
    improvements: list[CardText]
    wow_moments: list[IdeaText]


def reply_schema(described: bool = True) -> dict[str, Any]:
    """SummaryReply's JSON schema with every reference written out (llama.cpp's grammar builder and
    some other servers do not follow `$ref`); without titles and descriptions when not `described`
    (in the prompt, where the instructions already say what each field is)."""
    schema = SummaryReply.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(defs[node["$ref"].rsplit("/", 1)[-1]])
            words = () if described else ("title", "description")  # the schema's own words, not fields of those names
            node = {k: inline(v) for k, v in node.items() if k != "default" and not (k in words and isinstance(v, str))}
            if "properties" in node:  # strict: every key present, no others
                node["required"] = list(node["properties"])
                node["additionalProperties"] = False
            return node
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return dict(inline(schema))


# -- limits ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bounds:
    """How much of a reply is used: a huge reply must not become dozens of messages or to-dos."""

    paragraphs: int = 6
    paragraph: int = 600
    title: int = 120
    text: int = 400  # a why, an idea, a remedy
    trigger: int = 300


BOUNDS = Bounds()


def cut(value: str, limit: int) -> str:
    value = value.strip()
    if len(value) <= limit:
        return value
    head = value[: limit - 1]
    space = head.rfind(" ")
    if space >= limit // 2:  # end on a whole word
        head = head[:space]
    return head.rstrip() + "…"


# -- checks ------------------------------------------------------------------------------

_NUMBER = re.compile(r"\d+")
_QUOTES = "\"'“”‘’„«»`"
_LINK = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|nl|be|org|net|io|eu|shop)\b", re.IGNORECASE)


def normalised(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(" " if ch in _QUOTES else ch for ch in text)
    return " ".join(re.sub(r"[^\w/%€£$.,:;!? -]", " ", text).split()).strip(" .,:;!?-")


def grounded(quote: str, corpus: Iterable[str], threshold: float = 88.0) -> bool:
    """Is `quote` (normalised, fuzzy) the owner's words: part of one of the answers, or an answer within it?"""
    q = normalised(quote)
    if len(q) < 3:
        return False
    numbers = set(_NUMBER.findall(q))
    for text in corpus:
        t = normalised(text)
        if not t:
            continue
        if q in t or (len(t) >= 6 and t in q):
            return True
        # a quote with a number the answer does not have ("45 minutes" for "20 minutes") is not the owner's
        if len(q) >= 6 and numbers <= set(_NUMBER.findall(t)) and fuzz.partial_ratio(q, t) >= threshold:
            return True
    return False


_WORDS = {
    "nl": frozenset(
        "de het een en van je jouw jij niet dat die voor met op zijn ze wat ook naar bij om als dan maar nog wordt kan heeft deze er "
        "te uit aan hun haar hem zij wij ons onze hoe waar wanneer meer geen veel wel door over na tot zo eerst dus elke iets".split()
    ),
    "en": frozenset(
        "the and of to a an you your is for with on that it are they this at be not what when from can will their her his she he "
        "we our how where more no many by about after until so first every something than which who has have been".split()
    ),
}


def language_of(text: str) -> str | None:
    """'nl' or 'en' when the text clearly reads as one of them (common words counted); None when unsure."""
    words = re.findall(r"[a-zà-ÿ']+", text.casefold())
    counts = {lang: sum(1 for w in words if w in vocab) for lang, vocab in _WORDS.items()}
    total = sum(counts.values())
    if total < 4:
        return None
    best = max(counts, key=lambda lang: counts[lang])
    other = min(counts, key=lambda lang: counts[lang])
    return best if counts[best] >= 2 * counts[other] + 1 else None


def owner_corpus(journey: JourneyView, coach: Report) -> list[str]:
    """Everything the owner typed or chose, as readable text, and the coach's own quotes of it."""
    texts = [f.text for f in journey.fields.values() if f.status == "ok" and f.text]
    texts += [stage.name for stage in journey.stages]
    texts += [tp.name for stage in journey.stages for tp in stage.touchpoints]
    texts += [i.trigger for i in coach.improvements] + [w.trigger for w in coach.wow_moments]
    return texts


def step_names(journey: JourneyView) -> list[str]:
    names = [stage.name for stage in journey.stages]
    names += [f"{stage.name} › {tp.name}" for stage in journey.stages for tp in stage.touchpoints]
    names += [tp.name for stage in journey.stages for tp in stage.touchpoints]
    return names


# -- reading a reply ---------------------------------------------------------------------


class Unusable(Exception):
    """Nothing in the reply can be used. `errors` says why, short and model-readable."""

    def __init__(self, errors: str, reason: str = "invalid") -> None:
        super().__init__(errors)
        self.errors = errors
        self.reason = reason  # invalid, language


@dataclass
class Reading:
    """The usable parts of one reply, and why the others were dropped (counted, never quoted)."""

    summary: list[str] = field(default_factory=list)
    cards: dict[int, CardText] = field(default_factory=dict)  # coach card index (0-based) -> the model's text
    ideas: dict[int, IdeaText] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)

    def drop(self, why: str) -> None:
        self.dropped[why] = self.dropped.get(why, 0) + 1

    @property
    def empty(self) -> bool:
        return not (self.summary or self.cards or self.ideas)


_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def extract_json(content: str) -> str:
    """The JSON object in a reply: without a code fence, from the first `{` to the last `}`."""
    match = _FENCE.match(content)
    if match:
        content = match.group(1)
    start, end = content.find("{"), content.rfind("}")
    return content[start : end + 1] if 0 <= start < end else content


def _items(data: dict[str, Any], name: str) -> list[Any]:
    value = data.get(name)
    return value if isinstance(value, list) else []


_Numbered = TypeVar("_Numbered", CardText, IdeaText)


def _numbered(items: list[Any], model: type[_Numbered], count: int, taken: Mapping[int, Any], reading: Reading, unknown: str) -> Iterator[_Numbered]:
    """The items that match the schema and name one of the coach's `count` pieces not `taken` yet (0-based)."""
    for raw in items:
        try:
            item = model.model_validate(raw)
        except ValidationError:
            reading.drop("not the schema")
            continue
        if not 1 <= item.n <= count or item.n - 1 in taken:
            reading.drop(unknown)
            continue
        yield item


def read_reply(content: str | None, journey: JourneyView, coach: Report, bounds: Bounds = BOUNDS) -> Reading:
    """The parts of `content` that pass their checks; `Unusable` when none does, or when the reply as
    a whole is in the other language."""
    if not content or not content.strip():
        raise Unusable("- the reply was empty")
    try:
        data = json.loads(extract_json(content))
    except ValueError:
        raise Unusable("- the reply was not one JSON object") from None
    if not isinstance(data, dict):
        raise Unusable("- the reply was not one JSON object")
    lang = coach.language
    wanted = {"nl": "Dutch", "en": "English"}[lang]
    prose = " ".join(str(p) for p in _items(data, "summary"))
    prose += " " + " ".join(
        f"{item.get('title', '')} {item.get('why', '')} {item.get('idea', '')}"
        for item in _items(data, "improvements") + _items(data, "wow_moments")
        if isinstance(item, dict)
    )
    said = language_of(prose)
    if said is not None and said != lang:
        raise Unusable(f"- the texts are not in {wanted}: write every text in {wanted}", reason="language")

    corpus = owner_corpus(journey, coach)
    steps = step_names(journey)
    given_links = {m.group(0).casefold() for text in corpus for m in _LINK.finditer(text)}
    reading = Reading()

    def fits(*texts: str) -> str | None:
        """Why these texts cannot be used, or None."""
        for text in texts:
            for link in _LINK.finditer(text):
                if link.group(0).casefold() not in given_links:
                    return "a link the owner never gave"
        joined = " ".join(texts)
        if len(joined.split()) >= 6 and language_of(joined) not in (None, lang):
            return "another language"
        return None

    for paragraph in _items(data, "summary")[: bounds.paragraphs]:
        if not isinstance(paragraph, str) or not paragraph.strip():
            continue
        if (why := fits(paragraph)) is not None:
            reading.drop(why)
            continue
        reading.summary.append(cut(paragraph, bounds.paragraph))

    for card in _numbered(_items(data, "improvements"), CardText, len(coach.improvements), reading.cards, reading, "no such card of the coach"):
        source = coach.improvements[card.n - 1]
        if card.step.strip() and normalised(card.step) != normalised(source.step) and not grounded(card.step, steps, 95):
            reading.drop("a step not on the map")
        elif not grounded(card.trigger, corpus):
            reading.drop("a quote the owner never wrote")
        elif (why := fits(card.title, card.why, *(r.do for r in card.remedies))) is not None:
            reading.drop(why)
        else:
            reading.cards[card.n - 1] = card

    for idea in _numbered(_items(data, "wow_moments"), IdeaText, len(coach.wow_moments), reading.ideas, reading, "no such idea of the coach"):
        if not grounded(idea.trigger, corpus):
            reading.drop("a quote the owner never wrote")
        elif (why := fits(idea.idea, idea.why)) is not None:
            reading.drop(why)
        else:
            reading.ideas[idea.n - 1] = idea

    if reading.empty:
        reasons = "; ".join(sorted(reading.dropped)) or "no summary, improvements or WOW moments"
        raise Unusable(f"- nothing in the reply could be used ({reasons})")
    return reading


# -- merging ----------------------------------------------------------------------------


def _actions(source: Improvement, remedies: list[RemedyText], bounds: Bounds) -> list[Action]:
    """The coach's remedies the model chose, in its order and words; effort and cost stay the coach's."""
    chosen: list[Action] = []
    seen: set[int] = set()
    for remedy in remedies:
        index = remedy.n - 1
        if 0 <= index < len(source.actions) and index not in seen and remedy.do.strip():
            seen.add(index)
            chosen.append(source.actions[index].model_copy(update={"do": cut(remedy.do, bounds.text)}))
    return chosen or list(source.actions)


def merge(coach: Report, reading: Reading, model: str, bounds: Bounds = BOUNDS) -> Report:
    """The coach's report with the model's wording wherever the model's piece passed its checks."""
    improvements = []
    for index, source in enumerate(coach.improvements):
        card = reading.cards.get(index)
        if card is None:
            improvements.append(source)
            continue
        improvements.append(
            source.model_copy(
                update={
                    "title": cut(card.title, bounds.title) or source.title,
                    "why": cut(card.why, bounds.text) or source.why,
                    "trigger": cut(card.trigger, bounds.trigger),
                    "actions": _actions(source, card.remedies, bounds),
                }
            )
        )
    wow: list[WowMoment] = []
    for index, moment in enumerate(coach.wow_moments):
        idea = reading.ideas.get(index)
        if idea is None:
            wow.append(moment)
            continue
        wow.append(
            moment.model_copy(
                update={"idea": cut(idea.idea, bounds.text) or moment.idea, "why": cut(idea.why, bounds.text) or moment.why, "trigger": cut(idea.trigger, bounds.trigger)}
            )
        )
    authors = Authorship(
        model=model,
        summary=bool(reading.summary),
        improvements=[index in reading.cards for index in range(len(coach.improvements))],
        wow_moments=[index in reading.ideas for index in range(len(coach.wow_moments))],
        replaced=sum(reading.dropped.values()),
    )
    return coach.model_copy(
        update={
            "summary": reading.summary or coach.summary,
            "improvements": improvements,
            "wow_moments": wow,
            "generator": f"llm:{model}",
            "authors": authors,
        }
    )
