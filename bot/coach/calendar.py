"""A dated content plan for the next eight weeks: one piece a week, on the channels the persona uses, in
a format that fits each channel, about what the persona is triggered by, trusts, worries about and wants."""
from __future__ import annotations

from datetime import date, timedelta

from babel.dates import format_date

from bot.coach.channels import persona_channels
from bot.coach.context import Context
from bot.coach.money import LOCALES
from bot.coach.stage_kinds import stage_kind
from bot.knowledge import STAGE_KINDS
from bot.report import CalendarRow
from bot.texts import option_label

WEEKS = 8
# The persona's answer each topic builds on, and the kind of stage that content serves.
TOPICS = (
    ("trigger", "persona.trigger", "awareness"),
    ("pains", "persona.pains", "consideration"),
    ("trust", "persona.trust", "consideration"),
    ("promise", "concept.promise", "consideration"),
    ("fix", "", "purchase"),
    ("goal", "persona.goals", "delivery"),
    ("delights", "", "advocacy"),
    ("next_time", "persona.trigger", "loyalty"),
)
TOUCHPOINT_TO_PERSONA = {"social": "instagram", "website": "google", "email": "email", "whatsapp": "whatsapp", "review_site": "reviews"}


def first_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def content_channels(ctx: Context) -> list[str]:
    formats = ctx.texts["calendar"]["formats"]
    channels = [c for c in persona_channels(ctx) if c in formats]
    if not channels:  # the persona's channels are unknown or not for content: use the journey's own
        used = [TOUCHPOINT_TO_PERSONA.get(str(s.tp.channel.value)) for s in ctx.spots if s.tp.channel.known]
        channels = [c for c in dict.fromkeys(used) if c and c in formats]
    return channels or ["email"]


def calendar(ctx: Context, fix: str = "", fix_stage: str = "") -> list[CalendarRow]:
    texts = ctx.texts["calendar"]
    delights = [s.delights.text for s in ctx.journey.stages if s.delights] or [ctx.answer("journey.delights")]
    topics = []
    for name, key, kind in TOPICS:
        source = fix if name == "fix" else (delights[0] if name == "delights" else ctx.answer(key))
        if source:
            topics.append((name, source, kind))
    if not topics:
        return []
    channels = content_channels(ctx)
    kinds = [(STAGE_KINDS.index(stage_kind(s, ctx.journey.stages)), s.name) for s in ctx.journey.stages]
    # the stage each kind of content serves: of that kind, or the nearest kind in the journey
    stages = {kind: min(kinds, key=lambda k: abs(k[0] - n))[1] for n, kind in enumerate(STAGE_KINDS)} if kinds else {}
    monday = first_monday(ctx.today)
    rows = []
    for week in range(WEEKS):
        name, source, kind = topics[week % len(topics)]
        channel = channels[week % len(channels)]
        formats = texts["formats"][channel]
        fmt = str(formats[(week // len(channels)) % len(formats)])
        idea = str(texts["topics"][name]).format(format=fmt, quote=ctx.quote(source, 90), persona=ctx.persona, business=ctx.business)
        rows.append(
            CalendarRow(
                stage=fix_stage if name == "fix" and fix_stage else stages.get(kind, ctx.t(f"kinds.{kind}")),
                channel=option_label(ctx.lang, "persona.channels", channel),
                idea=idea,
                when=format_date(monday + timedelta(weeks=week), "d MMM", locale=LOCALES.get(ctx.lang, "en_GB")),
            )
        )
    return rows
