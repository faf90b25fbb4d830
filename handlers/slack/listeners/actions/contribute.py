"""Team contributions in a shared channel: pick a journey, a stage, a touchpoint, a score (1..5).

A small flow of its own, separate from the interview: every step is an ephemeral message
(only the teammate sees it) with buttons; every tap is checked again (same workspace,
journey still shared into this channel, teammate still a member of it). The rules and the
records live in the application layer (`Journeys.team`); this module only shows them.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from app import OwnerKey, ShareDenied
from app.team import ShareRecord
from bot import team as rules
from bot import texts
from bot.journey import StageView
from handlers.slack import render
from handlers.slack.core import Respond, SlackJourneys

log = logging.getLogger(__name__)
ACTION = render.CONTRIB_ACTION


def _value(**fields: Any) -> str:
    return render.contrib_value(**fields)


async def _show(respond: Respond, text: str, buttons: list[render.Block | None], *, replace: bool) -> None:
    blocks = render.sections(text) + render.actions(buttons)
    await respond(text=render.fallback(text), blocks=blocks[: render.MAX_BLOCKS], response_type="ephemeral", replace_original=replace)


async def _authorized(
    journeys: SlackJourneys, client: AsyncWebClient, owner: OwnerKey, share_id: int, channel: str, respond: Respond
) -> ShareRecord | None:
    """The share when this person may contribute to it from this channel; tells them otherwise."""
    try:
        share = await asyncio.to_thread(journeys.app.team.authorize, owner, share_id, channel)
    except ShareDenied:
        await journeys.tell(client, owner, channel, "contribute.denied", respond)
        return None
    if not await journeys.is_member(client, share.channel_id, owner.user_id):
        await journeys.tell(client, owner, channel, "contribute.not_member", respond)
        return None
    return share


team_of = rules.team_of  # the team a teammate names, in either language


async def show_journeys(
    journeys: SlackJourneys, client: AsyncWebClient, owner: OwnerKey, channel: str, respond: Respond, arg: str = ""
) -> None:
    """`/journey contribute [team]` in a channel: the journeys shared here (or straight to the stages
    of the only one); with a team, only the stages that have a step that team owns."""
    team = rules.team_of(arg)
    shares = await asyncio.to_thread(journeys.app.team.shares_in, owner, channel)
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
    share: ShareRecord,
    lang: str,
    respond: Respond,
    *,
    replace: bool,
    team: str | None = None,
) -> None:
    view, stages, narrowed = await asyncio.to_thread(journeys.app.team.stages_for, share, team)
    title = render.escape(share.title)
    if not view.stages:
        await journeys.tell(client, owner, share.channel_id, "contribute.no_stages", respond, title=title)
        return
    text = render.t(lang, "contribute.pick_stage", title=title)
    if team:
        label = render.escape(texts.option_label(lang, "touchpoint.team", team))
        key = "contribute.pick_team_stage" if narrowed else "contribute.no_team_stages"
        text = render.t(lang, key, title=title, team=label)
    buttons = [
        render.button(f"{stage.index}. {stage.name}", f"{ACTION}.s.{i}", _value(a="s", sh=share.id, st=stage.slug))
        for i, stage in enumerate(stages)
    ]
    await _show(respond, text, buttons, replace=replace)


async def show_touchpoints(
    journeys: SlackJourneys, client: AsyncWebClient, owner: OwnerKey, share: ShareRecord, slug: str, lang: str, respond: Respond
) -> None:
    view = await asyncio.to_thread(journeys.app.team.view, share)
    stage = rules.stage_of(view, slug)
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


def score_buttons(lang: str, share: ShareRecord, slug: str, touchpoint: str) -> list[render.Block | None]:
    return [
        render.button(texts.option_label(lang, "touchpoint.feeling", v), f"{ACTION}.n.{i}", _value(a="n", sh=share.id, st=slug, tp=touchpoint, n=int(v)))
        for i, v in enumerate(rules.scores())
    ]


async def show_score(respond: Respond, lang: str, share: ShareRecord, stage: StageView, touchpoint: str, *, replace: bool, key: str = "contribute.score") -> None:
    text = render.t(lang, key, stage=render.escape(stage.name), touchpoint=render.escape(touchpoint))
    await _show(respond, text, score_buttons(lang, share, stage.slug, touchpoint), replace=replace)


async def record_score(
    journeys: SlackJourneys,
    client: AsyncWebClient,
    owner: OwnerKey,
    share: ShareRecord,
    slug: str,
    touchpoint: str,
    score: int,
    lang: str,
    respond: Respond,
    dedup_key: str,
) -> None:
    done = await asyncio.to_thread(journeys.app.team.score, owner, share, slug, touchpoint, score, dedup_key=dedup_key)
    if done is None:
        await journeys.tell(client, owner, share.channel_id, "contribute.stale", respond)
        return
    text = render.t(lang, "contribute.scored", touchpoint=render.escape(done.touchpoint), stage=render.escape(done.stage.name), score=score)
    await respond(text=render.fallback(text), blocks=render.sections(text), response_type="ephemeral", replace_original=True)


async def add_touchpoint(journeys: SlackJourneys, client: AsyncWebClient, owner: OwnerKey, channel: str, arg: str, respond: Respond) -> None:
    """`/journey add N name`: a teammate adds a touchpoint to stage N of the journey shared here."""
    parsed = rules.parse_add(arg)
    if parsed is None:
        await journeys.tell(client, owner, channel, "contribute.add_usage", respond)
        return
    number, name = parsed
    shares = await asyncio.to_thread(journeys.app.team.shares_in, owner, channel)
    if not shares:
        await journeys.tell(client, owner, channel, "contribute.none", respond)
        return
    share = await _authorized(journeys, client, owner, shares[-1].id, channel, respond)
    if share is None:
        return
    lang = await journeys.lang(owner, client)
    done = await asyncio.to_thread(journeys.app.team.add_touchpoint, owner, share, number, name)
    if done is None:
        await journeys.tell(client, owner, channel, "contribute.bad_stage", respond, number=number, title=render.escape(share.title))
        return
    await show_score(respond, lang, share, done.stage, done.touchpoint, replace=False, key="contribute.added")


def register(app: AsyncApp, journeys: SlackJourneys) -> None:
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
        await show_stages(journeys, client, owner, share, lang, respond, replace=True, team=rules.team_of(str(value.get("tm", ""))))
    elif kind == "s":
        await show_touchpoints(journeys, client, owner, share, str(value.get("st", "")), lang, respond)
    elif kind == "t":
        view = await asyncio.to_thread(journeys.app.team.view, share)
        stage = rules.stage_of(view, str(value.get("st", "")))
        if stage is None:
            await journeys.tell(client, owner, channel, "contribute.stale", respond)
            return
        await show_score(respond, lang, share, stage, str(value.get("tp", "")), replace=True)
    elif kind == "n":
        dedup = f"slack:contrib:{owner.workspace}:{owner.user_id}:{action.get('action_ts', '')}"
        try:
            score = int(value.get("n", 0))
        except (TypeError, ValueError):
            score = 0
        await record_score(journeys, client, owner, share, str(value.get("st", "")), str(value.get("tp", "")), score, lang, respond, dedup)
    else:
        await journeys.tell(client, owner, channel, "contribute.stale", respond)
