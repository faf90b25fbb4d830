"""Helpers for the scale-out tests: answers that fit any step, workers that run in other processes,
and the invariants checked on the answer log and the answers of one conversation.

One interview (after choosing the language) has exactly 26 questions when "I don't know" is given
wherever a list or choice is asked: 14 that take any text (business.name .. persona.trigger), then
12 that take "I don't know" (persona.source, journey.stages -> the 6 default stages, journey.team,
the touchpoints of each stage, journey.evidence, journey.delights, journey.review). Several senders
share these answers between them; because every answer is unique, the log shows which answer landed
on which question. Answers the engine fills for the owner (each stage's evidence and delights from
the journey's) are logged too, marked by the "by" of their entry; they are checked apart.
"""
from __future__ import annotations

import multiprocessing
from typing import Any, Sequence

from sqlalchemy import create_engine, select

from bot.engine import Context
from bot.events import Start, parse_input
from bot.flow import is_open, plan
from app import Journeys
from store.db import database_url
from store.models import AnswerLog, Conversation, Journey, Owner
from store.repository import OwnerKey, Store

TEXT_STEPS = 14
UNKNOWN_STEPS = 12
TOTAL_STEPS = TEXT_STEPS + UNKNOWN_STEPS
_DONT_KNOW = "i don't know"


def text_answer(sender: int, n: int) -> str:
    """A unique free-text answer (no list separators, so a list or multi-choice step takes it whole)."""
    return f"sender {sender} answer {n} ✓"


def dont_know_answer(index: int) -> str:
    """A unique spelling of "I don't know": the engine folds case, so 512 distinct raw texts."""
    letters = [i for i, c in enumerate(_DONT_KNOW) if c.isalpha()]
    chars = list(_DONT_KNOW)
    for bit, position in enumerate(letters):
        if (index >> bit) & 1:
            chars[position] = chars[position].upper()
    return "".join(chars)


def share(items: Sequence[str], senders: int, me: int) -> list[str]:
    return [item for i, item in enumerate(items) if i % senders == me]


def interview_answers() -> tuple[list[str], list[str]]:
    """(text answers, don't-know answers) for one whole interview, all distinct."""
    texts = [text_answer(i % 7, i) for i in range(TEXT_STEPS)]
    unknowns = [dont_know_answer(i + 1) for i in range(UNKNOWN_STEPS)]
    return texts, unknowns


def open_journeys(url: str, *, migrate: bool = True, pool_size: int = 5) -> Journeys:
    return Journeys(Store.open(database_url({"DATABASE_URL": url}), migrate=migrate, pool_size=pool_size))


def send_all(journeys: Journeys, owner: OwnerKey, lines: Sequence[str], dedup: Sequence[str | None] | None = None) -> list[tuple[str, list[str]]]:
    """Send lines one by one; return (line, reply types) for each."""
    out = []
    for i, line in enumerate(lines):
        key = dedup[i] if dedup is not None else None
        replies = journeys.handle(owner, parse_input(line), dedup_key=key)
        out.append((line, [r.type for r in replies]))
    return out


# -- work run in another process (module level so that `spawn` can pickle it) ----------------
def process_worker(url: str, me: int, senders: int, owners: list[tuple[str, str, str]], barrier: Any, results: Any) -> None:
    """One of several processes answering for the same conversations at once.

    For every owner: the text answers (barrier), the don't-know answers (barrier). Then, for
    one more owner, every process sends the *same* events with the same dedup keys at once
    (a platform redelivering an update to another process).
    """
    try:
        journeys = open_journeys(url)  # every process migrates at once: the migration lock is tested too
        texts, unknowns = interview_answers()
        sent: list[tuple[str, list[str]]] = []
        barrier.wait()
        for raw in owners:  # both processes create the owners and conversations at once
            start_in_english(journeys, OwnerKey(*raw))
        for raw in owners[:-1]:
            owner = OwnerKey(*raw)
            barrier.wait()
            sent += send_all(journeys, owner, share(texts, senders, me))
            barrier.wait()
            sent += send_all(journeys, owner, share(unknowns, senders, me))
        owner = OwnerKey(*owners[-1])
        barrier.wait()
        keys = [f"tg:{n}" for n in range(TEXT_STEPS)]
        sent += send_all(journeys, owner, texts, dedup=keys)
        journeys.close()
        results.put((me, "ok", sent))
    except BaseException as exc:  # the parent shows what failed
        import traceback

        results.put((me, "error", traceback.format_exc()))
        raise


def run_processes(url: str, owners: list[tuple[str, str, str]], processes: int = 2, timeout: float = 120) -> list[tuple[str, list[str]]]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes, timeout=timeout)
    results = ctx.Queue()
    procs = [ctx.Process(target=process_worker, args=(url, me, processes, owners, barrier, results)) for me in range(processes)]
    for p in procs:
        p.start()
    collected = []
    try:
        for _ in procs:
            me, status, payload = results.get(timeout=timeout)
            assert status == "ok", f"process {me} failed:\n{payload}"
            collected += payload
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
    return collected


# -- invariants ---------------------------------------------------------------------------------
def conversation_record(repo: Store, owner: OwnerKey) -> tuple[list[AnswerLog], dict[str, Any], Journey | None, Conversation]:
    with repo.sessions() as session:
        owner_row = session.scalar(
            select(Owner).where(Owner.channel == owner.channel, Owner.workspace == owner.workspace, Owner.user_id == owner.user_id)
        )
        assert owner_row is not None
        log = list(session.scalars(select(AnswerLog).where(AnswerLog.owner_id == owner_row.id).order_by(AnswerLog.id)))
        conversation = session.scalar(select(Conversation).where(Conversation.owner_id == owner_row.id))
        journeys = list(session.scalars(select(Journey).where(Journey.owner_id == owner_row.id)))
        assert len(journeys) <= 1, "one conversation made several journeys"
        journey = journeys[0] if journeys else None
        session.expunge_all()
    return log, dict(journey.answers) if journey else {}, journey, conversation


def assert_every_answer_once_in_plan_order(repo: Store, owner: OwnerKey, sent: Sequence[str], *, complete: bool) -> None:
    """No answer lost or doubled, no question skipped or answered twice, answers dict = the log."""
    log, answers, journey, conversation = conversation_record(repo, owner)
    typed = [row for row in log if not (answers.get(row.step) or {}).get("by")]
    filled = [row for row in log if (answers.get(row.step) or {}).get("by")]
    raws = [row.raw for row in typed]
    assert sorted(raws) == sorted(sent), "an answer was lost or recorded twice"
    steps = [row.step for row in typed]
    assert len(set(steps)) == len(steps), f"a question was answered twice: {steps}"
    all_steps = [row.step for row in log]
    assert len(set(all_steps)) == len(all_steps), f"an answer was filled twice: {all_steps}"
    assert all(row.raw == f"({answers[row.step]['by']})" for row in filled), "a filled answer is logged as typed"
    flow_plan = plan(Context().flow, answers)
    in_plan_order = [step.key for step in flow_plan if step.key in set(steps)]
    assert steps == in_plan_order, "the answers do not follow the plan"
    keys = [step.key for step in flow_plan]
    assert set(steps) <= set(keys), "an answer landed on a step outside the plan"
    still_open = [step.key for step in flow_plan if is_open(step, answers)]
    if steps and still_open:
        last = keys.index(steps[-1])
        assert all(keys.index(key) > last for key in still_open), f"a question was skipped: {still_open}"
    assert set(answers) == set(all_steps), "the answers differ from the log"
    for row in log:
        entry = answers[row.step]
        assert entry["v"] == row.value and entry["s"] == row.status, (row.step, entry, row.value)
    if complete:
        assert not still_open and journey is not None and journey.complete
        assert conversation.state.get("complete") is True and conversation.state.get("cursor") is None
    else:
        assert still_open and conversation.state.get("cursor") == still_open[0]


def start_in_english(journeys: Journeys, owner: OwnerKey) -> None:
    journeys.handle(owner, Start(lang_hint="en"))


def answer_log(url: str, user: str) -> list[tuple[str, str]]:
    """(step, raw) of every answer logged for the owner with `user_id`, in order, read through a
    connection of its own (the process that wrote them may be gone)."""
    engine = create_engine(database_url({"DATABASE_URL": url}))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(AnswerLog.step, AnswerLog.raw).join(Owner, Owner.id == AnswerLog.owner_id).where(Owner.user_id == user).order_by(AnswerLog.id)
            ).all()
    finally:
        engine.dispose()
    return [(r.step, r.raw) for r in rows]
