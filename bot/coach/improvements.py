"""The improvement cards: one card per problem step, ranked by impact, each with concrete remedies.

A step appears in at most one card. What is known about it (its score, the pain classes in the owner's
words, that it is the lowest point, the first impression or the ending, that a partner runs it) is merged
into that card. The lowest point and the ending come first (peak-end), problem steps before anything
about delighters (Kano), journey-wide findings after the steps.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.coach.channels import channel_gaps
from bot.coach.context import Context, Spot
from bot.coach.remedies import as_action, pick
from bot.evidence import LIGHTS, gut_dominated
from bot.report import Action, Improvement, Level
from bot.survey import compare
from bot.texts import option_label

MAX_IMPROVEMENTS = 10


@dataclass
class _Card:
    order: float
    item: Improvement


def improvements(ctx: Context) -> list[Improvement]:
    used: set[str] = set()  # remedies already given: each is advised once per report
    cards: list[_Card] = []
    cards += _evidence_cards(ctx)
    cards += _step_cards(ctx, used)
    cards += _journey_cards(ctx)
    cards.sort(key=lambda c: c.order)
    return [c.item for c in cards[:MAX_IMPROVEMENTS]]


# -- the steps ------------------------------------------------------------------------------------


def _roles(ctx: Context) -> dict[str, list[str]]:
    """Which steps are the lowest point, the first impression and the ending, by spot key."""
    roles: dict[str, list[str]] = {}
    scored = ctx.scored
    if not scored:
        return roles
    lowest = min(scored, key=lambda s: s.score)  # type: ignore[arg-type,return-value]
    if lowest.score is not None and lowest.score <= 2:
        roles.setdefault(lowest.key, []).append("lowest")
    last = scored[-1]
    if last.score is not None and last.score < 4:
        roles.setdefault(last.key, []).append("ending")
    first = scored[0]
    if first.score is not None and first.score <= 3 and first.key != last.key:
        roles.setdefault(first.key, []).append("first")
    return roles


def _order(spot: Spot, roles: list[str]) -> float:
    score = spot.score if spot.score is not None else 3
    if "lowest" in roles:
        return 10
    if "ending" in roles:
        return 11 + score / 10
    if score <= 2:
        return 20 + score
    if "first" in roles:
        return 30
    return 40 + score


def _step_cards(ctx: Context, used: set[str]) -> list[_Card]:
    roles_of = _roles(ctx)
    delights = [s.delights.text for s in ctx.journey.stages if s.delights]
    cards = []
    # the most important steps choose their remedies first: a remedy is advised once, where it matters most
    for spot in sorted(ctx.spots, key=lambda s: _order(s, roles_of.get(s.key, []))):
        roles = roles_of.get(spot.key, [])
        low = spot.score is not None and spot.score <= 2
        if not (roles or low or spot.classes or spot.tp.pain):
            continue
        if not roles and not low and not spot.classes:
            continue  # a named pain the coach cannot place, on a step that scores fine: nothing concrete to add
        chosen = pick(ctx, spot, used, 3 if roles else 2)
        actions = [as_action(ctx, r, spot) for r in chosen] or [_diagnose(ctx, "unplaced" if spot.tp.pain else "diagnose")]
        why = [ctx.t(f"step.role.{_role_key(role, spot)}", score=spot.score) for role in roles]
        if not roles:  # what the problem costs, or at least the score
            why.append(ctx.t(f"consequence.{spot.classes[0]}") if spot.classes else ctx.t("step.role.low", score=spot.score))
        if spot.handed_over:
            why.append(ctx.t("step.outside"))
        if len(spot.classes) > 1:  # the title names the main problem; say what else plays here
            why.append(ctx.t("step.classes", classes=_labels(ctx, spot.classes[1:])))
        elif not spot.tp.pain and (roles or low):
            why.append(ctx.t("step.no_pain"))
        if "lowest" in roles and delights:
            why.append(ctx.t("step.kano", delight=ctx.quote(delights[0], 80)))
        trigger = f"{spot.tp.name}: {spot.score}/5" if spot.score is not None else spot.tp.name
        if spot.tp.pain:
            trigger += f" – {spot.tp.pain.text}"
        cards.append(
            _Card(
                _order(spot, roles),
                Improvement(
                    title=_title(ctx, spot, roles),
                    why=" ".join(why),
                    step=_where(spot),
                    trigger=ctx.quote(trigger),
                    effort=actions[0].effort,
                    impact="high" if roles or low else "medium",
                    actions=actions,
                    touchpoint=_where(spot),
                ),
            )
        )
    return cards


WHEN = {"awareness": "before", "consideration": "before", "purchase": "purchase", "delivery": "after", "loyalty": "end", "advocacy": "end"}


def _role_key(role: str, spot: Spot) -> str:
    """What a low point means depends on where it falls: before the sale it costs customers, after it costs stories."""
    return f"lowest.{WHEN[spot.kind]}" if role == "lowest" else role


def _title(ctx: Context, spot: Spot, roles: list[str]) -> str:
    values = dict(touchpoint=spot.tp.name, stage=spot.stage.name, score=spot.score)
    if spot.classes:
        return ctx.t(f"titles.{spot.classes[0]}", **values)
    role = roles[0] if roles else "low"
    return ctx.t(f"titles.{role}", **values)


def _labels(ctx: Context, classes: tuple[str, ...]) -> str:
    names = [ctx.t(f"classes.{c}") for c in classes]
    return names[0] if len(names) == 1 else ctx.t("and_list", items=", ".join(names[:-1]), last=names[-1])


def _where(spot: Spot) -> str:
    return f"{spot.stage.name} › {spot.tp.name}"


def _diagnose(ctx: Context, key: str) -> Action:
    """The first move where the coach knows no remedy: find the cause (no pain named) or the smallest fix (a pain it cannot place)."""
    return Action(do=ctx.t(f"step.{key}.do"), why=ctx.t(f"step.{key}.why"), effort="low", cost=ctx.t(f"step.{key}.cost"))


# -- evidence -------------------------------------------------------------------------------------


def _evidence_cards(ctx: Context) -> list[_Card]:
    cards = []
    gut = gut_dominated(ctx.journey)
    if gut:
        names = ", ".join(gut)
        trigger = ", ".join(f"{name}: {LIGHTS['red']}" for name in gut)
        cards.append(_finding(ctx, 0, "talk_to_customers", step=names, trigger=trigger, impact="high", items=names))
    for check in compare(ctx.journey):
        if check.owner is not None and check.stage and check.customers <= check.owner - 0.75:
            cards.append(
                _Card(
                    -1 - (check.owner - check.customers) / 10,  # the customers' own verdict comes first, the widest gap first
                    Improvement(
                        title=ctx.t("customers.title", stage=check.stage),
                        why=ctx.t("customers.why", stage=check.stage, owner=check.owner, customers=check.customers, responses=check.responses),
                        step=check.stage,
                        trigger=ctx.quote(f"{check.stage}: {check.owner}/5 → {check.customers}/5"),
                        effort="medium",
                        impact="high",
                    ),
                )
            )
    return cards


def _finding(
    ctx: Context,
    order: float,
    key: str,
    *,
    step: str,
    trigger: str,
    impact: Level,
    effort: Level = "low",
    actions: list[Action] | None = None,
    title: str = "title",
    **values: object,
) -> _Card:
    """A journey-wide finding: its title, why and first step from coach.yaml `journey.<key>`, filled with `values`."""
    texts = f"journey.{key}"
    return _Card(
        order,
        Improvement(
            title=ctx.t(f"{texts}.{title}", **values),
            why=ctx.t(f"{texts}.why", **values),
            step=step,
            trigger=ctx.quote(trigger),
            effort=effort,
            impact=impact,
            actions=actions if actions is not None else [_action(ctx, texts, **values)],
        ),
    )


def _action(ctx: Context, key: str, **values: object) -> Action:
    """A journey-wide finding's first step, from coach.yaml: each is quick to start."""
    return Action(do=ctx.t(f"{key}.do", **values), effort="low", cost=ctx.t(f"{key}.cost"))


# -- the journey as a whole -------------------------------------------------------------------------


def _journey_cards(ctx: Context) -> list[_Card]:
    cards: list[_Card] = []
    journey = ctx.journey
    with_touchpoints = [s for s in journey.stages if s.touchpoints]
    if len(journey.stages) >= 4 and with_touchpoints and with_touchpoints[-1].index <= len(journey.stages) - 2:
        last = with_touchpoints[-1]
        empty = ", ".join(s.name for s in journey.stages if s.index > last.index)
        cards.append(_finding(ctx, 21, "no_follow_up", step=empty, trigger=empty + ": –", impact="high", last_stage=last.name))
    unknown = [s for s in ctx.spots if s.tp.feeling.status == "unknown"]
    if unknown:
        names = ", ".join(s.tp.name for s in unknown[:6])
        cards.append(_finding(ctx, 25, "unknown_feelings", step=names, trigger=names, impact="high", count=len(unknown), touchpoints=names))
    gaps, waste = channel_gaps(ctx)
    if gaps:
        labels = ", ".join(option_label(ctx.lang, "persona.channels", c) for c in gaps)
        moves = ctx.texts["channel_moves"]
        cost = ctx.t("journey.channel_gap.cost")
        actions = [Action(do=str(moves[c]).format(persona=ctx.persona), effort="medium", cost=cost) for c in gaps if c in moves]
        step = journey.fields["persona.channels"].label
        cards.append(
            _finding(ctx, 50, "channel_gap", step=step, trigger=ctx.answer("persona.channels"), impact="medium", effort="medium", actions=actions, channels=labels)
        )
    if waste:
        labels = ", ".join(dict.fromkeys(s.tp.channel.text for s in waste))
        steps = ", ".join(s.tp.name for s in waste)
        trigger = ", ".join(f"{s.tp.name}: {s.tp.channel.text}" for s in waste)
        cards.append(_finding(ctx, 70, "channel_waste", step=steps, trigger=trigger, impact="low", channels=labels, touchpoints=steps))
    ownerless = [s for s in ctx.spots if s.tp.team.status == "unknown"]
    if ownerless:
        names = ", ".join(s.tp.name for s in ownerless[:6])
        title = "title" if len(ownerless) > 1 else "title_one"
        cards.append(
            _finding(ctx, 60, "no_owner", step=names, trigger=names, impact="medium", title=title, count=len(ownerless), touchpoint=ownerless[0].tp.name, touchpoints=names)
        )
    promise = ctx.answer("concept.promise")
    if promise and ctx.scored:
        best = max(s.score for s in ctx.scored if s.score is not None)
        if best < 4:
            step = journey.fields["concept.promise"].label
            cards.append(
                _finding(ctx, 80, "no_peak", step=step, trigger=promise, impact="medium", effort="medium", promise=ctx.quote(promise, 100), best=best)
            )
    return cards
