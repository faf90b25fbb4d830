"""A line sent again after "not saved" is not recorded twice when the first try did reach the database."""
from __future__ import annotations

import io
import json

import prompts
from bot.replies import Reply
from app import Journeys, OwnerKey
from handlers.terminal import run_chat
from store.models import AnswerLog


class LostAcknowledgement(Journeys):
    """Commits the answer, then reports the database as gone: the acknowledgement was lost."""

    def __init__(self, repo, lose: str) -> None:
        super().__init__(repo)
        self.lose = lose

    def handle(self, owner, event, *, dedup_key=None, lang_hint=None, **kw):
        replies = super().handle(owner, event, dedup_key=dedup_key, lang_hint=lang_hint, **kw)
        if getattr(event, "text", None) == self.lose:
            self.lose = ""
            return [Reply(type="error", text=prompts.say("en", "messages", "errors.store_down"), data={"store_down": True})]
        return replies


def test_resending_after_a_lost_acknowledgement_records_once(repo, tmp_path):
    journeys = LostAcknowledgement(repo, lose="Bakery Bart")
    stdin = io.StringIO("en\nBakery Bart\nBakery Bart\n1\n")
    stdout = io.StringIO()
    assert run_chat(journeys, jsonl=True, stdin=stdin, stdout=stdout, export_dir=tmp_path, owner=OwnerKey("terminal", "local", "t")) == 0
    turns = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert [t["type"] for t in turns if t["type"] == "error"] == ["error"]
    with repo.sessions() as session:
        raws = [row.raw for row in session.query(AnswerLog).order_by(AnswerLog.id)]
    assert raws == ["Bakery Bart", "1"], "the resent line was recorded twice or the next answer was lost"
    assert turns[-1]["step"] == "journey.goal"
