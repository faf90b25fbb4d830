"""Customers' survey answers coming in: decoding (byte-order mark, UTF-16, Windows-1252), separators
(comma, semicolon, tab), the bounds (2,000 customers, 1 MB), the same import stored once, files
fetched only from Slack's hosts and refused when they are a login page, and a large import next to
another owner's answers."""
from __future__ import annotations

import asyncio
import statistics
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

import prompts
from app import Journeys, OwnerKey
from bot.events import Command, Text
from bot.survey import MAX_ROWS, OVERALL, SurveyError, SurveyQuestion, SurveyTooLarge, import_key, parse_rows
from handlers.kit.intake import FileRejected, check_response, decode_text
from store.living import SurveyResponse
from store.models import ProcessedEvent
from store.repository import Store
from devkit.drive import type_lines
from devkit.fakes.slack_api import TEAM_ID
from devkit.fakes.telegram_api import FakeTelegram, document, visible_text
from devkit.fakes.telegram_fixtures import fake_telegram  # noqa: F401
from devkit.fakes.telegram_harness import TelegramHarness
from devkit.scripts import B2B_EN
from tests.slack_harness import start_harness, stop_harness
from tests.telegram_support import TODAY
from tests.telegram_support import texts as texts_of

QUESTIONS = [SurveyQuestion("discovery", "Discovery", "Webinar"), SurveyQuestion("proposal", "Proposal", "Quote"), SurveyQuestion(OVERALL, "", "")]
HEADER = "Discovery,Proposal,Onboarding,Overall,Comment"
IMPORTS = 8


def survey_rows(journeys: Journeys) -> int:
    with journeys.store.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(SurveyResponse)) or 0)


# ---------------------------------------------------------------------------- decoding and parsing
def test_a_byte_order_mark_no_longer_costs_the_first_row() -> None:
    excel = "\ufeff4,2,5,first customer\r\n3,3,3,second\r\n"
    rows = parse_rows(excel, QUESTIONS)
    assert [r.comment for r in rows] == ["first customer", "second"]
    assert parse_rows(decode_text(excel.encode("utf-8")), QUESTIONS) == rows  # decoded bytes: the mark is gone before parsing
    with_header = "\ufeffDiscovery;Proposal;Overall\r\n4;2;5\r\n"
    assert len(parse_rows(with_header, QUESTIONS)) == 1, "a header row after the mark is still a header row"


def test_semicolons_tabs_and_commas_are_all_read() -> None:
    dutch = "Ontdekken;Offerte;Totaal;Opmerking\r\n4;2;5;Sneller antwoord, graag\r\n3;;4;\r\n"
    rows = parse_rows(dutch, QUESTIONS)
    assert [(r.scores, r.comment) for r in rows] == [
        ({"discovery": 4, "proposal": 2, OVERALL: 5}, "Sneller antwoord, graag"),
        ({"discovery": 3, OVERALL: 4}, ""),
    ]
    assert parse_rows("4;Slow, rude and late", QUESTIONS)[0].comment == "Slow, rude and late"
    assert parse_rows("4\t2\t5\tpasted from a sheet", QUESTIONS)[0].scores == {"discovery": 4, "proposal": 2, OVERALL: 5}
    assert parse_rows("4,2,5,Slow; very slow", QUESTIONS)[0].comment == "Slow; very slow"
    with pytest.raises(SurveyError) as decimal:
        parse_rows("4;3,5;2", QUESTIONS)  # a decimal comma (Dutch Excel) is no score from 1 to 5
    assert (decimal.value.line, decimal.value.problem, decimal.value.values) == (1, "score", {"value": "3,5"})


def test_more_than_2000_customers_or_a_megabyte_is_refused_as_a_whole() -> None:
    assert len(parse_rows("4,4,4\n" * MAX_ROWS, QUESTIONS)) == MAX_ROWS
    with pytest.raises(SurveyTooLarge) as rows:
        parse_rows(HEADER + "\n" + "4,4,4\n" * (MAX_ROWS + 1), QUESTIONS)
    assert rows.value.problem == "too_many_rows"
    started = time.perf_counter()
    with pytest.raises(SurveyTooLarge) as many:
        parse_rows("4,2,5\n" * 125_000, QUESTIONS)  # 750 kB: under a megabyte, far over the rows
    print(f"\n125,000 rows refused in {(time.perf_counter() - started) * 1000:.1f} ms")
    assert many.value.problem == "too_many_rows"
    with pytest.raises(SurveyTooLarge) as large:
        parse_rows("4,2,5," + "x" * 1_000_001, QUESTIONS)
    assert large.value.problem == "too_large"
    for lang in prompts.LANGUAGES:
        assert "2000" in prompts.say(lang, "messages", "survey.too_many_rows", **rows.value.values)


def test_decoding_utf8_utf16_and_windows_1252() -> None:
    assert decode_text(b"\xef\xbb\xbf4,2,5\n") == "4,2,5\n"
    assert decode_text("\ufeff4\t2\t5\tcafé\r\n".encode("utf-16")) == "4\t2\t5\tcafé\r\n"  # Excel's "Unicode text"
    assert decode_text("4;2;5;één, café\r\n".encode("cp1252")) == "4;2;5;één, café\r\n"  # Excel's plain "CSV" on a Dutch PC
    for binary in (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"\xff\xfe\x00\xd8 4,1", b"4,2\x00,5"):
        with pytest.raises(FileRejected) as refused:
            decode_text(binary)
        assert refused.value.reason == "unreadable"


def test_a_download_is_judged_by_its_headers_before_its_body() -> None:
    check_response(200, "text/csv; charset=utf-8", 10)
    check_response(200, "application/octet-stream", None)  # no length: unknown, read with the cap
    check_response(200, None, None)
    for status, kind, length, reason in [
        (200, "text/html; charset=utf-8", 4_000, "login_page"),
        (200, "image/png", 10, "not_csv"),
        (200, "text/csv", 1_000_001, "too_large"),
        (302, "text/csv", 10, "failed"),
        (500, "text/plain", 10, "failed"),
    ]:
        with pytest.raises(FileRejected) as refused:
            check_response(status, kind, length)
        assert refused.value.reason == reason


def test_the_import_key_follows_the_answers_not_their_form() -> None:
    one = parse_rows("\ufeffDiscovery;Proposal;Overall\r\n4;2;5;Slow\r\n3;3;3\r\n", QUESTIONS)
    same = parse_rows("3, 3, 3\n4,2,5,Slow\n", QUESTIONS)
    other = parse_rows("4;2;5;Slow\r\n3;3;4\r\n", QUESTIONS)
    assert import_key(one) == import_key(same) != import_key(other)


# ---------------------------------------------------------------------------- through the application layer
def _owner(user: str = "ann") -> OwnerKey:
    return OwnerKey("terminal", "", user)


def _texts(replies: list[Any]) -> list[str]:
    return [r.text for r in replies]


def test_the_same_answers_twice_are_stored_once(journeys: Journeys) -> None:
    owner = _owner()
    type_lines(journeys, owner, B2B_EN)
    excel = "\ufeffDiscovery;Proposal;Onboarding;Overall;Comment\r\n4;1;2;3;Slow proposal\r\n5;2;2;4;\r\n"
    first = journeys.handle(owner, Command("results", excel))
    assert any("Saved 2 customer answers" in t for t in _texts(first)), _texts(first)
    # replayed: the same command again, and the same lines pasted with commas after /results
    again = journeys.handle(owner, Command("results", excel))
    journeys.handle(owner, Command("results", ""))
    pasted = journeys.handle(owner, Text("4,1,2,3,Slow proposal\n5,2,2,4"))
    already = prompts.say("en", "messages", "survey.already_saved", count=2)
    assert already in _texts(again) and already in _texts(pasted)
    assert survey_rows(journeys) == 2
    # other answers are new; and the key survives the pruning of old event ids
    journeys.store.prune_processed_events(older_than=timedelta(0))
    assert any("Saved 1 customer answer." in t for t in _texts(journeys.handle(owner, Command("results", "2,2,2,2,Late"))))
    assert prompts.say("en", "messages", "survey.already_saved", count=2) in _texts(journeys.handle(owner, Command("results", excel)))
    assert survey_rows(journeys) == 3
    # two imports, two keys, both of this journey: another journey takes the same file as its own
    with journeys.store.sessions() as session:
        keys = session.scalars(select(ProcessedEvent.key).where(ProcessedEvent.key.startswith("survey:"))).all()
    assert len(keys) == 2 and all(k.startswith(f"survey:{journeys.current_journey_id(owner)}:") for k in keys)


def test_125000_customers_are_refused_and_nothing_is_stored(journeys: Journeys) -> None:
    owner = _owner()
    type_lines(journeys, owner, B2B_EN)
    started = time.perf_counter()
    replies = journeys.handle(owner, Command("results", HEADER + "\n" + "4,2,5\n" * 125_000))  # 750 kB
    print(f"\n125,000-row /results answered in {(time.perf_counter() - started) * 1000:.0f} ms")
    assert prompts.say("en", "messages", "survey.too_many_rows", max_rows="2000") in _texts(replies)
    assert survey_rows(journeys) == 0


def test_a_2000_row_import_does_not_hold_up_another_owner(tmp_path) -> None:
    """On SQLite, how long another owner's answer waits while 2,000-row imports run (printed)."""
    journeys = Journeys(Store.open(f"sqlite:///{tmp_path / 'journeybot.db'}"), today=lambda: TODAY)
    try:
        importer, other = _owner("importer"), _owner("other")
        type_lines(journeys, importer, B2B_EN)
        journeys.handle(other, Command("start", ""))
        imports: list[float] = []
        waits: list[float] = []
        done = threading.Event()

        def import_loop() -> None:
            for n in range(IMPORTS):
                text = HEADER + "\n" + "".join(f"4,2,5,3,customer {n}-{i}\n" for i in range(MAX_ROWS))
                started = time.perf_counter()
                replies = journeys.handle(importer, Command("results", text))
                imports.append(time.perf_counter() - started)
                assert any(f"Saved {MAX_ROWS} customer answers" in r.text for r in replies)
            done.set()

        def answer_loop() -> None:
            lines = iter(B2B_EN[1:] * 3)
            while not done.is_set():
                started = time.perf_counter()
                journeys.handle(other, Text(next(lines)))
                waits.append(time.perf_counter() - started)

        threads = [threading.Thread(target=import_loop), threading.Thread(target=answer_loop)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert imports and waits
        print(
            f"\nSQLite, a {MAX_ROWS}-row import: {statistics.median(imports) * 1000:.0f} ms (median of {len(imports)}); "
            f"another owner's answer meanwhile: median {statistics.median(waits) * 1000:.1f} ms, "
            f"max {max(waits) * 1000:.1f} ms over {len(waits)} answers"
        )
        assert survey_rows(journeys) == IMPORTS * MAX_ROWS
    finally:
        journeys.close()


# ---------------------------------------------------------------------------- through the channels
async def test_telegram_an_excel_csv_twice_is_stored_once_with_its_first_row(fake_telegram: FakeTelegram, tmp_path) -> None:  # noqa: F811
    journeys = Journeys(Store.open(f"sqlite:///{tmp_path / 'journeybot.db'}"), today=lambda: TODAY)
    bot = TelegramHarness(fake_telegram, journeys)
    await bot.start()
    try:
        owner = OwnerKey("telegram", "", "4242")
        await asyncio.to_thread(type_lines, journeys, owner, B2B_EN)
        # Dutch Excel: Windows-1252, semicolons, no header row, the first customer on the first line
        data = "4;1;2;3;Offerte duurde één week\r\n5;2;2;4;\r\n2;2;2;2;Prima café\r\n".encode("cp1252")
        said = []
        for _ in range(2):
            file_id = fake_telegram.add_download(data, "antwoorden.csv")
            calls = await bot.send(document(file_id, "antwoorden.csv", len(data)))
            said.append([visible_text(t) for t in texts_of(calls)])
        assert any("Saved 3 customer answers" in t for t in said[0]), said[0]
        assert prompts.say("en", "messages", "survey.already_saved", count=3) in said[1][0], said[1]
        assert survey_rows(journeys) == 3
        report = await journeys.report(owner, journeys.current_journey_id(owner))
        assert {c.stage: c.responses for c in report.customer_check}["Discovery"] == 3
    finally:
        await bot.stop()
        journeys.close()


async def test_slack_files_only_from_slack_never_a_login_page_and_stored_once(tmp_path) -> None:
    h, runner = await start_harness(tmp_path)
    try:
        owner = OwnerKey("slack", TEAM_ID, "U1")
        await asyncio.to_thread(type_lines, h.app, owner, B2B_EN)

        async def share(file: dict[str, Any]) -> str:
            mark = h.slack.mark()
            assert (await h.signer.dm("U1", "", files=[file])).status == 200
            await h.journeys.drain()
            return " | ".join(p.all_text() for p in h.slack.since(mark, "chat.postMessage"))

        good = h.slack.add_user_file(b"\xef\xbb\xbf4;1;2;3;Slow proposal\r\n5;2;2;4;\r\n", "answers.csv")
        big = h.slack.add_user_file(b"4,1,2,3," + b"x" * 1_100_000 + b"\n", "big.csv")
        login_page = prompts.say("en", "slack", "file.login_page")
        elsewhere = prompts.say("en", "slack", "file.elsewhere")
        path = good["url_private_download"].split("/files-pri/", 1)[1]
        cases = [
            ({**good, "url_private_download": f"http://files.slack.com/files-pri/{path}"}, elsewhere),  # Slack's host, but no HTTPS
            ({**good, "url_private_download": f"https://files.slack.com.example.net/files-pri/{path}"}, elsewhere),
            ({**good, "url_private_download": good["url_private_download"].replace(str(h.slack.port), "9")}, elsewhere),  # another port
            ({k: v for k, v in big.items() if k != "size"}, prompts.say("en", "slack", "file.too_large", limit="1 MB")),  # no size: not 0
            (h.slack.add_user_file(b"<!DOCTYPE html><html><body>Sign in</body></html>", "answers.csv"), login_page),  # HTML as text/csv
        ]
        for file, expected in cases:
            said = await share(file)
            assert expected in render_plain(said), (file["url_private_download"], said)
        h.slack.files_readable = False  # the app lacks files:read: Slack answers with its login page and 200
        said = await share(good)
        assert login_page in render_plain(said) and "files:read" in said
        h.slack.files_readable = True
        assert survey_rows(h.app) == 0
        assert "Saved 2 customer answers" in await share(good)
        again = await share(h.slack.add_user_file(b"4,1,2,3,Slow proposal\n5,2,2,4\n", "answers-again.csv"))
        assert prompts.say("en", "messages", "survey.already_saved", count=2) in render_plain(again)
        assert survey_rows(h.app) == 2
    finally:
        await stop_harness(h, runner)


def render_plain(text: str) -> str:
    """Slack mrkdwn as the reader sees it, near enough for comparing with a prompt text."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
