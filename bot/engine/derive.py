"""Answers given once that fill many: channels inferred from touchpoint names, one team for the whole
journey or a stage, a stage's ratings and what goes wrong in it, evidence and delights for all stages.

Pure functions of the answers; the turn records what they return with `Turn.fill`.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Iterable, Iterator, Mapping

import prompts
from bot.flow import answered_list, stage_key, stage_slugs, touchpoint_key

Fill = tuple[str, Any, str]  # (answer key, value, status)
COMPOUND_PART = 6  # lexicon words this long are also found inside a compound word
PAINLESS = 3  # a stage whose lowest rating is at least this gets no "what goes wrong" question
_WORD = re.compile(r"[\w'’-]+", re.UNICODE)


@lru_cache(maxsize=1)
def _channel_words() -> tuple[tuple[str, str], ...]:
    """(word, channel) pairs of both languages, longest first so 'google maps' wins over 'google'."""
    pairs: list[tuple[str, str]] = []
    for lang in prompts.LANGUAGES:
        for channel, words in prompts.load(lang, "lexicon")["touchpoint.channel"].items():
            pairs += [(str(word).casefold(), str(channel)) for word in words]
    return tuple(sorted(set(pairs), key=lambda pair: -len(pair[0])))


def infer_channel(name: str) -> str | None:
    """The channel a touchpoint's name says, or None: a lexicon word at the start of a word of the name."""
    folded = " ".join(_WORD.findall(name.casefold().replace("’", "'")))
    found: list[tuple[int, int, str]] = []  # (position, -length, channel): the first word said wins
    for word, channel in _channel_words():
        # a word starts a word of the name; a longer word may also end one (Dutch compounds such as
        # "evaluatiegesprek" or "onderhoudsrapport")
        boundary = "" if len(word) >= COMPOUND_PART else r"(?<![\w])"
        match = re.search(rf"{boundary}{re.escape(word)}", folded)
        if match:
            found.append((match.start(), -len(word), channel))
    return min(found)[2] if found else None


def _stages(answers: Mapping[str, Any]) -> list[str]:
    return stage_slugs(answered_list(answers, "journey.stages"))


def _touchpoints(answers: Mapping[str, Any], slug: str) -> list[str]:
    return answered_list(answers, stage_key(slug, "stage.touchpoints"))


def _journey_team(answers: Mapping[str, Any]) -> str | None:
    entry = answers.get("journey.team") or {}
    value = entry.get("v") if entry.get("s") == "ok" else None
    return str(value) if value and value != "per_stage" else None


def after_touchpoints(answers: Mapping[str, Any], slug: str) -> Iterator[Fill]:
    """A stage's touchpoints are named: their channels where the names say them, and the stage's team
    (given for all stages at once) or the journey's."""
    stage_team = answers.get(stage_key(slug, "stage.team")) or {}
    team = stage_team.get("v") if stage_team.get("s") == "ok" and stage_team.get("v") else _journey_team(answers)
    for n, name in enumerate(_touchpoints(answers, slug), start=1):
        channel_key = touchpoint_key(slug, n, "touchpoint.channel")
        if channel_key not in answers:
            channel = infer_channel(name)
            if channel:
                yield channel_key, channel, "ok"
        team_key = touchpoint_key(slug, n, "touchpoint.team")
        if team and team_key not in answers:
            yield team_key, team, "ok"


def after_journey_team(answers: Mapping[str, Any]) -> Iterator[Fill]:
    team = _journey_team(answers)
    if not team:
        return
    for slug in _stages(answers):
        for n in range(1, len(_touchpoints(answers, slug)) + 1):
            key = touchpoint_key(slug, n, "touchpoint.team")
            if key not in answers:
                yield key, team, "ok"


def after_stage_team(answers: Mapping[str, Any], slug: str, team: Any, status: str) -> Iterator[Fill]:
    for n in range(1, len(_touchpoints(answers, slug)) + 1):
        yield touchpoint_key(slug, n, "touchpoint.team"), team, status


def after_ratings(answers: Mapping[str, Any], slug: str, scores: Mapping[int, int], pain: str) -> Iterator[Fill]:
    """Each touchpoint's feeling; the stage's pain when it was typed with the ratings, or nothing to
    ask when no touchpoint is rated below 3 (a low point is where something goes wrong; the owner
    can always type a pain after the ratings)."""
    for n, score in sorted(scores.items()):
        yield touchpoint_key(slug, n, "touchpoint.feeling"), score, "ok"
    if pain:
        yield from after_pains(answers, slug, pain, scores)
    elif scores and min(scores.values()) >= PAINLESS:
        for n in range(1, len(_touchpoints(answers, slug)) + 1):
            key = touchpoint_key(slug, n, "touchpoint.pain")
            if key not in answers:
                yield key, None, "skipped"


def after_described(answers: Mapping[str, Any], slug: str) -> Iterator[Fill]:
    """A stage whose description gave every touchpoint a feeling: as after its ratings, nothing to ask
    about what goes wrong when none is below 3 (pains read from the description stay)."""
    scores = _scores(answers, slug)
    count = len(_touchpoints(answers, slug))
    if count and len(scores) == count and min(scores.values()) >= PAINLESS:
        for n in range(1, count + 1):
            key = touchpoint_key(slug, n, "touchpoint.pain")
            if key not in answers:
                yield key, None, "skipped"


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.casefold()) if len(w) > 2}


def _best_named(text: str, candidates: Iterable[tuple[Any, set[str]]]) -> Any:
    """The candidate whose words a sentence shares most (words sharing their first five letters
    count, so "ophalen" finds "ophaalmoment"); None when it shares none."""
    said = _words(text)
    best, best_overlap = None, 0
    for candidate, words in candidates:
        overlap = sum(1 for word in words if any(s.startswith(word[:5]) or word.startswith(s[:5]) for s in said))
        if overlap > best_overlap:
            best, best_overlap = candidate, overlap
    return best


def named_touchpoint(text: str, names: list[str], scores: Mapping[int, int]) -> int:
    """The touchpoint a sentence is about: the one whose name shares most words with it, else the
    lowest rated, else the first."""
    best = _best_named(text, ((n, _words(name)) for n, name in enumerate(names, start=1)))
    if best:
        return int(best)
    if scores:
        return min(scores, key=lambda n: (scores[n], n))
    return 1


def _scores(answers: Mapping[str, Any], slug: str) -> dict[int, int]:
    scores: dict[int, int] = {}
    for n in range(1, len(_touchpoints(answers, slug)) + 1):
        entry = answers.get(touchpoint_key(slug, n, "touchpoint.feeling")) or {}
        if entry.get("s") == "ok" and entry.get("v") is not None:
            scores[n] = int(entry["v"])
    return scores


def after_pains(answers: Mapping[str, Any], slug: str, text: str, scores: Mapping[int, int] | None = None) -> Iterator[Fill]:
    """What goes wrong in a stage, on the touchpoint it names (or the lowest rated); the others have none."""
    names = _touchpoints(answers, slug)
    if not names:
        return
    target = named_touchpoint(text, names, scores if scores is not None else _scores(answers, slug)) if text else 0
    for n in range(1, len(names) + 1):
        key = touchpoint_key(slug, n, "touchpoint.pain")
        if n == target:
            yield key, text, "ok"
        elif key not in answers:  # a pain given before (with the ratings, or per touchpoint) stays
            yield key, None, "skipped"


def after_evidence(answers: Mapping[str, Any], value: Any, status: str) -> Iterator[Fill]:
    """The journey's evidence for every stage not answered on its own (journeys of the first flow)."""
    for slug in _stages(answers):
        key = stage_key(slug, "stage.evidence")
        if key not in answers or (answers[key] or {}).get("by"):
            yield key, value, status


def after_delights(answers: Mapping[str, Any], text: str) -> Iterator[Fill]:
    """What already delights, on the stage it names (by a stage or touchpoint name), else the best rated."""
    slugs = _stages(answers)
    names = answered_list(answers, "journey.stages")
    target = ""
    if text:
        stages = ((slug, _words(name) | {w for tp in _touchpoints(answers, slug) for w in _words(tp)}) for slug, name in zip(slugs, names))
        target = _best_named(text, stages) or ""
        if not target and slugs:
            averages = {slug: (sum(s.values()) / len(s)) for slug in slugs if (s := _scores(answers, slug))}
            target = max(averages, key=lambda slug: averages[slug]) if averages else slugs[0]
    for slug in slugs:
        key = stage_key(slug, "stage.delights")
        if slug == target:
            yield key, text, "ok"
        elif key not in answers:
            yield key, None, "skipped"


# -- a stage told in the owner's own words ---------------------------------------------------
DESCRIBED = "described"  # the open question that shows what was read, before it is stored
JOINING = r"(?:\ben dan\b|\ben daarna\b|\bdaarna\b|\bvervolgens\b|\bwaarna\b|\ben\b|\bdan\b|\band then\b|\bafter that\b|\bafterwards\b|\bthen\b|\band\b)"
SUBJECTS = re.compile(r"^(?:ze|zij|hij|men|klanten|de klant|they|she|he|customers|the customer)\s+", re.IGNORECASE)
SEQUENCE = r"\b(?:dan|daarna|vervolgens|waarna|then|after that|afterwards)\b"  # words that tell a story in order
MIN_WORDS = 6


def read_description(text: str) -> list[str] | None:
    """The touchpoints a description names, or None when `text` is a plain list (or too short to read)."""
    if "\n" in text or ";" in text or len(text.split()) < MIN_WORDS or not re.search(JOINING, text, re.IGNORECASE):
        return None
    if not (SUBJECTS.match(text.strip()) or re.search(SEQUENCE, text, re.IGNORECASE)):
        return None  # "Aanbetaling en bevestigingsmail" is an item of a list, not a story
    parts = re.split(rf"\s*(?:[,.!?]|{JOINING})\s*", text, flags=re.IGNORECASE)
    names = []
    for part in parts:
        part = SUBJECTS.sub("", part.strip(" -"))
        if len(part) >= 3:
            names.append(part[0].upper() + part[1:])
    return names if len(names) >= 2 else None


