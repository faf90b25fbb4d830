"""The journey told back in a few paragraphs: who, what for, the shape of the curve, the evidence."""
from __future__ import annotations

from bot.coach.context import Context
from bot.evidence import LIGHTS, evidence_items, field_level


def summary(ctx: Context) -> list[str]:
    journey = ctx.journey
    paragraphs = []
    if journey.business_name or journey.persona_name:
        role, process, goal = ctx.answer("persona.role"), ctx.answer("journey.process"), ctx.answer("journey.goal")
        paragraphs.append(ctx.t("summary.intro", business=ctx.business, persona=ctx.persona))
        details = [ctx.t(f"summary.{key}", value=value) for key, value in (("role", role), ("process", process), ("goal", goal)) if value]
        if details:
            paragraphs[-1] += " " + " ".join(details)
    promise, sacrifice = ctx.answer("concept.promise"), ctx.answer("concept.sacrifice")
    if promise:
        key = "summary.promise_sacrifice" if sacrifice else "summary.promise"
        paragraphs.append(ctx.t(key, promise=ctx.quote(promise), sacrifice=ctx.quote(sacrifice) if sacrifice else ""))
    scored = ctx.scored
    if journey.stages:
        if scored:
            average = sum(s.score for s in scored if s.score is not None) / len(scored)
            paragraphs.append(ctx.t("summary.shape", stages=len(journey.stages), touchpoints=len(ctx.spots), average=_number(ctx, average)))
            high = max(scored, key=lambda s: s.score)  # type: ignore[arg-type,return-value]
            low = min(scored, key=lambda s: s.score)  # type: ignore[arg-type,return-value]
            if high.score != low.score:
                paragraphs.append(
                    ctx.t(
                        "summary.peaks",
                        high=high.tp.name,
                        high_stage=high.stage.name,
                        high_score=high.score,
                        low=low.tp.name,
                        low_stage=low.stage.name,
                        low_score=low.score,
                    )
                )
            last = scored[-1]
            paragraphs.append(ctx.t("summary.ending", last=last.tp.name, last_stage=last.stage.name, last_score=last.score, persona=ctx.persona))
        else:
            paragraphs.append(ctx.t("summary.no_scores"))
    sources = journey.fields.get("persona.source")
    if sources and sources.known:
        paragraphs.append(ctx.t("summary.evidence", sources=sources.text.lower() if ctx.lang == "nl" else sources.text))
    lights = [f"{name} {LIGHTS[field_level(f)]}" for name, f in evidence_items(journey) if field_level(f) != "unknown"]
    if len(lights) > 1:
        paragraphs.append(ctx.t("summary.evidence_lights", lights=", ".join(lights)))
    if journey.missing:
        paragraphs.append(ctx.t("summary.missing", count=len(journey.missing)))
    return paragraphs


def _number(ctx: Context, value: float) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if ctx.lang == "nl" else text
