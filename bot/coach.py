"""The offline coach: deterministic advice from the stored answers, following the method in DOMAIN.md.

Every suggestion quotes the answer that triggered it, so two businesses never get
the same paragraphs. No network, no clock: the caller passes today's date.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import prompts
from bot.evidence import LIGHTS, evidence_items, field_level, gut_dominated
from bot.journey import JourneyView, StageView, TouchpointView
from bot.report import CalendarRow, Improvement, Level, MistakeCheck, Report, WowMoment
from bot.survey import compare
from bot.texts import option_label

REVIEW_AFTER_DAYS = 30
MAX_IMPROVEMENTS = 10
# Which touchpoint channels serve a channel the persona orients on.
PERSONA_TO_TOUCHPOINT = {
    "google": {"website", "ad"},
    "comparison": {"comparison_site"},
    "reviews": {"review_site"},
    "facebook": {"social", "ad"},
    "instagram": {"social", "ad"},
    "linkedin": {"social", "ad"},
    "youtube": {"social", "ad"},
    "tiktok": {"social", "ad"},
    "whatsapp": {"whatsapp"},
    "email": {"email"},
    "shop": {"shop", "in_person"},
}
# Paid or marketing channels that only make sense where the persona looks.
INVESTED = {
    "social": {"facebook", "instagram", "linkedin", "youtube", "tiktok"},
    "ad": {"google", "facebook", "instagram", "linkedin", "youtube", "tiktok"},
    "comparison_site": {"comparison"},
    "review_site": {"reviews"},
}
STAGE_TYPES = ("awareness", "consideration", "purchase", "delivery", "loyalty", "advocacy")
PERSONA_DETAIL = ("persona.role", "persona.goals", "persona.pains", "persona.behaviour", "persona.channels", "persona.trust", "persona.trigger")


@dataclass
class _Ranked:
    order: int
    item: Improvement


@dataclass
class Coach:
    journey: JourneyView
    today: date
    texts: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.texts = prompts.load(self.journey.lang, "coach")

    # -- small helpers ------------------------------------------------------
    def t(self, key: str, **values: Any) -> str:
        node: Any = self.texts
        for part in key.split("."):
            node = node[part]
        return str(node).format(**values)

    def quote(self, text: str, limit: int = 160) -> str:
        text = " ".join(text.split())
        if len(text) > limit:
            text = text[: limit - 1].rstrip() + "…"
        return self.t("quote", text=text)

    def answer(self, key: str) -> str:
        f = self.journey.fields.get(key)
        return f.text if f else ""

    @property
    def persona(self) -> str:
        return self.journey.persona_name or prompts.say(self.journey.lang, "messages", "fallback.persona")

    @property
    def business(self) -> str:
        return self.journey.business_name or prompts.say(self.journey.lang, "messages", "fallback.business")

    def scored(self) -> list[tuple[StageView, TouchpointView]]:
        return [(s, tp) for s, tp in self.journey.touchpoints() if tp.score is not None]

    def sector(self) -> str:
        f = self.journey.fields.get("business.sector")
        return str(f.value) if f and f.known else "other"

    def gesture(self) -> str:
        gestures = self.texts["gestures"]
        return str(gestures.get(self.sector(), gestures["other"]))

    def effort_for(self, tp: TouchpointView) -> Level:
        table = self.texts["effort_by_team"]
        team = str(tp.team.value) if tp.team.known else "default"
        return table.get(team, table["default"])

    def where(self, stage: StageView, tp: TouchpointView) -> str:
        return f"{stage.name} › {tp.name}"

    # -- the report -----------------------------------------------------------
    def report(self) -> Report:
        return Report(
            language=self.journey.lang,  # type: ignore[arg-type]
            summary=self.summary(),
            improvements=self.improvements(),
            wow_moments=self.wow_moments(),
            mistakes=self.mistakes(),
            calendar=self.calendar(),
            review_date=(self.today + timedelta(days=REVIEW_AFTER_DAYS)).isoformat(),
            missing=list(self.journey.missing),
            generator="coach",
        )

    def summary(self) -> list[str]:
        unknown = self.t("unknown")
        paragraphs = []
        if self.journey.business_name or self.journey.persona_name:
            paragraphs.append(
                self.t(
                    "summary.intro",
                    business=self.business,
                    sector=self.answer("business.sector") or unknown,
                    persona=self.persona,
                    role=self.answer("persona.role") or unknown,
                    process=self.answer("journey.process") or unknown,
                    goal=self.answer("journey.goal") or unknown,
                )
            )
        promise, sacrifice = self.answer("concept.promise"), self.answer("concept.sacrifice")
        if promise:
            key = "summary.promise_sacrifice" if sacrifice else "summary.promise"
            paragraphs.append(self.t(key, promise=self.quote(promise), sacrifice=self.quote(sacrifice) if sacrifice else ""))
        scored = self.scored()
        touchpoints = self.journey.touchpoints()
        if self.journey.stages:
            if scored:
                average = sum(tp.score for _, tp in scored) / len(scored)  # type: ignore[misc]
                paragraphs.append(
                    self.t("summary.shape", stages=len(self.journey.stages), touchpoints=len(touchpoints), average=f"{average:.1f}")
                )
                high_stage, high = max(scored, key=lambda p: p[1].score)  # type: ignore[arg-type,return-value]
                low_stage, low = min(scored, key=lambda p: p[1].score)  # type: ignore[arg-type,return-value]
                paragraphs.append(
                    self.t(
                        "summary.peaks",
                        high=high.name,
                        high_stage=high_stage.name,
                        high_score=high.score,
                        low=low.name,
                        low_stage=low_stage.name,
                        low_score=low.score,
                    )
                )
                last_stage, last = scored[-1]
                paragraphs.append(
                    self.t("summary.ending", last=last.name, last_stage=last_stage.name, last_score=last.score, persona=self.persona)
                )
            else:
                paragraphs.append(self.t("summary.no_scores"))
        sources = self.journey.fields.get("persona.source")
        if sources and sources.known:
            paragraphs.append(self.t("summary.evidence", sources=sources.text))
        lights = [f"{name} {LIGHTS[field_level(f)]}" for name, f in evidence_items(self.journey) if field_level(f) != "unknown"]
        if len(lights) > 1:
            paragraphs.append(self.t("summary.evidence_lights", lights=", ".join(lights)))
        if self.journey.missing:
            paragraphs.append(self.t("summary.missing", count=len(self.journey.missing)))
        return paragraphs

    def improvements(self) -> list[Improvement]:
        ranked: list[_Ranked] = []
        seen: set[str] = set()

        def add(order: int, key: str, title: str, why: str, step: str, trigger: str, effort: Level, impact: Level) -> None:
            if key in seen:
                return
            seen.add(key)
            ranked.append(_Ranked(order, Improvement(title=title, why=why, step=step, trigger=trigger, effort=effort, impact=impact)))

        scored = self.scored()
        # 0. a map resting mostly on gut feeling: check it with customers before acting on it
        gut = gut_dominated(self.journey)
        if gut:
            names = ", ".join(gut)
            add(
                0,
                "talk_to_customers",
                self.t("improvements.talk_to_customers.title", persona=self.persona),
                self.t("improvements.talk_to_customers.why", items=names),
                names,
                self.quote(", ".join(f"{name}: {LIGHTS['red']}" for name in gut)),
                "low",
                "high",
            )
        # 0b. customers feel worse than the owner thinks
        for check in compare(self.journey):
            if check.owner is not None and check.stage and check.customers <= check.owner - 0.75:
                add(
                    5,
                    f"customers:{check.stage}",
                    self.t("customers.title", stage=check.stage),
                    self.t("customers.why", stage=check.stage, owner=check.owner, customers=check.customers, responses=check.responses),
                    check.stage,
                    self.quote(f"{check.stage}: {check.owner}/5 → {check.customers}/5"),
                    "medium",
                    "high",
                )
        # 1. the lowest steps: one very low step outweighs many good ones
        for stage, tp in sorted(scored, key=lambda p: p[1].score)[:3]:  # type: ignore[arg-type,return-value]
            if tp.score is not None and tp.score <= 2:
                pain_note = self.t("improvements.lowest.pain_note", pain=self.quote(tp.pain.text)) if tp.pain else ""
                add(
                    10 + tp.score,
                    tp.feeling.key,
                    self.t("improvements.lowest.title", touchpoint=tp.name, stage=stage.name, score=tp.score),
                    self.t("improvements.lowest.why", pain_note=pain_note).strip(),
                    self.where(stage, tp),
                    self.quote(f"{tp.name}: {tp.score}/5" + (f" – {tp.pain.text}" if tp.pain else "")),
                    self.effort_for(tp),
                    "high",
                )
        # 2. the ending (peak-end rule) and a journey that stops after the purchase
        if scored:
            stage, tp = scored[-1]
            if tp.score is not None and tp.score < 4:
                add(
                    20,
                    tp.feeling.key,
                    self.t("improvements.ending.title", touchpoint=tp.name, stage=stage.name, score=tp.score),
                    self.t("improvements.ending.why", persona=self.persona, score=tp.score),
                    self.where(stage, tp),
                    self.quote(f"{tp.name}: {tp.score}/5"),
                    self.effort_for(tp),
                    "high",
                )
        with_touchpoints = [s for s in self.journey.stages if s.touchpoints]
        if len(self.journey.stages) >= 4 and with_touchpoints and with_touchpoints[-1].index <= len(self.journey.stages) - 2:
            last = with_touchpoints[-1]
            empty = [s.name for s in self.journey.stages if s.index > last.index]
            add(
                21,
                "no_follow_up",
                self.t("improvements.no_follow_up.title"),
                self.t("improvements.no_follow_up.why", last_stage=last.name, persona=self.persona),
                ", ".join(empty),
                self.quote(", ".join(empty) + ": –"),
                "low",
                "high",
            )
        # 3. feelings nobody knows
        unknown = [(s, tp) for s, tp in self.journey.touchpoints() if tp.feeling.status == "unknown"]
        if unknown:
            names = ", ".join(tp.name for _, tp in unknown[:6])
            add(
                25,
                "unknown_feelings",
                self.t("improvements.unknown_feelings.title", persona=self.persona, count=len(unknown)),
                self.t("improvements.unknown_feelings.why", touchpoints=names),
                names,
                self.quote(names),
                "low",
                "high",
            )
        # 4. the first impression
        if scored:
            stage, tp = scored[0]
            if tp.score is not None and tp.score <= 3:
                add(
                    30,
                    tp.feeling.key,
                    self.t("improvements.start.title", touchpoint=tp.name, stage=stage.name, score=tp.score),
                    self.t("improvements.start.why", score=tp.score),
                    self.where(stage, tp),
                    self.quote(f"{tp.name}: {tp.score}/5"),
                    self.effort_for(tp),
                    "medium",
                )
        # 5. dissatisfiers before delighters (Kano)
        delights = [s.delights.text for s in self.journey.stages if s.delights]
        lows = [(s, tp) for s, tp in scored if tp.score is not None and tp.score <= 2]
        if delights and lows:
            stage, tp = lows[0]
            add(
                35,
                "must_haves_first",
                self.t("improvements.must_haves_first.title"),
                self.t("improvements.must_haves_first.why", delight=self.quote(delights[0], 80), touchpoint=tp.name, score=tp.score),
                self.where(stage, tp),
                self.quote(delights[0], 80),
                "low",
                "high",
            )
        # 6. pains and waits
        wait_words = [w.lower() for w in self.texts["wait_words"]]
        for stage, tp in self.journey.touchpoints():
            if not tp.pain:
                continue
            lowered = tp.pain.text.lower()
            is_wait = bool(re.search(r"\d", lowered)) or any(w in lowered for w in wait_words)
            kind = "wait" if is_wait else "pain"
            add(
                40 + (tp.score or 3),
                f"pain:{tp.pain.key}",
                self.t(f"improvements.{kind}.title", touchpoint=tp.name, stage=stage.name),
                self.t(f"improvements.{kind}.why", pain=self.quote(tp.pain.text), persona=self.persona),
                self.where(stage, tp),
                self.quote(tp.pain.text),
                "medium" if is_wait else self.effort_for(tp),
                "medium",
            )
        # 7. channels: gaps and waste
        gaps, waste = self.channel_gaps()
        for channel_value in gaps:
            label = option_label(self.journey.lang, "persona.channels", channel_value)
            add(
                50,
                f"gap:{channel_value}",
                self.t("improvements.channel_gap.title", persona=self.persona, channel=label),
                self.t("improvements.channel_gap.why", persona=self.persona, channel=label),
                self.journey.fields["persona.channels"].label,
                self.quote(self.answer("persona.channels")),
                "medium",
                "medium",
            )
        for stage, tp in waste:
            label = tp.channel.text
            add(
                70,
                f"waste:{tp.channel.value}",
                self.t("improvements.channel_waste.title", channel=label),
                self.t("improvements.channel_waste.why", channel=label, touchpoint=tp.name, persona=self.persona),
                self.where(stage, tp),
                self.quote(f"{tp.name}: {label}"),
                "low",
                "low",
            )
        # 8. moments outside your hands, and moments nobody owns
        for stage, tp in self.journey.touchpoints():
            if tp.team.known and tp.team.value == "outside":
                add(
                    55,
                    f"outside:{tp.team.key}",
                    self.t("improvements.outside.title", touchpoint=tp.name, stage=stage.name),
                    self.t("improvements.outside.why", persona=self.persona),
                    self.where(stage, tp),
                    self.quote(f"{tp.name}: {tp.team.text}"),
                    "medium",
                    "medium",
                )
            elif tp.team.status == "unknown":
                add(
                    60,
                    f"owner:{tp.team.key}",
                    self.t("improvements.no_owner.title", touchpoint=tp.name, stage=stage.name),
                    self.t("improvements.no_owner.why"),
                    self.where(stage, tp),
                    self.quote(f"{tp.name}: {prompts.say(self.journey.lang, 'messages', 'unknown_answer')}"),
                    "low",
                    "medium",
                )
        # 9. the promise should be a peak
        promise = self.answer("concept.promise")
        if promise and scored:
            best = max(tp.score for _, tp in scored)  # type: ignore[type-var]
            if best is not None and best < 4:
                add(
                    80,
                    "no_peak",
                    self.t("improvements.no_peak.title"),
                    self.t("improvements.no_peak.why", promise=self.quote(promise, 100), best=best),
                    self.journey.fields["concept.promise"].label,
                    self.quote(promise),
                    "medium",
                    "medium",
                )
        ranked.sort(key=lambda r: r.order)
        return [r.item for r in ranked[:MAX_IMPROVEMENTS]]

    def persona_channels(self) -> list[str]:
        f = self.journey.fields.get("persona.channels")
        if not f or not f.known or not isinstance(f.value, list):
            return []
        return [str(v) for v in f.value]

    def channel_gaps(self) -> tuple[list[str], list[tuple[StageView, TouchpointView]]]:
        persona_channels = self.persona_channels()
        used = {str(tp.channel.value) for _, tp in self.journey.touchpoints() if tp.channel.known}
        if not persona_channels or not self.journey.touchpoints():
            return [], []
        gaps = [c for c in persona_channels if c in PERSONA_TO_TOUCHPOINT and not (PERSONA_TO_TOUCHPOINT[c] & used)]
        waste: list[tuple[StageView, TouchpointView]] = []
        flagged: set[str] = set()
        for stage, tp in self.journey.touchpoints():
            value = str(tp.channel.value) if tp.channel.known else ""
            if value in INVESTED and value not in flagged and not (INVESTED[value] & set(persona_channels)):
                waste.append((stage, tp))
                flagged.add(value)
        return gaps, waste

    def wow_moments(self) -> list[WowMoment]:
        ideas: list[WowMoment] = []
        touchpoints = self.journey.touchpoints()
        if not touchpoints:
            return ideas
        persona = self.persona
        trigger, trust, goal = self.answer("persona.trigger"), self.answer("persona.trust"), self.answer("persona.goals")
        first_stage, first = touchpoints[0]
        last_stage, last = touchpoints[-1]
        if trigger:
            ideas.append(
                WowMoment(
                    stage=first_stage.name,
                    idea=self.t("wow.first.idea", persona=persona, trigger=self.quote(trigger, 100)[1:-1], touchpoint=first.name, business=self.business),
                    why=self.t("wow.first.why", persona=persona),
                    cost=self.t("wow.first.cost"),
                    trigger=self.quote(trigger),
                )
            )
        painful = [(s, tp) for s, tp in self.scored() if tp.pain and tp.score is not None and tp.score <= 3]
        if painful:
            stage, tp = min(painful, key=lambda p: p[1].score)  # type: ignore[arg-type,return-value]
            ideas.append(
                WowMoment(
                    stage=stage.name,
                    idea=self.t("wow.pain_turnaround.idea", touchpoint=tp.name, persona=persona, pain=self.quote(tp.pain.text, 100)[1:-1], gesture=self.gesture()),
                    why=self.t("wow.pain_turnaround.why", persona=persona),
                    cost=self.t("wow.pain_turnaround.cost"),
                    trigger=self.quote(tp.pain.text),
                )
            )
        if trust:
            consideration = touchpoints[min(1, len(touchpoints) - 1)]
            stage, tp = consideration
            ideas.append(
                WowMoment(
                    stage=stage.name,
                    idea=self.t("wow.trust.idea", persona=persona, trust=self.quote(trust, 100)[1:-1], touchpoint=tp.name),
                    why=self.t("wow.trust.why", persona=persona),
                    cost=self.t("wow.trust.cost"),
                    trigger=self.quote(trust),
                )
            )
        if goal:
            ideas.append(
                WowMoment(
                    stage=last_stage.name,
                    idea=self.t("wow.ending.idea", touchpoint=last.name, gesture=self.gesture(), persona=persona, goal=self.quote(goal, 100)[1:-1]),
                    why=self.t("wow.ending.why", persona=persona),
                    cost=self.t("wow.ending.cost"),
                    trigger=self.quote(goal),
                )
            )
            ideas.append(
                WowMoment(
                    stage=last_stage.name,
                    idea=self.t("wow.goal_follow_up.idea", touchpoint=last.name, persona=persona, goal=self.quote(goal, 100)[1:-1]),
                    why=self.t("wow.goal_follow_up.why", persona=persona),
                    cost=self.t("wow.goal_follow_up.cost"),
                    trigger=self.quote(goal),
                )
            )
        return ideas

    def mistakes(self) -> list[MistakeCheck]:
        titles = self.texts["mistakes"]["titles"]
        sources_field = self.journey.fields.get("persona.source")
        sources = set(sources_field.value) if sources_field and sources_field.known and isinstance(sources_field.value, list) else set()
        checks: list[MistakeCheck] = []

        def check(number: int, ok: bool, **values: Any) -> None:
            note = self.t(f"mistakes.{number}_{'ok' if ok else 'bad'}", **values)
            checks.append(MistakeCheck(number=number, title=str(titles[number]), ok=ok, note=note))

        check(1, "interviews" in sources)
        check(2, "data" in sources)
        thin = [self.journey.fields[k].label for k in PERSONA_DETAIL if not self.journey.fields[k]]
        check(3, len(thin) <= 1, fields=", ".join(thin))
        gaps, _ = self.channel_gaps()
        gap_labels = ", ".join(option_label(self.journey.lang, "persona.channels", c) for c in gaps)
        check(4, not gaps and bool(self.persona_channels()), persona=self.persona, channels=gap_labels or self.t("unknown"))
        everyone = {w.lower() for w in self.texts["everyone_words"]}
        check(5, self.persona.strip().lower() not in everyone, persona=self.persona)
        teams = sorted({str(tp.team.value) for _, tp in self.journey.touchpoints() if tp.team.known and tp.team.value != "outside"})
        team_labels = ", ".join(option_label(self.journey.lang, "touchpoint.team", t) for t in teams) or self.t("unknown")
        check(6, bool(set(teams) - {"marketing", "sales"}), teams=team_labels)
        check(7, True, date=(self.today + timedelta(days=REVIEW_AFTER_DAYS)).isoformat())
        return checks

    def stage_type(self, stage: StageView) -> str:
        for lang in prompts.LANGUAGES:
            defaults = prompts.load(lang, "questions")["journey.stages"]["default"]
            for value, name in defaults.items():
                if str(name).strip().lower() == stage.name.strip().lower():
                    return str(value)
        count = len(self.journey.stages)
        if count <= 1:
            return STAGE_TYPES[0]
        return STAGE_TYPES[round((stage.index - 1) * (len(STAGE_TYPES) - 1) / (count - 1))]

    def calendar(self) -> list[CalendarRow]:
        rows: list[CalendarRow] = []
        trigger = self.answer("persona.trigger") or self.persona
        trust = self.answer("persona.trust") or self.t("unknown")
        for stage in self.journey.stages:
            channels: list[str] = []
            for tp in stage.touchpoints:
                if tp.channel.known and tp.channel.text not in channels:
                    channels.append(tp.channel.text)
            if not channels:
                continue
            kind = self.stage_type(stage)
            idea = self.t(f"calendar.{kind}", trigger=self.quote(trigger, 80)[1:-1], trust=self.quote(trust, 80), stage=stage.name, persona=self.persona)
            for channel in channels[:3]:
                rows.append(CalendarRow(stage=stage.name, channel=channel, idea=idea))
        return rows


def build_report(journey: JourneyView, today: date) -> Report:
    return Coach(journey, today).report()
