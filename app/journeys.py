"""The application layer's one entry point for every channel: a turn per owner event, reports,
exports, reminders. Adapters call only this; it calls the pure engine and the store's port."""
from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Mapping

import prompts
from bot.events import Command, Event, Heard
from bot.flow import Flow, default_flow
from bot.replies import Reply
from bot.review_rhythm import rhythm_steps
from bot.vocabulary import SHOW
from app import delivery
from app.metrics import Step, step
from app.outgoing import FileItem, ImageItem, Outgoing, ReportItem, receipt_of
from app.reading import Reading
from app.turn import TurnInput, run_turn
from app.voice import Voice, VoiceNote, VoiceRejected, message as voice_message
from bot.engine.effects import ReadDescription
from store.records import DueReminder, JourneyNotFound, JourneySummary, OwnerKey, StoreUnavailable
from store.repository import DUPLICATE, Store

if TYPE_CHECKING:  # reports, writers and pydantic load with the first summary, not before the first question
    from app.metrics import Metrics
    from app.reports import Reports
    from app.team import Team
    from bot.journey import JourneyView
    from bot.llm_reader import DescriptionReader
    from bot.report import Report
    from bot.writer import SummaryWriter
    from store.stats import SummaryStats

log = logging.getLogger(__name__)
__all__ = ["Journeys", "OwnerKey", "StoreUnavailable", "JourneyNotFound", "Reminder"]


@dataclass(frozen=True)
class Reminder:
    """A claimed review reminder: send `text` to `owner`, or `Journeys.release` it when that fails."""

    owner: OwnerKey
    text: str
    claim: DueReminder | None  # None for news that is not claimed again when it fails (customers' answers)
    lang: str = "en"
    journey_id: int | None = None


class Journeys:
    def __init__(
        self,
        store: Store,
        writer: SummaryWriter | None = None,
        today: Callable[[], date] = date.today,
        flow: Flow | None = None,
        *,
        writer_env: Mapping[str, str] | None = None,
        public_url: str | None = None,
        voice: Voice | None = None,
        reader: "DescriptionReader | None" = None,
    ) -> None:
        self.store = store
        self.today = today
        self.flow = flow or default_flow()
        self._writer = writer
        self.public_url = public_url  # where customers reach the survey page (JOURNEYBOT_PUBLIC_URL)
        self.voice = voice  # transcribes voice notes (OPENAI_TRANSCRIBE_MODEL); None: voice notes are off
        self._writer_env = writer_env or {}  # the writer is built with the first summary, not at start-up
        self.reading = Reading(self._writer_env, reader)  # the model that reads a stage told in own words
        self._asked: dict[OwnerKey, tuple[ReadDescription, list[Reply]]] = {}  # readings `turn` makes after showing a turn
        self._reports: Reports | None = None
        self._team: Team | None = None
        self._shown = delivery.Shown()
        self._metrics: Metrics | None = None  # made by the first server that serves /metrics (app/metrics.py)

    @property
    def reports(self) -> "Reports":
        if self._reports is None:
            from app.reports import Reports, writer_from_env

            self._reports = Reports(self.store, self._writer or writer_from_env(self._writer_env, self.today), self.today, metrics=lambda: self._metrics)
        return self._reports

    @property
    def team(self) -> "Team":
        if self._team is None:
            from app.team import Team

            self._team = Team(self.store)
        return self._team  # team journeys: shares and teammates' contributions

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, pool_size: int = 5, migrate: bool | None = None) -> "Journeys":
        """`pool_size` connections per engine (PostgreSQL: one engine, up to 3× that with overflow;
        SQLite: a writer and a reader engine). `migrate` None follows JOURNEYBOT_AUTO_MIGRATE (default
        1): with 0 nothing is migrated and a database behind this release raises SchemaBehind, a
        StoreUnavailable (run `journeybot db upgrade`)."""
        from store.db import database_url

        env = os.environ if env is None else env
        if migrate is None:
            migrate = (env.get("JOURNEYBOT_AUTO_MIGRATE") or "1").strip().lower() not in ("0", "false", "no", "off")
        store = Store.open(database_url(env), migrate=migrate, pool_size=pool_size)
        return cls(store, writer_env=dict(env), public_url=(env.get("JOURNEYBOT_PUBLIC_URL") or "").strip() or None, voice=Voice.from_env(env))

    @property
    def writer(self) -> "SummaryWriter":
        return self.reports.writer

    @property
    def metrics(self) -> "Metrics":
        """This application layer's Prometheus metrics, counted from the moment something first asks
        (the servers' /metrics, the reminder and outbox loops); the terminal never loads them."""
        if self._metrics is None:
            from app.metrics import metrics_for

            return metrics_for(self)
        return self._metrics

    def close(self) -> None:
        self.store.close()

    # -- the turn -----------------------------------------------------------------------
    def handle(
        self,
        owner: OwnerKey,
        event: Event,
        *,
        dedup_key: str | None = None,
        lang_hint: str | None = None,
        address: dict[str, Any] | None = None,
        reshow: bool = True,
        read_now: bool = True,
    ) -> list[Reply]:
        """The engine's replies to one event, after it was committed.

        Without an `address` a re-delivered event gets []. With one (a channel that delivers through
        the outbox, see app/delivery.py) the replies are queued in the same transaction, carry
        receipts, and a re-delivered event shows what the owner has not seen, or else (with
        `reshow`: the platform re-delivers only after a failure) the current question.
        Replies of type summary/export are requests: `turn` (or `expand`) turns them into a report and files.
        Each call is counted (journeybot_updates_total by outcome, journeybot_step_seconds) once metrics exist.
        A stage told in own words that a model reads (app/reading.py) is read here and its replies follow,
        unless `read_now` is False: then `turn` reads it after showing these replies."""
        with step(self._metrics, owner.channel) as current:
            replies, asked = self._handle(current, owner, event, dedup_key=dedup_key, lang_hint=lang_hint, address=address, reshow=reshow)
            if asked is not None and read_now:
                replies += self._read(current, owner, asked, replies, lang_hint=lang_hint, address=address)
            elif asked is not None:
                self._asked[owner] = (asked, replies)
            return replies

    def _read(
        self, current: Step, owner: OwnerKey, asked: ReadDescription, before: list[Reply], *, lang_hint: str | None, address: dict[str, Any] | None
    ) -> list[Reply]:
        """The reading the last turn asked for (the model, outside any transaction) given to the engine
        as its own turn. Replies of the asking turn queued again with it are left out: already handed out."""
        read = self.reading.read(asked, self.flow)
        more, _ = self._handle(current, owner, read, lang_hint=lang_hint, address=address)
        seen = {r.receipt for r in before if r.receipt is not None}
        return [r for r in more if r.receipt is None or r.receipt not in seen]

    def _handle(
        self,
        current: Step,
        owner: OwnerKey,
        event: Event,
        *,
        dedup_key: str | None = None,
        lang_hint: str | None = None,
        address: dict[str, Any] | None = None,
        reshow: bool = True,
    ) -> tuple[list[Reply], ReadDescription | None]:
        """The turn's replies, and the reading it asked for (to make after its commit), if any."""
        given = TurnInput(event=event, lang_hint=lang_hint, flow=self.flow, reads=self.reading.on)
        try:
            if address is None:
                result = self.store.turn(owner, dedup_key, lambda tx: run_turn(tx, given))
            else:
                shown = self._shown.take()
                try:
                    result = self.store.turn(
                        owner, dedup_key, lambda tx: delivery.step(tx, given, shown), then=lambda tx, p: delivery.queue(tx, p, address, event)
                    )
                except BaseException:
                    self._shown.put_back(*shown)
                    raise
                if result is DUPLICATE:
                    current.outcome = "duplicate"
                    self._shown.put_back(*shown)
                    self.flush_delivered()
                    held = self.store.take_outbox(owner, delivery.FAST_LEASE)
                    if held or not reshow:
                        return [delivery.from_row(r) for r in held], None
                    return self._handle(current, owner, Command(SHOW), lang_hint=lang_hint, address=address)
        except StoreUnavailable as exc:
            current.outcome = "store_down"
            log.warning("store unavailable for %s event: %s", owner.channel, exc)
            lang = prompts.normalise_language(lang_hint)
            return [Reply(type="error", text=prompts.say(lang, "messages", "errors.store_down"), lang=lang, data={"store_down": True})], None
        if result is DUPLICATE:
            current.outcome = "duplicate"
            return [], None
        return list(result), (given.asked[-1] if given.asked else None)  # type: ignore[arg-type]

    async def ahandle(
        self,
        owner: OwnerKey,
        event: Event,
        *,
        dedup_key: str | None = None,
        lang_hint: str | None = None,
        address: dict[str, Any] | None = None,
        reshow: bool = True,
        read_now: bool = True,
    ) -> list[Reply]:
        return await asyncio.to_thread(self.handle, owner, event, dedup_key=dedup_key, lang_hint=lang_hint, address=address, reshow=reshow, read_now=read_now)

    async def turn(
        self,
        owner: OwnerKey,
        event: Event,
        *,
        dedup_key: str | None = None,
        lang_hint: str | None = None,
        address: dict[str, Any] | None = None,
        reshow: bool = True,
    ) -> AsyncIterator[Outgoing]:
        """One event, as neutral outgoing items in the order to show them; summaries and exports
        expanded. With an `address`, the last item made from each queued reply carries its receipt:
        pass it to `delivered` once shown. A stage told in own words that a model reads: what the turn
        says ("Reading your description…") comes first, the reading's question once the model answered."""
        self._asked.pop(owner, None)
        for item in await self.ahandle(owner, event, dedup_key=dedup_key, lang_hint=lang_hint, address=address, reshow=reshow, read_now=False):
            async for out in self.expand(owner, item):
                yield out
        waiting = self._asked.pop(owner, None)  # the adapters run one turn of an owner at a time
        if waiting is None:
            return

        def then() -> list[Reply]:
            asked, before = waiting
            with step(None, owner.channel) as current:  # the reading belongs to the update counted above
                return self._read(current, owner, asked, before, lang_hint=lang_hint, address=address)

        for item in await asyncio.to_thread(then):
            async for out in self.expand(owner, item):
                yield out

    async def hear(
        self,
        owner: OwnerKey,
        note: VoiceNote,
        fetch: Callable[[int], Awaitable[bytes]],
        *,
        lang: str,
        dedup_key: str | None = None,
        lang_hint: str | None = None,
        address: dict[str, Any] | None = None,
        reshow: bool = True,
    ) -> AsyncIterator[Outgoing]:
        """A voice note: its declared length and size checked, `fetch(limit)` (the adapter's
        download, never more than `limit` bytes; VoiceRejected when it cannot) called only then, the
        audio transcribed in the owner's language `lang`, and the transcript shown back by the engine
        (a `Heard` turn) to be confirmed. A note that cannot be used gets one error reply in `lang`
        and nothing is stored."""
        voice = self.voice
        try:
            if voice is None:
                raise VoiceRejected("switched_off")
            voice.check(note)
            text = await voice.transcribe(await fetch(voice.max_bytes), note, lang)
        except VoiceRejected as exc:
            text = voice.message(lang, exc.reason, note) if voice is not None else voice_message(lang, exc.reason, note)
            yield Reply(type="error", text=text, lang=lang, data={"voice": exc.reason})
            return
        async for item in self.turn(owner, Heard(text), dedup_key=dedup_key, lang_hint=lang_hint, address=address, reshow=reshow):
            yield item

    async def delivered(self, item: Outgoing, ref: str | int | None = None) -> None:
        """The item was shown (as the platform's message `ref`): its outbox row is done. Written with
        the owner's next turn or by `flush_delivered`, whichever comes first."""
        receipt = receipt_of(item)
        if receipt is not None:
            # nothing of a forgotten owner stays behind, not even the confirmation
            forgotten = isinstance(item, Reply) and item.type == "forgotten"
            self._shown.add(receipt, None if ref is None else str(ref), remove=forgotten)

    def flush_delivered(self) -> None:
        """Write the receipts of what was shown (the outbox loop does, every pass; and at shutdown)."""
        sent, removed = self._shown.take()
        if not sent and not removed:
            return
        try:
            self.store.outbox_shown(sent, removed)
        except BaseException:
            self._shown.put_back(sent, removed)
            raise

    async def expand(self, owner: OwnerKey, item: Reply) -> AsyncIterator[Outgoing]:
        """A summary request becomes 'working', the report, the markdown file and the chart; an export
        request the markdown file; anything else is passed on. The last item carries the receipt."""
        receipt = item.receipt
        if item.type == "map":
            # every stage is rated: the emotion curve, before the last questions
            text = Reply(type="info", text=item.text, lang=item.lang, journey_id=item.journey_id, data={"map": True})
            if item.journey_id is None:
                yield replace(text, receipt=receipt)
                return
            yield text
            view = await asyncio.to_thread(self.reports.view, owner, item.journey_id)
            yield replace(await asyncio.to_thread(self.reports.chart, view), receipt=receipt)
            return
        if item.type == "survey_link":
            async for out in self._survey_link(owner, item):
                yield out
            return
        if item.type not in ("summary", "export"):
            yield item
            return
        if item.journey_id is None:
            if receipt is not None:  # nothing to show: done
                self._shown.add(receipt, None)
            return
        if item.type == "summary" and item.text.strip():
            yield Reply(type="info", text=item.text, lang=item.lang, journey_id=item.journey_id, data={"working": True})
        view = await asyncio.to_thread(self.reports.view, owner, item.journey_id)
        report = await self.reports.report(view)
        if item.type == "export":  # the map to look at and to print, and the markdown to edit
            yield await asyncio.to_thread(self.reports.map_file, view, report, "png")
            yield await asyncio.to_thread(self.reports.map_file, view, report, "pdf")
            yield replace(await asyncio.to_thread(self.reports.markdown, view, report), receipt=receipt)
            return
        yield ReportItem(report=report, title=view.title, lang=view.lang, journey_id=item.journey_id)
        yield await asyncio.to_thread(self.reports.markdown, view, report)
        yield replace(await asyncio.to_thread(self.reports.map_file, view, report, "png"), receipt=receipt)

    async def _survey_link(self, owner: OwnerKey, item: Reply) -> AsyncIterator[Outgoing]:
        """The journey's survey link with its QR code; or the link closed (`/survey close`)."""
        from bot.survey_link import qr_png, survey_url

        lang, journey_id = item.lang, item.journey_id
        if journey_id is None:
            return
        if item.data.get("close"):
            closed = await asyncio.to_thread(self.store.close_survey_link, owner, journey_id)
            text = prompts.say(lang, "messages", "survey.link_closed" if closed else "survey.link_none")
            yield Reply(type="info", text=text, lang=lang, journey_id=journey_id, receipt=item.receipt)
            return
        link = await asyncio.to_thread(lambda: self.store.survey_link(owner, journey_id, renew=bool(item.data.get("renew"))))
        url = survey_url(self.public_url, link.token)
        text = prompts.say(lang, "messages", "survey.link", url=url)
        if link.answers:
            text += "\n" + prompts.say(lang, "messages", "survey.link_count", count=link.answers)
        yield Reply(type="info", text=text, lang=lang, journey_id=journey_id, data={"survey_url": url})
        qr = await asyncio.to_thread(qr_png, url)
        yield ImageItem(kind="qr", filename="survey-qr.png", data=qr, lang=lang, journey_id=journey_id, receipt=item.receipt)

    def survey_news(self, channel: str, *, workspace: str | None = None) -> list[Reminder]:
        """Owners of `channel` with customers' answers that came in through their survey link since
        they were last told, each told once per batch ("3 new customer answers")."""
        return [
            Reminder(owner=n.owner, text=prompts.say(n.lang, "messages", "survey.news", count=n.new, total=n.total, title=n.title or "?"), claim=None, lang=n.lang, journey_id=n.journey_id)
            for n in self.store.survey_news(channel, workspace)
        ]

    # -- the outbox ------------------------------------------------------------------------
    def due_replies(self, channel: str, *, limit: int = 50, workspace: str | None = None) -> list[delivery.Due]:
        """Queued replies of the channel that no process is showing (their maker died or failed),
        each now held by the caller, oldest first."""
        self.flush_delivered()  # never take over what this process already showed
        return [delivery.Due(r.owner, r.address, delivery.from_row(r), r.attempts) for r in self.store.claim_outbox(channel, delivery.SEND_LEASE, limit, workspace)]

    def retry_later(self, receipt: int, delay: float) -> None:
        self.store.outbox_retry([receipt], timedelta(seconds=delay))

    def undeliverable(self, receipt: int) -> None:
        """The platform will never take it (the owner blocked the bot, the chat is gone)."""
        self.store.outbox_drop([receipt])

    # -- reads ---------------------------------------------------------------------------
    def language(self, owner: OwnerKey) -> str | None:
        return self.store.language(owner)

    def current_journey_id(self, owner: OwnerKey) -> int | None:
        return self.store.current_journey_id(owner)

    def list_journeys(self, owner: OwnerKey) -> list[JourneySummary]:
        return self.store.list_journeys(owner)

    def view(self, owner: OwnerKey, journey_id: int) -> JourneyView:
        return self.reports.view(owner, journey_id)

    async def report(self, owner: OwnerKey, journey_id: int) -> Report:
        """The configured writer's report with every fact, exactly as the chat shows it."""
        view = await asyncio.to_thread(self.view, owner, journey_id)
        return await self.reports.report(view)

    async def export(self, owner: OwnerKey, journey_id: int, fmt: str = "md") -> FileItem | ImageItem:
        """The journey in one format (md, html, png, pdf, csv, xlsx), written by the configured
        writer (and its cache), as in the chat."""
        view = await asyncio.to_thread(self.view, owner, journey_id)
        report = await self.reports.report(view)
        return await asyncio.to_thread(self.reports.map_file, view, report, fmt)

    async def map_image(self, owner: OwnerKey, journey_id: int) -> ImageItem:
        """The one-page map picture of the journey, as the summary ends with it."""
        item = await self.export(owner, journey_id, "png")
        assert isinstance(item, ImageItem)
        return item

    def chart(self, owner: OwnerKey, journey_id: int) -> ImageItem:
        return self.reports.chart(self.view(owner, journey_id))

    def summary_stats(self) -> "SummaryStats":
        """Calls, tokens and fallbacks per summary writer, for `journeybot stats`."""
        from store.stats import summary_stats

        return summary_stats(self.store.reader)

    def forget(self, owner: OwnerKey) -> None:
        self.store.forget(owner)

    # -- reminders -------------------------------------------------------------------------
    def reminders(self, channel: str, *, owner: OwnerKey | None = None, workspace: str | None = None, now: datetime | None = None) -> list[Reminder]:
        """Claim the review reminders due on this channel, each by exactly one process.

        Called periodically by every channel, so it also tidies up old event ids."""
        from store.living_repo import utcnow
        from store.repository import PROCESSED_EVENTS_KEPT

        self.store.prune_processed_events()
        self.team.sharing.prune(utcnow() - PROCESSED_EVENTS_KEPT)  # teammates' button re-deliveries, likewise
        due = self.store.claim_due_reminders(channel, now or utcnow(), rhythm_steps(), owner=owner, workspace=workspace)
        return [
            Reminder(owner=OwnerKey(d.channel, d.workspace, d.user_id), text=prompts.say(d.lang, "messages", "review.reminder", title=d.title), claim=d, lang=d.lang, journey_id=d.journey_id)
            for d in due
        ]

    def release(self, reminder: Reminder) -> None:
        """A reminder that could not be delivered is due again for the next pass."""
        if reminder.claim is not None:
            self.store.release_reminder(reminder.claim)
