"""Summaries, exports and charts: the journey view built from stored records, the configured writer
with its cache, and the facts no writer invents (version, changes, customers, to-dos, team)."""
from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import TYPE_CHECKING, Callable, Mapping

from bot.export import filename_for, render_markdown
from bot.journey import JourneyView, PreviousVersion, TodoItem, build_view
from bot.llm_config import model_settings
from bot.report import Report, TeamScore, TodoLine
from bot.survey import compare
from bot.team import team_rows
from bot.versions import changes
from bot.writer import CoachWriter, SummaryWriter
from app.outgoing import FileItem, ImageItem
from store.records import JourneyData, OwnerKey
from store.repository import Store
from store.sharing import Sharing

if TYPE_CHECKING:
    from app.metrics import Metrics

log = logging.getLogger(__name__)
DEFAULT_CURRENCY = "EUR"


def currency_from_env(env: Mapping[str, str]) -> str:
    """JOURNEYBOT_CURRENCY: the ISO 4217 code costs are shown in (default EUR); an unknown code is logged and ignored."""
    code = (env.get("JOURNEYBOT_CURRENCY") or "").strip().upper()
    if not code:
        return DEFAULT_CURRENCY
    from babel.numbers import is_currency

    if is_currency(code):
        return code
    log.warning("JOURNEYBOT_CURRENCY=%r is not an ISO 4217 currency code; using %s", code[:8], DEFAULT_CURRENCY)
    return DEFAULT_CURRENCY


def writer_from_env(env: Mapping[str, str], today: Callable[[], date]) -> SummaryWriter:
    """The LLM writer when it is configured and switched on, the offline coach otherwise."""
    coach = CoachWriter(today, currency_from_env(env))
    if model_settings(env) is None:  # checked before openai is imported
        return coach
    from bot.llm_writer import writer_from_env as llm_writer_from_env

    return llm_writer_from_env(env, today=today, coach=coach.report) or coach


def view_of(data: JourneyData, lang: str | None = None) -> JourneyView:
    journey = data.journey
    version, previous = 0, None
    if data.versions:
        newest = data.versions[0]
        version = newest.number
        # compare with the newest version, unless the journey is still exactly that version
        base = newest if newest.answers != journey.answers else (data.versions[1] if len(data.versions) > 1 else None)
        if base is not None:
            previous = PreviousVersion(number=base.number, created=base.created.date().isoformat(), answers=base.answers, todos=base.todos)
    return build_view(
        journey.answers,
        lang or data.conversation_lang or journey.lang,
        journey.id,
        version=version,
        previous=previous,
        todos=tuple(TodoItem(id=t.id, key=t.key, kind=t.kind, title=t.title, status=t.status) for t in data.todos),
        survey=tuple(data.survey),
    )


class Reports:
    def __init__(self, store: Store, writer: SummaryWriter, today: Callable[[], date], *, metrics: Callable[[], Metrics | None] = lambda: None) -> None:
        self.store = store
        self.metrics = metrics  # the application layer's metrics, once there are any
        self.writer = writer
        self.today = today
        self.coach = CoachWriter(today)
        self.sharing = Sharing(store.engine)

    def view(self, owner: OwnerKey, journey_id: int) -> JourneyView:
        return view_of(self.store.journey_data(owner, journey_id))

    async def report(self, view: JourneyView) -> Report:
        """The configured writer's report (served from the database when nothing changed), with the facts."""
        written = await self._written(view)
        return await asyncio.to_thread(self.with_facts, view, written)

    def with_facts(self, view: JourneyView, report: Report) -> Report:
        """Turn the advice into to-dos and add what no writer invents, whichever wrote the report."""
        assert view.id is not None
        items = [("improvement", i.title) for i in report.improvements] + [("wow", w.idea) for w in report.wow_moments]
        todos = self.store.sync_todos(view.id, items)
        team, added = self._team(view)
        return report.model_copy(
            update={
                "version": view.version,
                "changes": changes(view),
                "customer_check": compare(view),
                "todos": [TodoLine(id=t.id, kind=t.kind, title=t.title, status=t.status) for t in todos],
                "team": team,
                "team_added": added,
            }
        )

    def _team(self, view: JourneyView) -> tuple[list[TeamScore], list[str]]:
        assert view.id is not None
        contributions = self.sharing.contributions(view.id)
        if not contributions:
            return [], []
        rows, added = team_rows(view, contributions)
        team = [
            TeamScore(
                stage=r.stage_name,
                touchpoint=r.touchpoint,
                owner=r.owner_score,
                scores=[s for _, s in r.scores],
                teammates=[who for who, _ in r.scores],
                disagree=r.disagree,
            )
            for r in rows
        ]
        return team, [f"{c.stage_name}: {c.touchpoint}" for c in added]

    async def _written(self, view: JourneyView) -> Report:
        assert view.id is not None
        writer = self.writer
        cache_key = writer.cache_key(view)
        if writer.name != self.coach.name:
            cached = await asyncio.to_thread(self.store.cached_summary, view.id, cache_key)
            if cached is not None:
                return Report.model_validate(cached)
        written = await writer.write(view)
        usage = written.usage
        await asyncio.to_thread(
            self.store.save_summary,
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
        metrics = self.metrics()
        if metrics is not None:  # calls, tokens and fallbacks, counted where they are saved
            metrics.summary(
                writer.name,
                calls=written.calls,
                prompt_tokens=usage.prompt_tokens if usage else 0,
                completion_tokens=usage.completion_tokens if usage else 0,
                fallback=written.fallback,
            )
        return written.report

    # -- files ------------------------------------------------------------------------
    def markdown(self, view: JourneyView, report: Report) -> FileItem:
        text = render_markdown(view, report, today=self.today().isoformat())
        return FileItem(kind="markdown", filename=filename_for(view), data=text.encode("utf-8"), mime="text/markdown", lang=view.lang, journey_id=view.id)

    def map_file(self, view: JourneyView, report: Report, fmt: str) -> FileItem | ImageItem:
        """The journey map in one format: png (a picture), pdf (to print), html (a page), csv or
        xlsx (a sheet), md (the markdown export)."""
        if fmt == "md":
            return self.markdown(view, report)
        from bot.journey_map import build_map

        journey_map = build_map(view, report)
        stem = filename_for(view).removesuffix(".md")
        if fmt == "png":
            from bot.map_picture import render_png

            return ImageItem(kind="map", filename=f"{stem}-map.png", data=render_png(journey_map), lang=view.lang, journey_id=view.id)
        if fmt == "pdf":
            from bot.map_picture import render_pdf

            data, mime = render_pdf(journey_map), "application/pdf"
        elif fmt == "html":
            from bot.map_page import render_html

            data, mime = render_html(journey_map, report, today=self.today().isoformat()).encode("utf-8"), "text/html"
        elif fmt == "csv":
            from bot.map_sheet import render_csv

            data, mime = render_csv(journey_map), "text/csv"
        elif fmt == "xlsx":
            from bot.map_sheet import render_xlsx

            data, mime = render_xlsx(journey_map), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            raise ValueError(f"unknown map format {fmt!r}")
        return FileItem(kind=f"map_{fmt}", filename=f"{stem}-map.{fmt}", data=data, mime=mime, lang=view.lang, journey_id=view.id)

    def chart(self, view: JourneyView) -> ImageItem:
        from bot.chart import emotion_curve_png  # matplotlib costs 0.4 s to import: only when a chart is drawn

        return ImageItem(kind="chart", filename="emotion-curve.png", data=emotion_curve_png(view, view.lang), lang=view.lang, journey_id=view.id)
