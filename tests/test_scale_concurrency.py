"""Several senders answering for the same conversation at once, on SQLite and PostgreSQL.

Two real processes (spawned, each with its own engine and pool, both migrating a fresh database
at once) and one process with many threads. Every answer is unique, so the log shows where each
one landed: none lost, none doubled, no step skipped or answered twice, and the answers of the
journey are exactly what the log says. Redelivered events with the same key, raced across
processes, are recorded once.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from store.repository import OwnerKey
from tests.scale_support import (
    TEXT_STEPS,
    assert_every_answer_once_in_plan_order,
    interview_answers,
    open_journeys,
    run_processes,
    send_all,
    share,
    start_in_english,
)

pytestmark = pytest.mark.timeout(240)


def test_two_processes_answer_the_same_conversations_at_once(db_url: str) -> None:
    owners = [("telegram", "", f"race-{n}") for n in range(3)] + [("telegram", "", "redelivered")]
    sent = run_processes(db_url, owners, processes=2)
    assert not any("error" in types for _, types in sent), [s for s in sent if "error" in s[1]]

    journeys = open_journeys(db_url, migrate=False)
    try:
        texts, unknowns = interview_answers()
        for raw in owners[:-1]:
            assert_every_answer_once_in_plan_order(journeys.store, OwnerKey(*raw), texts + unknowns, complete=True)
        # the same 14 events went to both processes with the same keys: each recorded once
        assert_every_answer_once_in_plan_order(journeys.store, OwnerKey(*owners[-1]), texts, complete=False)
        answered = [types for line, types in sent if line in texts]
        assert sum(1 for types in answered if types == []) == TEXT_STEPS, "not exactly one of each pair was a duplicate"
    finally:
        journeys.close()


@pytest.mark.parametrize("threads", [8])
def test_many_threads_answer_one_conversation(db_url: str, threads: int) -> None:
    journeys = open_journeys(db_url, pool_size=threads)
    try:
        for round_ in range(2):
            owner = OwnerKey("slack", "T1", f"threads-{round_}")
            texts, unknowns = interview_answers()
            barrier = threading.Barrier(threads, timeout=60)

            def sender(me: int) -> list[tuple[str, list[str]]]:
                barrier.wait()
                start_in_english(journeys, owner)  # every thread creates the owner at once
                barrier.wait()
                out = send_all(journeys, owner, share(texts, threads, me))
                barrier.wait()  # all free-text steps are behind us before "I don't know" starts
                return out + send_all(journeys, owner, share(unknowns, threads, me))

            with ThreadPoolExecutor(threads) as pool:
                results = [item for part in pool.map(sender, range(threads)) for item in part]
            errors = [r for r in results if "error" in r[1]]
            assert not errors, errors
            assert_every_answer_once_in_plan_order(journeys.store, owner, texts + unknowns, complete=True)
    finally:
        journeys.close()


def test_racing_redeliveries_in_threads_are_recorded_once(db_url: str) -> None:
    journeys = open_journeys(db_url, pool_size=8)
    try:
        owner = OwnerKey("telegram", "", "redelivery-threads")
        start_in_english(journeys, owner)
        texts, _ = interview_answers()
        keys = [f"tg:{n}" for n in range(TEXT_STEPS)]
        barrier = threading.Barrier(4, timeout=60)

        def deliver(_: int) -> list[tuple[str, list[str]]]:
            barrier.wait()
            return send_all(journeys, owner, texts, dedup=keys)

        with ThreadPoolExecutor(4) as pool:
            results = [item for part in pool.map(deliver, range(4)) for item in part]
        assert sum(1 for _, types in results if types) == TEXT_STEPS
        assert_every_answer_once_in_plan_order(journeys.store, owner, texts, complete=False)
    finally:
        journeys.close()
