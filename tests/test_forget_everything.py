"""/forget removes every row tied to the owner, table by table: their journeys and everything hanging off
them, their conversations and event ids, their shares, what they contributed to other people's journeys,
and the dedup keys of those contributions."""
from __future__ import annotations

from sqlalchemy import select

from app import Journeys, OwnerKey
from bot.events import Command, Start, Text
from store.models import Base, Owner, ProcessedContribution

U1 = OwnerKey("slack", "T1", "U1")
U2 = OwnerKey("slack", "T1", "U2")


def start(journeys: Journeys, who: OwnerKey, name: str, key: str) -> None:
    journeys.handle(who, Start(lang_hint="en"), dedup_key=f"{key}:1")
    for n, line in enumerate(["en", name, "1", "leads", "A first order"], start=2):
        journeys.handle(who, Text(line), dedup_key=f"{key}:{n}")


def test_forget_removes_every_row_of_the_owner_in_every_table(journeys: Journeys) -> None:
    start(journeys, U1, "Zon", "u1")
    start(journeys, U2, "Maan", "u2")
    team = journeys.team
    one = team.share(U1, "C1").share
    two = team.share(U2, "C1").share
    team.sharing.contribute(two, U1.user_id, stage_slug="awareness", stage_name="Awareness", touchpoint="Flyer", added=True, dedup_key="act-1")
    team.sharing.contribute(one, U2.user_id, stage_slug="awareness", stage_name="Awareness", touchpoint="Poster", added=True, dedup_key="act-2")
    with journeys.store.sessions() as session:
        owner_id = session.scalar(select(Owner.id).where(Owner.user_id == "U1"))
        journey_ids = {one.journey_id}
        assert session.scalar(select(ProcessedContribution.key).where(ProcessedContribution.key.contains("U1"))) is not None

    journeys.handle(U1, Command("forget"))
    journeys.handle(U1, Text("yes"))

    with journeys.store.sessions() as session:
        for table in Base.metadata.sorted_tables:
            rows = session.execute(select(table)).mappings().all()
            for row in rows:
                values = dict(row)
                assert values.get("owner_id") != owner_id, (table.name, values)
                assert values.get("journey_id") not in journey_ids, (table.name, values)
                assert not (table.name == "owners" and values.get("user_id") == "U1"), values
                assert not (table.name == "contributions" and values.get("user_id") == "U1"), values
                assert not (table.name == "processed_contributions" and ":U1|" in str(values.get("key"))), values
        assert session.scalar(select(ProcessedContribution.key).where(ProcessedContribution.key.endswith("act-1"))) is None
        # the other owner keeps their own rows, including the key of the score they gave U1's (now gone) journey
        assert session.scalar(select(Owner.id).where(Owner.user_id == "U2")) is not None
        assert session.scalar(select(ProcessedContribution.key).where(ProcessedContribution.key.contains(":U2|"))) is not None
