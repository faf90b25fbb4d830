"""What a running journeybot process counts, for Prometheus, and whether it is ready to serve.

Each `Journeys` keeps its own `Metrics` with a private registry (made when a server first asks for
`Journeys.metrics`), so tests and several application layers in one process never share counts;
the terminal chat never asks, and never loads prometheus-client. The names (README, "Health and
metrics"):

    journeybot_updates_total{channel,outcome}    owner events through `Journeys.handle`:
                                                 ok, duplicate, error, store_down
    journeybot_step_seconds{channel}             histogram: one whole turn in the application layer
                                                 (load, engine, save, queue the replies)
    journeybot_outbox_backlog                    replies queued and not yet delivered, counted in
                                                 the database on every scrape
    journeybot_summaries_written_total{writer}   summaries written (cache hits are not)
    journeybot_llm_calls_total{writer}           model calls those summaries took
    journeybot_llm_tokens_total{writer,kind}     their tokens, kind = prompt | completion
    journeybot_llm_fallbacks_total{writer}       summaries the offline coach wrote because the model failed
    journeybot_reminders_sent_total{channel}     review reminders sent by the reminder loop
    journeybot_survey_news_sent_total{channel}   "N new customer answers" messages sent by it
    journeybot_outbox_resent_total{channel}      replies the outbox loop sent for a failed or killed turn

plus the process's own (`process_*`, `python_*`). Readiness (`readiness`) is a trivial query and the
schema at this release's migrations; its reason never carries a URL, a password or a traceback.
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator

if TYPE_CHECKING:
    from app.journeys import Journeys

log = logging.getLogger(__name__)

OUTCOMES = ("ok", "duplicate", "error", "store_down")
STEP_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # Prometheus' text format, as generate_latest writes it


@dataclass
class Step:
    """One owner event on its way through the application layer; the turn sets `outcome` when it is
    not "ok" (an exception makes it "error")."""

    channel: str
    outcome: str = "ok"


class Metrics:
    """The counters of one application layer, in a registry of their own."""

    def __init__(self, backlog: Callable[[], int] | None = None) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram
        from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR

        self.registry = registry = CollectorRegistry()
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):  # the process's, read on scrape
            registry.register(collector)
        self.updates = Counter("journeybot_updates", "Owner events handled, by channel and outcome", ["channel", "outcome"], registry=registry)
        self.step_seconds = Histogram(
            "journeybot_step_seconds", "One whole turn in the application layer, in seconds", ["channel"], buckets=STEP_BUCKETS, registry=registry
        )
        self.summaries = Counter("journeybot_summaries_written", "Summaries written (not served from the cache)", ["writer"], registry=registry)
        self.llm_calls = Counter("journeybot_llm_calls", "Language-model calls made for summaries", ["writer"], registry=registry)
        self.llm_tokens = Counter("journeybot_llm_tokens", "Language-model tokens used for summaries", ["writer", "kind"], registry=registry)
        self.llm_fallbacks = Counter("journeybot_llm_fallbacks", "Summaries the offline coach wrote because the model failed", ["writer"], registry=registry)
        self.reminders_sent = Counter("journeybot_reminders_sent", "Review reminders sent", ["channel"], registry=registry)
        self.survey_news_sent = Counter("journeybot_survey_news_sent", "Messages telling owners of new customers' survey answers", ["channel"], registry=registry)
        self.outbox_resent = Counter("journeybot_outbox_resent", "Replies sent by the outbox loop (their turn's own send failed or its process died)", ["channel"], registry=registry)
        self._channels: set[str] = set()
        if backlog is not None:
            registry.register(_Backlog(backlog))

    # -- hooks ---------------------------------------------------------------------------
    def update(self, channel: str, outcome: str, seconds: float) -> None:
        if channel not in self._channels:  # every outcome shows from the first update on, at 0
            self._channels.add(channel)
            for each in OUTCOMES:
                self.updates.labels(channel, each)
        self.updates.labels(channel, outcome).inc()
        self.step_seconds.labels(channel).observe(seconds)

    def summary(self, writer: str, *, calls: int, prompt_tokens: int, completion_tokens: int, fallback: bool) -> None:
        self.summaries.labels(writer).inc()
        if calls:
            self.llm_calls.labels(writer).inc(calls)
        if prompt_tokens:
            self.llm_tokens.labels(writer, "prompt").inc(prompt_tokens)
        if completion_tokens:
            self.llm_tokens.labels(writer, "completion").inc(completion_tokens)
        if fallback:
            self.llm_fallbacks.labels(writer).inc()

    def reminder_sent(self, channel: str, *, news: bool = False) -> None:
        (self.survey_news_sent if news else self.reminders_sent).labels(channel).inc()

    def resent(self, channel: str) -> None:
        self.outbox_resent.labels(channel).inc()

    # -- exposition ------------------------------------------------------------------------
    def exposition(self) -> bytes:
        """The text format Prometheus scrapes. Blocking: the backlog is read from the database."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


class _Backlog:
    """journeybot_outbox_backlog, counted when scraped; left out when the database does not answer."""

    def __init__(self, count: Callable[[], int]) -> None:
        self.count = count

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        try:
            value = self.count()
        except Exception as exc:  # the scrape still shows everything else; /readyz says what is wrong
            log.info("outbox backlog not counted: %s", type(exc).__name__)
            return
        gauge = GaugeMetricFamily("journeybot_outbox_backlog", "Replies queued in the outbox and not delivered yet (all channels)")
        gauge.add_metric([], value)
        yield gauge


@contextmanager
def step(metrics: Metrics | None, channel: str) -> Iterator[Step]:
    """Times one turn and counts it with its outcome; without `metrics` (the terminal) it only hands
    out the Step."""
    current = Step(channel)
    started = time.perf_counter()
    try:
        yield current
    except BaseException:
        current.outcome = "error"
        raise
    finally:
        if metrics is not None:
            metrics.update(channel, current.outcome, time.perf_counter() - started)


_made = threading.Lock()


def metrics_for(journeys: "Journeys") -> Metrics:
    """The metrics of `journeys`, made once (a scrape and a turn may ask at the same time)."""
    with _made:
        if journeys._metrics is None:
            journeys._metrics = Metrics(backlog=journeys.store.outbox_backlog)
        return journeys._metrics


# ---------------------------------------------------------------------------- readiness
@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str = ""  # short, for people: never a URL, a password or a traceback
    schema: tuple[str, ...] = ()


def readiness(journeys: "Journeys") -> Readiness:
    """Whether the database answers a trivial query and is at this release's migrations
    (`store.db.schema_version(engine) == store.db.SCHEMA_HEADS`). Blocking; uses the read engine, so
    on SQLite a probe never waits for (or takes) the write lock."""
    from sqlalchemy import text

    from store.db import SCHEMA_HEADS, schema_version

    engine = journeys.store.reader
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            conn.rollback()
        current = schema_version(engine)
    except Exception as exc:  # the type only: the text of a driver error may name the host or the user
        return Readiness(False, f"database unreachable ({type(exc).__name__})")
    if current != SCHEMA_HEADS:
        return Readiness(False, f"database schema at {', '.join(sorted(current)) or 'nothing'}; this release needs {', '.join(sorted(SCHEMA_HEADS))}", tuple(sorted(current)))
    return Readiness(True, "", tuple(sorted(current)))
