"""The seven classic mistakes, checked against the answers (DOMAIN.md)."""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.coach.channels import channel_gaps, persona_channels
from bot.coach.context import Context
from bot.evidence import field_level, stage_evidence
from bot.report import MistakeCheck
from bot.report_sections import long_date
from bot.review_rhythm import review_date, rhythm_of
from bot.texts import option_label
from bot.vocabulary import fold

PERSONA_TEXT_FIELDS = ("persona.role", "persona.goals", "persona.pains", "persona.behaviour", "persona.trust", "persona.trigger")
DETAILED_WORDS = 5  # an answer of fewer words says too little to act on ("no time", "relax after work")
NOT_MARKETING = {"owner", "service", "delivery", "tech", "design", "finance"}



def mistakes(ctx: Context) -> list[MistakeCheck]:
    titles = ctx.texts["mistakes"]["titles"]
    checks: list[MistakeCheck] = []

    def check(number: int, ok: bool, variant: str = "", **values: Any) -> None:
        key = f"mistakes.{number}_{variant or ('ok' if ok else 'bad')}"
        checks.append(MistakeCheck(number=number, title=str(titles[number]), ok=ok, note=ctx.t(key, **values)))

    _evidence_checks(ctx, check)
    thin = thin_persona_fields(ctx)
    check(3, not thin, fields=", ".join(thin))
    gaps, _ = channel_gaps(ctx)
    gap_labels = ", ".join(option_label(ctx.lang, "persona.channels", c) for c in gaps)
    if not persona_channels(ctx):
        check(4, False, "unknown", persona=ctx.persona)
    else:
        check(4, not gaps, persona=ctx.persona, channels=gap_labels)
    groups = other_customers(ctx)
    if ctx.persona.strip().casefold() in {w.casefold() for w in ctx.texts["everyone_words"]}:
        check(5, False, "everyone", persona=ctx.persona)
    else:
        check(5, not groups, persona=ctx.persona, groups=", ".join(groups))
    _team_check(ctx, check)
    rhythm = rhythm_of(ctx.journey.answers)
    when = review_date(ctx.journey.answers, ctx.today)
    if when is None:
        check(7, False)
    else:
        check(7, True, f"ok_{rhythm}", date=long_date(when.isoformat(), ctx.lang))
    return checks


def _evidence_checks(ctx: Context, check: Any) -> None:
    """Mistakes 1 and 2 follow the evidence lights of the persona and of every stage."""
    items = [("persona", ctx.field("persona.source"))] + [(s.name, stage_evidence(ctx.journey, s.slug)) for s in ctx.journey.stages]
    known = [(name, f) for name, f in items if field_level(f) != "unknown"]
    if not known:
        check(1, False, "unknown")
        check(2, False, "unknown")
        return
    talked = [name for name, f in known if "interviews" in (f.value if f and isinstance(f.value, list) else [])]
    without = [ctx.persona if name == "persona" else name for name, f in known if name not in talked]
    check(1, len(talked) * 2 >= len(known) and "persona" in talked, parts=", ".join(without) or "–")
    with_data = [name for name, f in known if "data" in (f.value if f and isinstance(f.value, list) else [])]
    check(2, bool(with_data), parts=", ".join(ctx.persona if n == "persona" else n for n in with_data))


def thin_persona_fields(ctx: Context) -> list[str]:
    """Labels of the persona's answers that are missing or too short to act on."""
    vague = {fold(w) for w in ctx.texts["vague_answers"]}
    thin = []
    for key in PERSONA_TEXT_FIELDS:
        f = ctx.field(key)
        text = f.text if f and f.known else ""
        words = re.findall(r"\w+", text)
        if len(words) < DETAILED_WORDS or fold(text).strip(" .!") in vague:
            thin.append(f.label if f else key)
    channels = persona_channels(ctx)
    if not channels:
        f = ctx.field("persona.channels")
        thin.append(f.label if f else "persona.channels")
    return thin


def other_customers(ctx: Context) -> list[str]:
    """Other kinds of customer the answers mention besides the persona's own kind (mistake 5)."""
    kinds = ctx.texts["customer_kinds"]
    persona_text = fold(" ".join(ctx.answer(k) for k in ("persona.name", "persona.role")))
    elsewhere = fold(
        " ".join(
            [ctx.answer(k) for k in ("persona.goals", "persona.behaviour", "journey.process", "persona.pains")]
            + [s.tp.name + " " + (s.tp.pain.text if s.tp.pain else "") for s in ctx.spots]
        )
    )
    mine = {kind for kind, entry in kinds.items() if _mentions(persona_text, entry["words"])}
    others = [str(entry["label"]) for kind, entry in kinds.items() if kind not in mine and _mentions(elsewhere, entry["words"])]
    if mine and others:
        return others
    if len(mine) > 1:  # "private and business customers" in the persona itself
        return [str(kinds[k]["label"]) for k in list(mine)[1:]]
    return []


def _mentions(text: str, words: list[str]) -> bool:
    return any(re.search(r"(?<!\w)" + re.escape(fold(w)), text) for w in words)


def _team_check(ctx: Context, check: Any) -> None:
    teams = {str(s.tp.team.value) for s in ctx.spots if s.tp.team.known and s.tp.team.value != "outside"}
    journey_team = ctx.field("journey.team")
    solo = teams == {"owner"} or (not teams and journey_team is not None and journey_team.known and journey_team.value == "owner")
    if solo:
        helpers = [s.tp.name for s in ctx.spots if s.classes and set(s.classes) & {"response", "booking", "payment", "digital", "follow_up"}]
        check(6, True, "solo", steps=", ".join(dict.fromkeys(helpers)) or ctx.t("mistakes.6_solo_none"))
        return
    labels = ", ".join(option_label(ctx.lang, "touchpoint.team", t) for t in sorted(teams)) or ctx.t("unknown")
    check(6, bool(teams & NOT_MARKETING), teams=labels)


def next_review(ctx: Context) -> date | None:
    return review_date(ctx.journey.answers, ctx.today)
