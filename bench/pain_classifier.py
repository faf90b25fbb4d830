"""Pain classifier accuracy (bot/pains.py) on the labelled owner sentences in bench/data/pains.yaml.

Per language: how many sentences, and three figures:
    main   the first label is among the predicted classes (for a sentence labelled with no class:
           nothing predicted)
    first  the first predicted class is the first label (the class the coach answers first)
    exact  the predicted set equals the labelled set
    silent a sentence labelled with a class got none at all (the coach then has no class to go on)
then every sentence that is not exact, with what was expected and what came out. The tuning set is
what the cues were written against; the holdout set was written afterwards and never tuned on.

    .venv/bin/python -m bench.pain_classifier              # print the table and the misses
    .venv/bin/python -m bench.pain_classifier --own-only   # only the owner's language's cues count

`make bench` runs this as one of its sections. Figures are printed here; tests/test_pains.py asserts them.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from bench.common import ROOT

DATA = ROOT / "bench" / "data" / "pains.yaml"
SETS = ("tuning", "holdout")
Classifier = Callable[[str, str], tuple[str, ...]]


@dataclass(frozen=True)
class Case:
    text: str
    classes: tuple[str, ...]


@dataclass
class Score:
    lang: str
    part: str
    sentences: int = 0
    main: int = 0
    first: int = 0
    exact: int = 0
    silent: int = 0
    misses: list[tuple[Case, tuple[str, ...]]] = field(default_factory=list)

    def pct(self, n: int) -> float:
        return 100.0 * n / self.sentences if self.sentences else float("nan")


def corpus(path: Path = DATA) -> dict[str, dict[str, list[Case]]]:
    """part (tuning, holdout) -> language -> cases."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    sections = {"tuning": data, "holdout": data.get("holdout") or {}}
    return {
        part: {lang: [Case(str(e["text"]), tuple(e["classes"] or ())) for e in section.get(lang) or ()] for lang in ("en", "nl")}
        for part, section in sections.items()
    }


def main_hit(expected: tuple[str, ...], got: tuple[str, ...]) -> bool:
    return expected[0] in got if expected else not got


def first_hit(expected: tuple[str, ...], got: tuple[str, ...]) -> bool:
    return got[:1] == expected[:1]


def score(cases: list[Case], lang: str, part: str, classify: Classifier) -> Score:
    result = Score(lang, part, len(cases))
    for case in cases:
        got = classify(case.text, lang)
        result.main += main_hit(case.classes, got)
        result.first += first_hit(case.classes, got)
        result.exact += set(got) == set(case.classes)
        result.silent += bool(case.classes) and not got
        if set(got) != set(case.classes) or not first_hit(case.classes, got):
            result.misses.append((case, got))
    return result


def own_language_only() -> Classifier:
    """classify with only the owner's language's cues: the figure the mixed default is weighed against."""
    from bot import pains

    return lambda text, lang: pains.rank(text, pains.compile_cues((lang,)))


def run(own_only: bool = False) -> list[Score]:
    from bot import pains

    classify = own_language_only() if own_only else pains.classify
    data = corpus()
    return [score(data[part][lang], lang, part, classify) for part in SETS for lang in ("en", "nl") if data[part][lang]]


def speed(runs: int = 3) -> float:
    """Median seconds per classify call over every sentence of the corpus."""
    from bot import pains

    texts = [(c.text, lang) for part in corpus().values() for lang, cases in part.items() for c in cases]
    pains.classify("warm-up", "en")
    pains.classify("warm-up", "nl")
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for text, lang in texts:
            pains.classify(text, lang)
        times.append((time.perf_counter() - t0) / len(texts))
    return sorted(times)[len(times) // 2]


def table(scores: list[Score], per_call: float | None = None, own: list[Score] | None = None) -> list[str]:
    lines = [
        "## Pain classifier (bench/pain_classifier.py)",
        "",
        "Owner sentences labelled by hand in bench/data/pains.yaml. main: the first label is among the predicted "
        "classes; first: the first predicted class is the first label; exact: the predicted set is the labelled set; "
        "silent: labelled with a class, got none. Targets: main >= 90 %, exact >= 80 % per language. The tuning "
        "figures are what the cues were written against, so they flatter; the holdout sentences were written after "
        "the cues and never tuned on: they show what to expect of a sentence the cues have never seen.",
        "",
        "| set | language | sentences | main | first | exact | silent |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for s in scores:
        lines.append(f"| {s.part} | {s.lang} | {s.sentences} | {s.pct(s.main):.0f} % | {s.pct(s.first):.0f} % | "
                     f"{s.pct(s.exact):.0f} % | {s.pct(s.silent):.0f} % |")
    if own:
        lines += ["", "Only the owner's language's cues (the other language's left out):", "",
                  "| set | language | main | first | exact |", "|---|---|---:|---:|---:|"]
        lines += [f"| {s.part} | {s.lang} | {s.pct(s.main):.0f} % | {s.pct(s.first):.0f} % | {s.pct(s.exact):.0f} % |" for s in own]
    if per_call is not None:
        lines += ["", f"{per_call * 1e6:.0f} µs per sentence (median of three passes over the corpus, cues compiled)."]
    return lines


def misses(scores: list[Score]) -> list[str]:
    lines: list[str] = []
    for s in scores:
        if not s.misses:
            continue
        lines += ["", f"### Not exact or not first: {s.part}, {s.lang} ({len(s.misses)})", ""]
        for case, got in s.misses:
            mark = " (main miss)" if not main_hit(case.classes, got) else " (order)" if set(got) == set(case.classes) else ""
            lines.append(f"- {case.text!r}: expected {list(case.classes)}, got {list(got)}{mark}")
    return lines


def section() -> list[str]:
    """The lines `make bench` adds to bench/results/latest.md."""
    return table(run(), speed(), run(own_only=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="pain classifier accuracy on the labelled corpus")
    parser.add_argument("--own-only", action="store_true", help="only the owner's language's cues count")
    args = parser.parse_args(argv)
    scores = run(own_only=args.own_only)
    print("\n".join(table(scores, speed()) + misses(scores)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
