"""Which pain classes an owner's sentence names, from the cue words in prompts/<lang>/pains.yaml.

`classify("Pas na twee dagen antwoord op WhatsApp", "nl")` -> ("response", "waiting").

Words are matched whole, after folding (case, accents) and a light stemming per language, never as
substrings: "rij" is not in "prijzen", "uur" not in "duur", "rate" not in "separate". A number alone
means nothing; a duration ("3 weeks", "twintig minuten") is a weak cue for waiting, so a sentence that
names a slow reply is response first. The cues of both languages count for every owner.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable

import prompts
from bot.knowledge import PAIN_CLASSES
from bot.vocabulary import fold

LANGS = prompts.LANGUAGES
GAP = "..."
MAX_GAP = 3  # other words a `...` in a phrase lets through
DURATION = "{duration}"

# "don't" -> "do not" (and the typed "dont"), so a cue "do not know" covers both spellings
_NOT_WORDS = {"dont": "do", "doesnt": "does", "didnt": "did", "cant": "can", "cannot": "can", "isnt": "is",
              "arent": "are", "wasnt": "was", "werent": "were", "havent": "have", "hasnt": "has", "wont": "will",
              "couldnt": "could", "wouldnt": "would", "shouldnt": "should"}
_NT_BASES = {"ca": "can", "wo": "will", "sha": "shall"}
_DIGIT_EDGE = re.compile(r"(?<=\d)(?=[^\d\s])|(?<=[^\d\s])(?=\d)")
_DOUBLE_VOWEL = re.compile(r"([aeou])\1")


# ---- words -----------------------------------------------------------------------------------

def tokens(text: str) -> tuple[str, ...]:
    """Folded words; hyphens split, digits split from letters ("20min"), "don't" as "do not"."""
    words = _DIGIT_EDGE.sub(" ", fold(text).replace("-", " ")).split()
    out: list[str] = []
    for word in words:
        word = word.strip("'")
        if not word:
            continue
        if word.endswith("n't"):
            out += [_NT_BASES.get(word[:-3], word[:-3]), "not"]
        elif word in _NOT_WORDS:
            out += [_NOT_WORDS[word], "not"]
        else:
            out.append(word)
    return tuple(out)


def stem_en(word: str) -> str:
    """English plural and verb endings off: prices/pricing -> pric, queues/queuing -> queu."""
    if word.endswith(("'s", "s'")):
        word = word[:-2]
    word = word.replace("'", "")
    if len(word) <= 3:
        return word
    if word.endswith(("ies", "ied")) and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if word[-1] == word[-2] and word[-1] not in "aeioulsz":
                word = word[:-1]  # shopping -> shopp -> shop; stall stays stall (not stale)
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def stem_nl(word: str) -> str:
    """Dutch plural, verb and diminutive endings off: prijzen -> prijs, wachtte -> wacht, weken/week -> wek."""
    if word.endswith("'s"):
        word = word[:-2]
    word = word.replace("'", "")
    for suffix in ("tjes", "jes", "tje", "je"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if word.endswith("en") and len(word) >= 5:
        word = word[:-2]
    elif word.endswith("s") and len(word) >= 4 and word[-2] in "elrw":  # bakkers, tafels, reviews
        word = word[:-1]
    if word.endswith("e") and len(word) >= 4:
        word = word[:-1]
    if len(word) > 2 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]  # bellen -> bell -> bel
    if word.endswith("z"):
        word = word[:-1] + "s"  # prijz -> prijs
    elif word.endswith("v"):
        word = word[:-1] + "f"  # tariev -> tarief
    # open and closed syllables written alike: week/weken, uur/uren, traag/trage
    return _DOUBLE_VOWEL.sub(r"\1", word)


STEMMERS = {"en": stem_en, "nl": stem_nl}


# ---- cues ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Word:
    kind: str  # stem | prefix | suffix | exact (only in `not:`) | duration
    value: str = ""

    def matches(self, raw: str, stem: str) -> bool:
        if self.kind == "stem":
            return stem == self.value
        if self.kind == "exact":
            return raw == self.value
        if self.kind == "prefix":
            return raw.startswith(self.value)
        if self.kind == "suffix":
            return raw.endswith(self.value)
        return False


@dataclass(frozen=True)
class Cue:
    lang: str
    words: tuple[Word, ...]
    gaps: tuple[int, ...]  # how many other words may stand before each word (0 for the first)
    weak: bool  # a bare duration: it says waiting less surely than a word does
    stems: frozenset[str]  # the stem words it needs: a quick no before any matching


@dataclass(frozen=True)
class Durations:
    numbers: frozenset[str]
    articles: frozenset[str]
    joiners: frozenset[str]
    units: frozenset[str]
    not_after: frozenset[str]
    not_before: frozenset[str]
    rate_words: frozenset[str]
    clock_units: frozenset[str]
    clock_not_after: frozenset[str]
    clock_range_after: frozenset[str]


@dataclass(frozen=True)
class Matcher:
    cues: dict[str, tuple[Cue, ...]]  # class id -> its cues, both languages
    vetoes: dict[str, tuple[Word, ...]]  # class id -> words that never count for it
    after: dict[str, tuple[str, ...]]  # class id -> classes that come before it when both are found
    durations: tuple[Durations, ...]
    # (language, stem) -> the (class, cue) pairs that need that stem; cues without a stem word are
    # indexed by their first word instead: ("prefix", "wacht"), ("suffix", "prijs"), ("duration", "")
    index: dict[tuple[str, str], tuple[tuple[str, Cue], ...]]
    prefix_lengths: frozenset[int]
    suffix_lengths: frozenset[int]


def _word(raw: str, lang: str) -> list[Word]:
    """One written word of a cue: `x*` a prefix, `*x` a suffix, else a stem (folding may split it)."""
    prefix, suffix = raw.endswith("*"), raw.startswith("*")
    if prefix and suffix:
        raise ValueError(f"cue word {raw!r}: a star on both ends would match inside words; use word* or *word")
    parts = tokens(raw.strip("*"))
    if not parts:
        return []
    words = [Word("stem", STEMMERS[lang](p)) for p in parts]
    if prefix:
        words[-1] = Word("prefix", parts[-1])
    if suffix:
        words[0] = Word("suffix", parts[0])
    return words


def parse_cue(text: str, lang: str) -> Cue | None:
    words: list[Word] = []
    gaps: list[int] = []
    for segment in str(text).split(GAP):
        gap = MAX_GAP if words else 0  # the first word after a `...`
        for raw in segment.split():
            for word in [Word("duration")] if raw == DURATION else _word(raw, lang):
                words.append(word)
                gaps.append(gap)
                gap = 0
    if not words:
        return None
    weak = words == [Word("duration")]
    return Cue(lang, tuple(words), tuple(gaps), weak, frozenset(w.value for w in words if w.kind == "stem"))


def _veto(text: str) -> Word:
    word = fold(text.strip("*")).replace("-", " ").replace(" ", "")
    return Word("prefix" if text.endswith("*") else "suffix" if text.startswith("*") else "exact", word)


def _durations(spec: dict[str, Any]) -> Durations:
    def words(key: str) -> frozenset[str]:
        return frozenset(fold(str(w)) or str(w) for w in spec.get(key) or ())

    return Durations(*(words(key) for key in (
        "numbers", "articles", "joiners", "units", "not_after", "not_before", "rate_words", "clock_units", "clock_not_after",
        "clock_range_after")))


def matcher(lang: str) -> Matcher:
    """The cues of `lang` first, then those of the other language (owners mix them)."""
    lang = prompts.normalise_language(lang)
    return compile_cues((lang,) + tuple(other for other in LANGS if other != lang))


@lru_cache(maxsize=None)
def compile_cues(order: tuple[str, ...]) -> Matcher:
    """The cues of the languages in `order`, compiled once."""
    cues: dict[str, list[Cue]] = {c: [] for c in PAIN_CLASSES}
    vetoes: dict[str, list[Word]] = {c: [] for c in PAIN_CLASSES}
    after: dict[str, list[str]] = {c: [] for c in PAIN_CLASSES}
    durations: list[Durations] = []
    for source in order:
        data = prompts.load(source, "pains")
        for cls, entry in (data.get("classes") or {}).items():
            if cls not in cues:
                continue
            cues[cls] += [c for c in (parse_cue(t, source) for t in entry.get("cues") or ()) if c]
            vetoes[cls] += [_veto(str(t)) for t in entry.get("not") or ()]
            after[cls] += [str(a) for a in entry.get("after") or () if a in cues and a not in after[cls]]
        durations.append(_durations(data.get("durations") or {}))
    index: dict[tuple[str, str], list[tuple[str, Cue]]] = {}
    for cls, found in cues.items():
        for cue in found:
            key = (cue.lang, min(cue.stems)) if cue.stems else (cue.words[0].kind, cue.words[0].value)
            index.setdefault(key, []).append((cls, cue))
    loose = [w for c in cues.values() for cue in c for w in cue.words[:1] if not cue.stems]
    return Matcher({c: tuple(v) for c, v in cues.items()}, {c: tuple(v) for c, v in vetoes.items()},
                   {c: tuple(v) for c, v in after.items() if v}, tuple(durations),
                   {k: tuple(v) for k, v in index.items()},
                   frozenset(len(w.value) for w in loose if w.kind == "prefix"),
                   frozenset(len(w.value) for w in loose if w.kind == "suffix"))


# ---- durations -------------------------------------------------------------------------------

def _is_number(word: str, spec: Durations) -> bool:
    return word.isdigit() or word in spec.numbers


def duration_spans(words: tuple[str, ...], spec: Durations) -> list[int]:
    """Start positions of the durations in `words`: a run of numbers (or an article) and a unit."""
    found: list[int] = []
    for i, unit in enumerate(words):
        if unit not in spec.units:
            continue
        start, numbers, ranged = i, 0, False
        while start > 0 and (_is_number(w := words[start - 1], spec) or w in spec.articles or w in spec.joiners):
            numbers += _is_number(w, spec)
            ranged |= w in spec.joiners and numbers > 0
            start -= 1
        while start < i and words[start] in spec.joiners:
            start += 1
        run = words[start:i]
        if not run or all(w in spec.joiners for w in run):
            continue
        before = words[start - 1] if start else ""
        if before in spec.not_after or " ".join(words[max(0, start - 2):start]) in spec.not_after:
            continue  # every 6 weeks, once a week, om de paar weken
        if not numbers and any(_is_number(w, spec) for w in words[max(0, start - 2):start]):
            continue  # "200 loaves a day": the article is a rate, not one day
        if i + 1 < len(words) and words[i + 1] in spec.not_before:
            continue  # a 3 minute walk
        if i + 1 < len(words) and words[i + 1] in spec.rate_words and any(w in spec.units for w in words[i + 2:i + 4]):
            continue  # 7 days a week
        if unit in spec.clock_units and (before in spec.clock_not_after or (ranged and before in spec.clock_range_after)):
            continue  # om 8 uur, van 9 tot 17 uur
        found.append(start)
    return found


# ---- matching --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sentence:
    words: tuple[str, ...]
    stems: dict[str, tuple[str, ...]]  # language -> the words stemmed the way that language's cues are
    where: dict[str, dict[str, tuple[int, ...]]]  # language -> stem -> its positions
    durations: frozenset[int]  # where a duration starts


def _hits(word: Word, lang: str, s: Sentence) -> Iterable[int]:
    """Where one cue word matches, ignoring vetoes."""
    if word.kind == "stem":
        return s.where[lang].get(word.value, ())
    if word.kind == "duration":
        return sorted(s.durations)
    return (i for i, w in enumerate(s.words) if word.matches(w, ""))


def _rest(cue: Cue, k: int, pos: int, s: Sentence, allowed: list[bool]) -> tuple[int, ...] | None:
    """The positions of cue words k.. when word k matches at `pos` or up to its gap later, else None."""
    if k == len(cue.words):
        return ()
    stem = s.stems[cue.lang]
    word = cue.words[k]
    for at in range(pos, min(len(s.words), pos + cue.gaps[k] + 1)):
        hit = at in s.durations if word.kind == "duration" else allowed[at] and word.matches(s.words[at], stem[at])
        if hit and (rest := _rest(cue, k + 1, at + 1, s, allowed)) is not None:
            return (at,) + rest
    return None


def find(cue: Cue, s: Sentence, allowed: list[bool]) -> tuple[int, ...] | None:
    """The positions of the cue's words at its first match in the sentence, or None."""
    where = s.where[cue.lang]
    if any(stem not in where for stem in cue.stems):
        return None  # a word of the cue is not in the sentence at all: most cues end here
    for at in _hits(cue.words[0], cue.lang, s):
        if allowed[at] and (rest := _rest(cue, 1, at + 1, s, allowed)) is not None:
            return (at,) + rest
    return None


def sentence(text: str, m: Matcher) -> Sentence:
    words = tokens(text)
    stems = {code: tuple(STEMMERS[code](w) for w in words) for code in STEMMERS}
    where: dict[str, dict[str, tuple[int, ...]]] = {}
    for lang, stemmed in stems.items():
        positions: dict[str, list[int]] = {}
        for i, stem in enumerate(stemmed):
            positions.setdefault(stem, []).append(i)
        where[lang] = {stem: tuple(p) for stem, p in positions.items()}
    return Sentence(words, stems, where, frozenset(p for spec in m.durations for p in duration_spans(words, spec)))


def _keys(s: Sentence, m: Matcher) -> set[tuple[str, str]]:
    """The index keys the sentence can reach: its stems, the prefixes and suffixes of its words."""
    keys = {(lang, stem) for lang, where in s.where.items() for stem in where}
    for w in s.words:
        keys.update(("prefix", w[:n]) for n in m.prefix_lengths if n <= len(w))
        keys.update(("suffix", w[-n:]) for n in m.suffix_lengths if n <= len(w))
    if s.durations:
        keys.add(("duration", ""))
    return keys


def matches(text: str, m: Matcher) -> list[tuple[str, frozenset[int], bool]]:
    """Every cue found: (class id, positions of its words, weak); one word read once per class."""
    s = sentence(text, m)
    if not s.words:
        return []
    candidates: dict[str, list[Cue]] = {}
    for key in _keys(s, m):
        for cls, cue in m.index.get(key, ()):
            candidates.setdefault(cls, []).append(cue)
    found: list[tuple[str, frozenset[int], bool]] = []
    for cls, cues in candidates.items():
        vetoes = m.vetoes[cls]
        allowed = [not any(v.matches(w, "") for v in vetoes) for w in s.words]
        spans: dict[frozenset[int], bool] = {}
        for cue in cues:
            at = find(cue, s, allowed)
            if at is not None:
                spans[frozenset(at)] = spans.get(frozenset(at), True) and cue.weak
        # "review" and "*reviews" on the same word, "geen contact" inside "geen contact na": one mention
        found += [(cls, p, w) for p, w in spans.items() if not any(p < q for q in spans)]
    return found


def scores(text: str, m: Matcher) -> dict[str, tuple[bool, int]]:
    """Class id -> (found only through a bare duration, position of its first mention), for the classes found.

    Where two classes claim the same word, the longer cue wins ("horen ze niks meer van ons" is
    follow-up, not a slow reply); cues of equal length both count."""
    found = matches(text, m)
    out: dict[str, tuple[bool, int]] = {}
    for cls, at, weak in found:
        if any(other != cls and at & there and len(there) > len(at) for other, there, _ in found):
            continue
        only_weak, first = out.get(cls, (True, min(at)))
        out[cls] = (only_weak and weak, min(first, min(at)))
    return out


def classify(text: str, lang: str) -> tuple[str, ...]:
    """The pain classes `text` names, strongest first; () for none."""
    return rank(text, matcher(lang))


def rank(text: str, m: Matcher) -> tuple[str, ...]:
    """The classes `m` finds in `text`, strongest first.

    Strongest is the one the owner names first: owners lead with what bothers them most. A class
    found only through a bare duration comes after those named in words, and a class comes after
    the classes its `after:` lists (a wait in a sentence about a reply is the reply's wait)."""
    found = scores(text, m)
    order = sorted(found, key=lambda c: found[c])
    for cls in list(order):
        leaders = [order.index(a) for a in m.after.get(cls, ()) if a in order]
        if leaders and max(leaders) > order.index(cls):
            order.remove(cls)
            order.insert(max(leaders), cls)
    return tuple(order)


def labels(lang: str) -> dict[str, str]:
    """Class id -> how the coach names the problem in `lang` ("waiting" -> "Wachten")."""
    return dict(_labels(prompts.normalise_language(lang)))


@lru_cache(maxsize=None)
def _labels(lang: str) -> tuple[tuple[str, str], ...]:
    classes = prompts.load(lang, "pains").get("classes") or {}
    return tuple((c, str(classes[c]["label"])) for c in PAIN_CLASSES if c in classes)
