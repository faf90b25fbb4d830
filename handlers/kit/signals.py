"""Stopping a channel server cleanly on SIGTERM or SIGINT: the signals, the time allowed
(JOURNEYBOT_SHUTDOWN_TIMEOUT) and loops that finish their pass before they stop."""
from __future__ import annotations

import abc
import asyncio
import contextlib
import os
import signal
import sys
import threading
import time
from typing import Any, Callable, Mapping

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def stop_on_signals(loop: asyncio.AbstractEventLoop, stop: Callable[[], None]) -> tuple[signal.Signals, ...]:
    """SIGTERM and SIGINT call `stop`; the signals handled, to remove again. An event loop takes signals
    only in the main thread of a Unix process; run anywhere else (a thread in tests, Windows), stopping
    is up to whoever started it."""
    if sys.platform == "win32" or threading.current_thread() is not threading.main_thread():
        return ()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop)
    return STOP_SIGNALS


# ---------------------------------------------------------------------------- graceful shutdown
DEFAULT_SHUTDOWN_TIMEOUT = 20.0  # seconds from SIGTERM to exit (JOURNEYBOT_SHUTDOWN_TIMEOUT)


def shutdown_timeout(env: Mapping[str, str] | None = None) -> float:
    """JOURNEYBOT_SHUTDOWN_TIMEOUT: how long a server may take, from SIGTERM to exit, to finish the work
    in flight (default 20 s). ValueError when it is not a number >= 0."""
    env = os.environ if env is None else env
    raw = (env.get("JOURNEYBOT_SHUTDOWN_TIMEOUT") or "").strip()
    value = float(raw) if raw else DEFAULT_SHUTDOWN_TIMEOUT
    if not value >= 0 or value == float("inf"):
        raise ValueError(raw)
    return value


class Deadline:
    """A point in time the shutdown must be done by; `None` seconds is no limit."""

    def __init__(self, seconds: float | None) -> None:
        self.at = None if seconds is None else time.monotonic() + seconds

    def left(self, reserve: float = 0.0) -> float | None:
        """Seconds left (never below 0), keeping `reserve` for what comes after; None without a limit."""
        if self.at is None:
            return None
        return max(self.at - time.monotonic() - reserve, 0.0)


async def finish(task: "asyncio.Future[Any] | None", timeout: float | None) -> bool:
    """Wait for `task` up to `timeout` seconds, then cancel it; True when it ended on its own."""
    if task is None or task.done():
        return True
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if done:
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    return False


class Periodic(abc.ABC):
    """A loop that runs `once` every `interval` seconds until `stop()`: the pass under way is finished,
    no new one starts (the sleep in between is cut short)."""

    interval: float

    def __init__(self) -> None:
        self.stopping = False
        self._wake: asyncio.Event | None = None
        self.task: asyncio.Task[None] | None = None

    @abc.abstractmethod
    async def once(self) -> int:
        """One pass; how many things it did."""

    @abc.abstractmethod
    def failed(self) -> None:
        """A pass failed (the database is down): say so; it is tried again at the next one."""

    async def run(self) -> None:
        self._wake = asyncio.Event()
        while not self.stopping:
            try:
                await self.once()
            except Exception:  # a failed pass is retried at the next one
                self.failed()
            if self.stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)

    def start(self) -> asyncio.Task[None] | None:
        self.task = asyncio.create_task(self.run()) if self.interval > 0 else None
        return self.task

    def stop(self) -> None:
        self.stopping = True
        if self._wake is not None:
            self._wake.set()

    async def close(self, timeout: float | None = None) -> bool:
        """`stop`, then wait up to `timeout` for the pass under way; cancelled after that."""
        self.stop()
        return await finish(self.task, timeout)
