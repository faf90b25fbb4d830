"""Stopping a channel server cleanly on SIGTERM or SIGINT."""
from __future__ import annotations

import asyncio
import signal
import sys
import threading
from typing import Callable

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
