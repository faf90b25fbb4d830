"""Resident memory of one bot process serving 1,000 open conversations, with 1,000 and with
10,000 journeys stored in the database.

The stored journeys are copies (owner, conversation, complete journey with its answers and its
whole answer log) of one journey typed through the application layer, inserted in bulk. A fresh
process then opens the application layer, starts 1,000 other owners' conversations and answers three
questions in each (all state goes to the database), writes one summary and export, and reports
its peak resident set size. Memory should not grow with the number of stored journeys.
"""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone

from sqlalchemy import create_engine, func, insert, select

from bench.common import ROOT, database
from bot.events import Start
from app import Journeys, OwnerKey
from store.db import database_url
from store.models import AnswerLog, Conversation, Journey, Owner
from store.repository import Store
from devkit.drive import type_lines
from devkit.scripts import B2B_EN

OPEN = 1000


def seed(url: str, stored: int) -> None:
    journeys = Journeys(Store.open(database_url({"DATABASE_URL": url})))
    template = OwnerKey("bench", "seed", "template")
    type_lines(journeys, template, B2B_EN, start=True)
    journey_id = journeys.current_journey_id(template)
    engine = journeys.store.engine
    with engine.begin() as conn:
        journey = conn.execute(select(Journey).where(Journey.id == journey_id)).mappings().one()
        conversation = conn.execute(select(Conversation).where(Conversation.journey_id == journey_id)).mappings().one()
        log = conn.execute(select(AnswerLog).where(AnswerLog.journey_id == journey_id).order_by(AnswerLog.id)).mappings().all()
        first_owner = (conn.scalar(select(func.max(Owner.id))) or 0) + 1
        first_journey = (conn.scalar(select(func.max(Journey.id))) or 0) + 1
        now = datetime.now(timezone.utc)
        chunk = 1000
        for start in range(0, stored - 1, chunk):
            ids = range(start, min(stored - 1, start + chunk))
            conn.execute(insert(Owner), [{"id": first_owner + i, "channel": "bench", "workspace": "stored", "user_id": f"s{i}", "created_at": now} for i in ids])
            skip = {"id", "owner_id", "business_id", "persona_id"}
            conn.execute(insert(Journey), [{**{k: v for k, v in journey.items() if k not in skip}, "id": first_journey + i, "owner_id": first_owner + i} for i in ids])
            conn.execute(insert(Conversation), [{**{k: v for k, v in conversation.items() if k not in ("id", "owner_id", "journey_id")},
                                                 "owner_id": first_owner + i, "journey_id": first_journey + i} for i in ids])
            conn.execute(insert(AnswerLog), [{**{k: v for k, v in row.items() if k not in ("id", "owner_id", "journey_id")},
                                              "owner_id": first_owner + i, "journey_id": first_journey + i} for i in ids for row in log])
        if engine.dialect.name == "postgresql":
            for table in ("owners", "journeys", "conversations", "answer_log"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    journeys.close()


CHILD = r"""
import json, resource, sys, asyncio
sys.path.insert(0, sys.argv[2])
from bot.events import Start, parse_input
from app import Journeys, OwnerKey
from store.db import database_url
from store.repository import Store
from devkit.scripts import B2B_EN
journeys = Journeys(Store.open(database_url({"DATABASE_URL": sys.argv[1]})))
owners = [OwnerKey("bench", "open", f"o{i}") for i in range(int(sys.argv[3]))]
for owner in owners:
    journeys.handle(owner, Start(lang_hint="en"), dedup_key=f"start:{owner.user_id}")
for n, line in enumerate(B2B_EN[1:4]):
    for owner in owners:
        journeys.handle(owner, parse_input(line), dedup_key=f"{n}:{owner.user_id}")
journey = journeys.current_journey_id(owners[0])
asyncio.run(journeys.export(owners[0], journey))
journeys.chart(owners[0], journey)
stored = journeys.store.count_rows(__import__("store.models", fromlist=["Journey"]).Journey)
print(json.dumps({"maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "journeys": stored}))
"""


def measure(url: str, open_conversations: int = OPEN) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, url, str(ROOT), str(open_conversations)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(kind: str = "sqlite", sizes: tuple[int, ...] = (1000, 10000)) -> list[dict[str, float]]:
    rows = []
    for stored in sizes:
        with database(kind) as url:
            seed(url, stored)
            result = measure(url)
            result["stored"] = stored
            result["db"] = kind  # type: ignore[assignment]
            rows.append(result)
            print(f"  memory {kind}: {stored} stored journeys, {OPEN} open conversations: {result['maxrss_mb']:.0f} MB", flush=True)
    return rows


if __name__ == "__main__":
    print(run())
