"""Team contributions in a shared channel: pick a journey, a stage, a touchpoint, a score (1..5).

A small flow of its own, separate from the interview: every step is an ephemeral message
(only the teammate sees it) with buttons; every tap is checked again (same workspace,
journey still shared into this channel, teammate still a member of it).
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

import prompts
from bot import texts
from bot.flow import SCALE
from bot.journey import JourneyView, StageView
from bot.replies import Option
from handlers.service import OwnerKey
from handlers.slack import render
from handlers.slack.core import PLATFORM, Respond, SlackJourneys
from store.sharing import ShareDenied, ShareInfo

log = logging.getLogger(__name__)
ACTION = render.CONTRIB_ACTION


def _value(**fields: Any) -> str:
    return render.contrib_value(**fields)


async def _show(respond: Respond, text: str, buttons: list[render.Block | None], *, replace: bool) -> None:
    blocks = render.sections(text) + render.actions(buttons)
    await respond(text=render.fallback(text), blocks=blocks[: render.MAX_BLOCKS], response_type="ephemeral", replace_original=replace)


async def _authorized(
    journeys: SlackJourneys, client: AsyncWebClient, owner: OwnerKey, share_id: int, channel: str, respond: Respond
) -> ShareInfo | None:
    """The share when this person may contribute to it from this channel; tells them otherwise."""
    try:
        share = await asyncio.to_thread(journeys.sharing.authorize, share_id, PLATFORM, owner.workspace, channel)
    except ShareDenied:
        await journeys.tell(client, owner, channel, "contribute.denied", respond)
        return None
    if not await journeys.is_member(client, share.channel_id, owner.user_id):
        await journeys.tell(client, owner, channel, "contribute.not_member", respond)
        return None
    return share


def team_of(word: str) -> str | None:
    """The team option a teammate names (`sales`, `Verkoop`, `klantenservice`...), in either language."""
    folded = word.strip().casefold()
    if not folded:
        return None
    for lang in prompts.LANGUAGES:
        for value, label in texts.questions(lang)["touchpoint.team"]["options"].items():
            if folded in (str(value).casefold(), str(label).casefold()):
                return str(value)
    return None


async def show_journeys(
    journeys: SlackJourneys, client: AsyncWebClient, owner: OwnerKey, channel: str, respond: Respond, arg: str = ""
) -> None:
    """`/journey contribute [team]` in a channel: the journeys shared here (or straight to the stages
    of the only one); with a team, only the stages that have a step that team owns."""
    team = team_of(arg)
    shares = await asyncio.to_thread(journeys.sharing.shares_in, PLATFORM, owner.workspace, channel)
    if not shares:
        await journeys.tell(client, owner, channel, "contribute.none", respond)
        return
    if not await journeys.is_member(client, channel, owner.user_id):
        await journeys.tell(client, owner, channel, "contribute.not_member", respond)
        return
    lang = await journeys.lang(owner, client)
    if len(shares) == 1:
        await show_stages(journeys, client, owner, shares[0], lang, respond, replace=False, team=team)
        return
    buttons = [render.button(s.title, f"{ACTION}.j.{i}", _value(a="j", sh=s.id, tm=team or "")) for i, s in enumerate(shares)]
    await _show(respond, render.t(lang, "contribute.pick_journey"), buttons, replace=False)


async def show_stages(
    journeys: SlackJourneys,
    client: AsyncWebClient,
    owner: OwnerKey,
    share: ShareInfo,
    lang: str,
    respond: Respond,
    *,
    replace: bool,
    team: str | None = None,
) -> None:
    view = await asyncio.to_thread(journeys.sharing.journey_view, share)
    title = render.escape(share.title)
    if not view.stages:
        await journeys.tell(client, owner, share.channel_id, "contribute.no_stages", respond, title=title)
        return
    stages = view.stages
    text = render.t(lang, "contribute.pick_stage", title=title)
    if team:
        owned = [s for s in view.stages if any(tp.team.known and tp.team.value == team for tp in s.touchpoints)]
        label = render.escape(texts.option_label(lang, "touchpoint.team", team))
        if owned:
            stages, text = owned, render.t(lang, "contribute.pick_team_stage", title=title, team=label)
        else:
            text = render.t(lang, "contribute.no_team_stages", title=title, team=label)
    buttons = [
        render.button(f"{stage.index}. {stage.name}", f"{ACTION}.s.{i}", _value(a="s", sh=share.id, st=stage.slug))
        for i, stage in enumerate(stages)
    ]
    await _show(respond, text, buttons, replace=replace)


def _stage(view: JourneyView, slug: str) -> StageView | None:
    return next((s for s in view.stages if s.slug == slug), None)


async def show_touchpoints(
    journeys: SlackJourneys, client: AsyncWebClient, owner: OwnerKey, share: ShareInfo, slug: str, lang: str, respond: Respond
) -> None:
    view = await asyncio.to_thread(journeys.sharing.journey_view, share)
    stage = _stage(view, slug)
    if stage is None:
        await journeys.tell(client, owner, share.channel_id, "contribute.stale", respond)
        return
    buttons = [
        render.button(
            render.t(lang, "contribute.touchpoint_button", touchpoint=tp.name, team=tp.team.text or render.t(lang, "contribute.no_team")),
            f"{ACTION}.t.{i}",
            _value(a="t", sh=share.id, st=slug, tp=tp.name),
        )
        for i, tp in enumerate(stage.touchpoints)
    ]
    text = render.t(lang, "contribute.pick_touchpoint", stage=render.escape(stage.name), stage_number=stage.index)
    await _show(respond, text, buttons, replace=True)


def score_buttons(lang: str, share: ShareInfo, slug: str, touchpoint: str) -> list[render.Block | None]:
    options = [Option(v, texts.option_label(lang, "touchpoint.feeling", v)) for v in SCALE]
    return [
        render.button(o.label, f"{ACTION}.n.{i}", _value(a="n", sh=share.id, st=slug, tp=touchpoint, n=int(o.value)))
        for i, o in enumerate(options)
    ]


async def show_score(respond: Respond, lang: str, share: ShareInfo, stage: StageView, touchpoint: str, *, replace: bool, key: str = "contribute.score") -> None:
    text = render.t(lang, key, stage=render.escape(stage.name), touchpoint=render.escape(touchpoint))
    await _show(respond, text, score_buttons(lang, share, stage.slug, touchpoint), replace=replace)


async def record_score(
    journeys: SlackJourneys,
    client: AsyncWebClient,
    owner: OwnerKey,
    share: ShareInfo,
    slug: str,
    touchpoint: str,
    score: int,
    lang: str,
    respond: Respond,
    dedup_key: str,
) -> None:
    view = await asyncio.to_thread(journeys.sharing.journey_view, share)
    stage = _stage(view, slug)
    if stage is None or not 1 <= score <= 5:
        await journeys.tell(client, owner, share.channel_id, "contribute.stale", respond)
        return
    existing = any(tp.name.casefold() == touchpoint.casefold() for tp in stage.touchpoints)
    await asyncio.to_thread(
        journeys.sharing.contribute,
        share,
        owner.user_id,
        stage_slug=slug,
        stage_name=stage.name,
        touchpoint=touchpoint,
        score=score,
        added=not existing,
        dedup_key=dedup_key,
    )
    text = render.t(lang, "contribute.scored", touchpoint=render.escape(touchpoint), stage=render.escape(stage.name), score=score)
    await respond(text=render.fallback(text), blocks=render.sections(text), response_type="ephemeral", replace_original=True)


async def add_touchpoint(journeys: SlackJourneys, client: AsyncWebClient, owner: OwnerKey, channel: str, arg: str, respond: Respond) -> None:
    """`/journey add N name`: a teammate adds a touchpoint to stage N of the journey shared here."""
    number, _, name = arg.strip().partition(" ")
    name = name.strip()
    if not number.isdigit() or not name:
        await journeys.tell(client, owner, channel, "contribute.add_usage", respond)
        return
    shares = await asyncio.to_thread(journeys.sharing.shares_in, PLATFORM, owner.workspace, channel)
    if not shares:
        await journeys.tell(client, owner, channel, "contribute.none", respond)
        return
    share = await _authorized(journeys, client, owner, shares[-1].id, channel, respond)
    if share is None:
        return
    lang = await journeys.lang(owner, client)
    view = await asyncio.to_thread(journeys.sharing.journey_view, share)
    index = int(number)
    if not 1 <= index <= len(view.stages):
        await journeys.tell(client, owner, channel, "contribute.bad_stage", respond, number=index, title=render.escape(share.title))
        return
    stage = view.stages[index - 1]
    name = name[:200]
    existing = any(tp.name.casefold() == name.casefold() for tp in stage.touchpoints)
    await asyncio.to_thread(
        journeys.sharing.contribute, share, owner.user_id, stage_slug=stage.slug, stage_name=stage.name, touchpoint=name, added=not existing
    )
    await show_score(respond, lang, share, stage, name, replace=False, key="contribute.added")


def register(app: AsyncApp, journeys: SlackJourneys) -> None:
    import re

    @app.action(re.compile(rf"^{re.escape(ACTION)}\."))
    async def contribution_tap(ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, respond: Respond) -> None:
        await ack()
        team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id", "")
        owner = journeys.owner(team, body["user"]["id"])
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")
        journeys.spawn_for(owner, journeys.guarded(client, owner, channel, _tap(journeys, client, owner, channel, action, respond), respond))


async def _tap(journeys: SlackJourneys, client: AsyncWebClient, owner: OwnerKey, channel: str, action: dict[str, Any], respond: Respond) -> None:
    try:
        value = json.loads(action.get("value") or "{}")
        share_id = int(value["sh"])
    except (ValueError, KeyError, TypeError):
        await journeys.tell(client, owner, channel, "contribute.stale", respond)
        return
    share = await _authorized(journeys, client, owner, share_id, channel, respond)
    if share is None:
        return
    lang = await journeys.lang(owner, client)
    kind = value.get("a")
    if kind == "j":
        await show_stages(journeys, client, owner, share, lang, respond, replace=True, team=team_of(str(value.get("tm", ""))))
    elif kind == "s":
        await show_touchpoints(journeys, client, owner, share, str(value.get("st", "")), lang, respond)
    elif kind == "t":
        view = await asyncio.to_thread(journeys.sharing.journey_view, share)
        stage = _stage(view, str(value.get("st", "")))
        if stage is None:
            await journeys.tell(client, owner, channel, "contribute.stale", respond)
            return
        await show_score(respond, lang, share, stage, str(value.get("tp", "")), replace=True)
    elif kind == "n":
        dedup = f"slack:contrib:{owner.workspace}:{owner.user_id}:{action.get('action_ts', '')}"
        await record_score(journeys, client, owner, share, str(value.get("st", "")), str(value.get("tp", "")), int(value.get("n", 0)), lang, respond, dedup)
    else:
        await journeys.tell(client, owner, channel, "contribute.stale", respond)
