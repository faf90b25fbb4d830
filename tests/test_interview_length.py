"""A scripted business answers the interview, whatever it asks, to the end, and the map keeps its depth.

The business and its answer policy are those of the interview-length benchmark (devkit/scripts.py,
bench/interview_length.py); here it runs through the test channel over `app.Journeys`. Only the
outcome is checked: the journey completes and the export has every touchpoint's channel, feeling
and team, the full persona and every evidence light. How many turns it takes is the benchmark's
business, never asserted.
"""
from __future__ import annotations

import asyncio
from datetime import date

from app import Journeys
from bench.interview_length import depth
from bot.replies import Reply
from devkit.scripts import INSTALLER_BUSINESS_NL, owner_policy
from handlers.testing import TestChannel
from store.repository import Store

EXTRA_VALUES = ("__dont_know__", "__done__", "__keep__", "__skip__")
MAX_TURNS = 300


def answer(channel: TestChannel, line: str) -> None:
    """Type `line` as the terminal would send it: a choice's own value is a tap, anything else text."""
    question = channel.question
    assert question is not None and question.step
    values = {c.value for c in question.choices}
    if line in values and (line in EXTRA_VALUES or question.kind in ("single_choice", "scale") or question.step == "meta.language"):
        channel.tap(line)
    else:
        channel.push(line)


def test_a_scripted_b2b_business_finishes_the_interview_with_full_depth(tmp_path) -> None:
    business = INSTALLER_BUSINESS_NL
    journeys = Journeys(Store.open(f"sqlite:///{tmp_path / 'journeybot.db'}"), today=date.today)
    try:
        channel = TestChannel(journeys, user_id="klimaatwerk")
        policy = owner_policy(business)
        channel.start()
        done = False
        errors: list[str] = []
        for _ in range(MAX_TURNS):
            items = channel.pop_all()
            errors += [f"{i.step}: {i.text}" for i in items if isinstance(i, Reply) and i.type == "error"]
            if any(isinstance(i, Reply) and i.type == "done" for i in items):
                done = True
                break
            question = channel.question
            assert question is not None, items
            answer(channel, policy(question.to_json()))
        assert done, f"the interview did not finish in {MAX_TURNS} turns; errors shown: {errors}"

        journey = journeys.current_journey_id(channel.owner)
        assert journey is not None
        markdown = asyncio.run(journeys.export(channel.owner, journey)).data.decode("utf-8")
        stages, touchpoints, problems = depth(markdown, business)
        assert (stages, touchpoints) == (len(business.stages), business.touchpoint_count)
        assert not problems, problems
    finally:
        journeys.close()
