"""A stage told in the owner's own words, read by a model between two turns.

The engine asks with the effect `ReadDescription` (only when the context says a model reads
descriptions); after that turn is stored, the application layer calls the reader here, outside any
transaction, and runs the engine again with the neutral event `DescriptionRead`. The reader and the
openai client load with the first reading, not at start-up.
"""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Mapping

from bot.engine.effects import ReadDescription
from bot.events import DescriptionRead
from bot.flow import Flow
from bot.llm_config import model_settings

if TYPE_CHECKING:
    from bot.llm_reader import DescriptionReader

log = logging.getLogger(__name__)


def model_configured(env: Mapping[str, str]) -> bool:
    """The summary writer's model settings are there and switched on (checked without loading openai)."""
    return model_settings(env) is not None


class Reading:
    """The configured reader, made once when first needed; `on` says whether there is one."""

    def __init__(self, env: Mapping[str, str], reader: "DescriptionReader | None" = None) -> None:
        self._env = dict(env)
        self._reader = reader
        self._made = threading.Lock()
        self.on = reader is not None or model_configured(self._env)

    def reader(self) -> "DescriptionReader | None":
        with self._made:
            if self._reader is None and self.on:
                from bot.llm_reader import reader_from_env

                self._reader = reader_from_env(self._env)
            return self._reader

    def read(self, request: ReadDescription, flow: Flow) -> DescriptionRead:
        """The model's reading as the engine's event; `failed` whenever there is none to show."""
        try:
            reader = self.reader()
            channels = flow.template("touchpoint.channel").options
            found = reader.read(request.text, request.stage, request.lang, channels) if reader is not None else None
        except Exception:  # the owner gets the offline reading, whatever went wrong here
            log.exception("reading a description failed")
            found = None
        return DescriptionRead(step=request.step, touchpoints=found or (), failed=not found)
