"""The facade every adapter uses: one call per owner event, plus summaries, exports and charts.

Adapters translate platform payloads into `bot.events` and render `bot.replies`;
everything in between (engine, store, writer) happens here.
"""
from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from datetime import date
from typing import Callable, Mapping

import prompts
from bot.events import Event
from bot.export import filename_for, render_markdown
from bot.journey import JourneyView
from bot.replies import Reply
from bot.report import Report, TeamScore
from bot.survey import compare
from bot.versions import changes
from bot.writer import CoachWriter, SummaryWriter
from store.repository import JourneyNotFound, OwnerKey, Repository, StoreUnavailable

__all__ = ["ExportFile", "JourneyService", "OwnerKey", "JourneyNotFound", "StoreUnavailable"]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportFile:
    filename: str
    markdown: str

    @property
    def data(self) -> bytes:
        return self.markdown.encode("utf-8")


def writer_from_env(env: Mapping[str, str], today: Callable[[], date]) -> SummaryWriter:
    """The LLM writer when it is configured and switched on, the offline coach otherwise."""
    if env.get("JOURNEYBOT_LLM", "").strip().lower() in ("off", "0", "false", "no"):
        return CoachWriter(today)
    if not (env.get("OPENAI_API_KEY") or env.get("OPENAI_BASE_URL")):
        return CoachWriter(today)
    try:
        from bot.llm_writer import writer_from_env as llm_writer_from_env
    except ImportError:
        return CoachWriter(today)
    return llm_writer_from_env(env, today=today) or CoachWriter(today)


class JourneyService:
    def __init__(self, repo: Repository, writer: SummaryWriter | None = None, today: Callable[[], date] = date.today) -> None:
        self.repo = repo
        self.today = today
        self.coach = CoachWriter(today)
        self.writer: SummaryWriter = writer or self.coach

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, pool_size: int = 5) -> "JourneyService":
        env = os.environ if env is None else env
        from store.db import database_url

        repo = Repository.open(database_url(env), pool_size=pool_size)
        return cls(repo, writer_from_env(env, date.today))

    def close(self) -> None:
        self.repo.close()

    # -- the conversation -------------------------------------------------------
    def handle(self, owner: OwnerKey, event: Event, *, dedup_key: str | None = None, lang_hint: str | None = None) -> list[Reply]:
        try:
            return self.repo.handle(owner, event, dedup_key=dedup_key, lang_hint=lang_hint)
        except StoreUnavailable as exc:
            log.warning("store unavailable for %s event: %s", owner.channel, exc)
            lang = prompts.normalise_language(lang_hint)
            return [Reply(type="error", text=prompts.say(lang, "messages", "errors.store_down"), lang=lang, data={"store_down": True})]

    async def ahandle(self, owner: OwnerKey, event: Event, *, dedup_key: str | None = None, lang_hint: str | None = None) -> list[Reply]:
        return await asyncio.to_thread(self.handle, owner, event, dedup_key=dedup_key, lang_hint=lang_hint)

    def forget(self, owner: OwnerKey) -> None:
        self.repo.forget(owner)

    # -- summaries and exports ----------------------------------------------------
    def view(self, owner: OwnerKey, journey_id: int) -> JourneyView:
        return self.repo.journey_view(owner, journey_id)

    def report(self, owner: OwnerKey, journey_id: int) -> Report:
        """The offline coach's report, at once (no network)."""
        view = self.view(owner, journey_id)
        return self._with_living_facts(view, self.coach.report(view))

    async def areport(self, owner: OwnerKey, journey_id: int) -> Report:
        """The configured writer's report, served from the database when nothing changed."""
        view = await asyncio.to_thread(self.view, owner, journey_id)
        return await self.report_for(view)

    async def report_for(self, view: JourneyView) -> Report:
        report = await self._written_report(view)
        return await asyncio.to_thread(self._with_living_facts, view, report)

    def _with_living_facts(self, view: JourneyView, report: Report) -> Report:
        """Turn the advice into to-dos and add the facts no writer invents (whichever wrote the report):
        the version, the changes since the previous one, the customer check, the to-dos, the team's scores."""
        assert view.id is not None
        items = [("improvement", i.title) for i in report.improvements] + [("wow", w.idea) for w in report.wow_moments]
        self.repo.sync_todos(view.id, items)
        todos = self.repo.todo_lines(view.id)
        team, added = self._team(view)
        return report.model_copy(
            update={
                "version": view.version,
                "changes": changes(view),
                "customer_check": compare(view),
                "todos": todos,
                "team": team,
                "team_added": added,
            }
        )

    def _team(self, view: JourneyView) -> tuple[list[TeamScore], list[str]]:
        """Scores and touchpoints teammates contributed to a shared journey."""
        from store.sharing import DISAGREEMENT, Sharing, team_rows

        assert view.id is not None
        contributions = Sharing(self.repo.engine).contributions(view.id)
        if not contributions:
            return [], []
        rows, added = team_rows(view, contributions)
        team = [
            TeamScore(stage=r.stage_name, touchpoint=r.touchpoint, owner=r.owner_score, scores=[s for _, s in r.scores], disagree=r.spread >= DISAGREEMENT)
            for r in rows
        ]
        return team, [f"{c.stage_name}: {c.touchpoint}" for c in added]

    async def _written_report(self, view: JourneyView) -> Report:
        assert view.id is not None
        writer = self.writer
        cache_key = writer.cache_key(view)
        if writer.name != self.coach.name:
            cached = await asyncio.to_thread(self.repo.cached_summary, view.id, cache_key)
            if cached is not None:
                return Report.model_validate(cached)
        written = await writer.write(view)
        usage = written.usage
        await asyncio.to_thread(
            self.repo.save_summary,
            view.id,
            generator=writer.name if not written.fallback else f"{writer.name}:fallback",
            cache_key=cache_key,
            prompt_version=getattr(writer, "prompt_version", None),
            model=getattr(writer, "model", None),
            content=written.report.model_dump(mode="json"),
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            calls=written.calls,
            fallback=written.fallback,
        )
        return written.report

    def reminders(self, channel: str, *, owner: OwnerKey | None = None, workspace: str | None = None) -> list[tuple[OwnerKey, str]]:
        """Claim the review reminders due on this channel: (owner, message in the owner's language).

        Called periodically by every channel, so it also tidies up old event ids.
        """
        self.repo.prune_processed_events()
        due = self.repo.due_reminders(channel, owner=owner, workspace=workspace)
        return [
            (OwnerKey(d.channel, d.workspace, d.user_id), prompts.say(d.lang, "messages", "review.reminder", title=d.title))
            for d in due
        ]

    def markdown(self, view: JourneyView, report: Report) -> ExportFile:
        return ExportFile(filename=filename_for(view), markdown=render_markdown(view, report, today=self.today().isoformat()))

    def export(self, owner: OwnerKey, journey_id: int, report: Report | None = None) -> ExportFile:
        view = self.view(owner, journey_id)
        return self.markdown(view, report or self._with_living_facts(view, self.coach.report(view)))

    async def aexport(self, owner: OwnerKey, journey_id: int) -> ExportFile:
        view = await asyncio.to_thread(self.view, owner, journey_id)
        return self.markdown(view, await self.report_for(view))

    def chart(self, owner: OwnerKey, journey_id: int) -> bytes:
        from bot.chart import emotion_curve_png  # matplotlib costs 0.4 s to import: only when a chart is drawn

        return emotion_curve_png(self.view(owner, journey_id))
