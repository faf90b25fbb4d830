"""Dutch and English through Babel: plural forms by each language's rule, fractions and dates the
owner's way ("1 klantantwoord", "2,5/5", "1 januari 2027") in messages, coach and exports."""
from __future__ import annotations

import pytest

import prompts
from bot.report_sections import long_date


@pytest.mark.parametrize(
    ("lang", "count", "expected"),
    [("nl", 1, "1 klantantwoord bewaard."), ("nl", 3, "3 klantantwoorden bewaard."), ("en", 1, "Saved 1 customer answer."), ("en", 0, "Saved 0 customer answers.")],
)
def test_plural_forms_follow_the_language(lang: str, count: int, expected: str) -> None:
    assert prompts.say(lang, "messages", "survey.saved", count=count).startswith(expected)


def test_fractions_and_dates_are_written_the_owners_way() -> None:
    assert prompts.number("nl", 2.5) == "2,5" and prompts.number("en", 2.5) == "2.5"
    assert prompts.number("nl", 2027) == 2027  # whole numbers (years, ids) are left alone
    assert long_date("2027-01-01", "nl") == "1 januari 2027" and long_date("2027-01-01", "en") == "1 January 2027"


def test_every_plural_message_has_both_forms_in_both_languages() -> None:
    def walk(node: object, path: str = "") -> list[str]:
        if isinstance(node, dict):
            if prompts.is_plural(node):
                return [path]
            return [p for k, v in node.items() for p in walk(v, f"{path}.{k}" if path else str(k))]
        return []

    for name in ("messages", "coach", "map"):
        for lang in prompts.LANGUAGES:
            for key in walk(prompts.load(lang, name)):
                node = prompts.load(lang, name)
                for part in key.split("."):
                    node = node[part]
                assert set(node) == {"one", "other"}, (lang, name, key)
                assert node["one"] != node["other"], (lang, key)
