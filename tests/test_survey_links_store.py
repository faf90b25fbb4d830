"""Survey links in the store, on SQLite and PostgreSQL: one open link per journey, an unguessable token,
submissions stored once, closed links refuse, the owner told once per batch, /forget removes it all."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app import Journeys, JourneyNotFound, OwnerKey
from bot.events import Command, Start, Text
from store.living import SurveyLink, SurveyResponse
from store.repository import Store
from store.survey_links import CLOSED, DUPLICATE, STORED

ANN = OwnerKey("telegram", "", "1")
BOB = OwnerKey("telegram", "", "2")


def journey_of(journeys: Journeys, owner: OwnerKey, name: str) -> int:
    journeys.handle(owner, Start(lang_hint="en"))
    journeys.handle(owner, Text(name))
    journey_id = journeys.current_journey_id(owner)
    assert journey_id is not None
    return journey_id


def test_links_submissions_news_and_forget(repo: Store) -> None:
    journeys = Journeys(repo)
    ann = journey_of(journeys, ANN, "Bakery Ann")
    bob = journey_of(journeys, BOB, "Bakery Bob")
    link = repo.survey_link(ANN, ann)
    assert len(link.token) >= 32 and repo.survey_link(ANN, ann).token == link.token  # one open link
    with pytest.raises(JourneyNotFound):
        repo.survey_link(BOB, ann)  # not Bob's journey
    assert repo.close_survey_link(BOB, ann) is False

    page = repo.survey_page(link.token)
    assert page is not None and page.journey_id == ann and not page.closed and page.answers["business.name"]["v"] == "Bakery Ann"
    assert repo.survey_page("nope") is None

    assert repo.submit_survey(link.token, {"awareness": 4}, "Lovely", "sub-1") == STORED
    assert repo.submit_survey(link.token, {"awareness": 4}, "Lovely", "sub-1") == DUPLICATE
    assert repo.submit_survey(link.token, {"awareness": 2}, None, "sub-2") == STORED
    assert repo.submit_survey("nope", {"awareness": 2}, None, "sub-3") == CLOSED

    news = repo.survey_news("telegram")
    assert [(n.owner, n.journey_id, n.new, n.total) for n in news] == [(ANN, ann, 2, 2)]
    assert repo.survey_news("telegram") == []  # told once
    repo.submit_survey(link.token, {"awareness": 5}, None, "sub-4")
    assert [(n.new, n.total) for n in repo.survey_news("telegram")] == [(1, 3)]
    assert repo.survey_news("slack") == []

    renewed = repo.survey_link(ANN, ann, renew=True)
    assert renewed.token != link.token
    assert repo.survey_page(link.token).closed  # type: ignore[union-attr]
    assert repo.submit_survey(link.token, {"awareness": 1}, None, "sub-5") == CLOSED
    assert repo.close_survey_link(ANN, ann) is True
    assert repo.submit_survey(renewed.token, {"awareness": 1}, None, "sub-6") == CLOSED

    bob_link = repo.survey_link(BOB, bob)
    repo.submit_survey(bob_link.token, {"awareness": 3}, None, "sub-7")
    journeys.handle(ANN, Command("forget"))
    journeys.handle(ANN, Text("yes"))
    with repo.sessions() as session:
        assert session.scalar(select(func.count()).select_from(SurveyLink).where(SurveyLink.journey_id == ann)) == 0
        assert session.scalar(select(func.count()).select_from(SurveyResponse).where(SurveyResponse.journey_id == ann)) == 0
        assert session.scalar(select(func.count()).select_from(SurveyResponse).where(SurveyResponse.journey_id == bob)) == 1


async def test_the_reminder_loop_tells_owners_about_new_customer_answers_once(repo: Store) -> None:
    from handlers.kit import ReminderLoop

    journeys = Journeys(repo)
    ann = journey_of(journeys, ANN, "Bakery Ann")
    link = repo.survey_link(ANN, ann)
    for n in range(3):
        repo.submit_survey(link.token, {"awareness": 4}, None, f"s{n}")
    told: list[tuple[OwnerKey, str]] = []

    async def send(reminder) -> None:
        told.append((reminder.owner, reminder.text))

    loop = ReminderLoop(journeys, "telegram", send, interval=0)
    assert await loop.once() == 1
    assert told == [(ANN, "3 new customer answers for “Bakery Ann” (3 in all). /summary shows their scores next to yours.")]
    assert await loop.once() == 0  # told once
