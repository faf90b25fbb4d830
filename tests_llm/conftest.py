"""Fixtures for the real-model tests: one llama_cpp.server with SmolLM2 for the session, the counting
proxy in front of it, and the figures, written to bench/results/llm-local.md when the session ends."""
from __future__ import annotations

import os
from typing import Iterator

import pytest

from tests_llm.local_server import CountingProxy, LlamaServer, counting_proxy, llama_server
from tests_llm.results import RESULTS, Figures

for _proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_proxy, None)
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture(scope="session")
def figures() -> Iterator[Figures]:
    found = Figures()
    yield found
    if os.environ.get("JOURNEYBOT_LLM_RESULTS", "1") != "0":
        found.write(RESULTS)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, figures: Figures) -> Iterator[LlamaServer]:
    with llama_server(tmp_path_factory.mktemp("llama")) as started:
        figures.server(started)
        yield started


@pytest.fixture(scope="session")
def proxy(server: LlamaServer) -> Iterator[CountingProxy]:
    with counting_proxy(server.base) as running:
        yield running
