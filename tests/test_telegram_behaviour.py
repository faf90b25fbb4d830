"""Telegram adapter behaviour end to end: restart, stale buttons, /back and /skip, escaping,
long answers, flood control, group chats, /forget, commands menu, ordering."""
from __future__ import annotations


from sqlalchemy import create_engine, inspect, select, text

import prompts
from app import OwnerKey
from handlers.telegram.app import GROUP_COMMANDS, MENU_COMMANDS
from store.models import AnswerLog, Owner
from devkit.fakes.telegram_api import (
    FakeTelegram,
    command,
    private_text,
    reply_to_bot,
    visible_text,
)
from devkit.fakes.telegram_fixtures import fake_telegram  # noqa: F401
from devkit.fakes.telegram_harness import TelegramHarness
from tests.telegram_support import (  # noqa: F401
    database_url,
    harness,
    journeys,
    make_journeys,
    questions,
    step_of,
    tap,
    texts,
)
from tests.telegram_support import answers as stored_answers

USER = 4242
OWNER = OwnerKey("telegram", "", str(USER))


def answers(journeys, owner: OwnerKey = OWNER) -> dict:
    return stored_answers(journeys, owner)


async def begin(bot: TelegramHarness, **kw) -> list:
    """/start, the business name, then the sector question; returns the calls of the last step."""
    await bot.send(command("start", **kw))
    return await bot.send(private_text("Bakkerij Bol", **kw))


async def test_restart_mid_interview_carries_on(fake_telegram: FakeTelegram, database_url: str) -> None:
    first = TelegramHarness(fake_telegram, make_journeys(database_url))
    await first.start()
    calls = await begin(first)
    sector_q = questions(calls)[-1]
    assert step_of(sector_q) == "business.sector"
    await first.stop()
    first.journeys.close()

    second = TelegramHarness(fake_telegram, make_journeys(database_url))
    await second.start()
    try:
        # A button sent by the old process still works: the state lives in the database.
        calls = await second.send(tap(sector_q, "webshop"))
        assert step_of(questions(calls)[-1]) == "journey.goal"
        calls = await second.send(private_text("More leads"))
        assert step_of(questions(calls)[-1]) == "journey.process"
        got = answers(second.journeys)
        assert got["business.name"]["v"] == "Bakkerij Bol"
        assert got["business.sector"]["v"] == "webshop"
        assert got["journey.goal"]["v"] == "leads"
    finally:
        await second.stop()
        second.journeys.close()


async def test_a_redelivered_update_is_applied_once(harness: TelegramHarness, fake_telegram: FakeTelegram) -> None:
    await harness.send(command("start"))
    update = private_text("Bakkerij Bol")
    update["update_id"] = fake_telegram.new_update_id()
    first = await harness.send(update)
    assert step_of(questions(first)[-1]) == "business.sector"
    again = await harness.send(dict(update, update_id=update["update_id"]))
    assert again == []  # nothing sent, nothing recorded twice
    assert harness.journeys.store.count_rows(AnswerLog) == 1


async def test_stale_button_is_answered_politely_and_the_current_question_shown(
    harness: TelegramHarness, fake_telegram: FakeTelegram
) -> None:
    sector_q = questions(await begin(harness))[-1]
    await harness.send(tap(sector_q, "bakery"))
    calls = await harness.send(tap(sector_q, "webshop"))  # the old question, tapped again

    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert answer.params.get("text") == prompts.say("en", "telegram", "stale_toast")
    assert any(c.method == "editMessageReplyMarkup" and not c.params.get("reply_markup") for c in calls)
    sent = texts(calls)
    assert any(prompts.say("en", "messages", "stale") in visible_text(t) for t in sent)
    assert step_of(questions(calls)[-1]) == "journey.goal"
    assert answers(harness.journeys)["business.sector"]["v"] == "bakery"
    shown = fake_telegram.message(USER, sector_q.result["message_id"])
    assert visible_text(shown["text"]).endswith("→ Bakery or café") and "reply_markup" not in shown


async def test_every_callback_query_is_answered_even_for_unknown_data(
    harness: TelegramHarness, fake_telegram: FakeTelegram
) -> None:
    sector_q = questions(await begin(harness))[-1]
    from devkit.fakes.telegram_api import callback

    calls = await harness.send(callback("garbage", sector_q.result))
    assert [c.method for c in calls] == ["answerCallbackQuery"]


async def test_back_and_skip(harness: TelegramHarness) -> None:
    sector_q = questions(await begin(harness))[-1]
    await harness.send(tap(sector_q, "bakery"))

    calls = await harness.send(command("back"))
    q = questions(calls)[-1]
    assert step_of(q) == "business.sector"
    assert "Current answer: Bakery or café" in visible_text(q.text)

    calls = await harness.send(command("skip"))  # keeps the answer
    assert step_of(questions(calls)[-1]) == "journey.goal"
    await harness.send(private_text("More leads"))

    calls = await harness.send(command("skip"))  # journey.process is not optional
    assert any(prompts.say("en", "messages", "errors.not_skippable") in visible_text(t) for t in texts(calls))
    assert step_of(questions(calls)[-1]) == "journey.process"
    await harness.send(private_text("first order"))
    await harness.send(private_text("Fresh bread every morning"))
    calls = await harness.send(command("skip"))  # concept.sacrifice is optional
    assert step_of(questions(calls)[-1]) == "persona.name"
    assert answers(harness.journeys)["concept.sacrifice"]["s"] == "skipped"


async def test_owner_text_is_escaped_for_telegram_html(harness: TelegramHarness, fake_telegram: FakeTelegram) -> None:
    nasty = "<b>Bol</b> & </a> &amp;"
    await harness.send(command("start"))
    calls = await harness.send(private_text(nasty))
    q = questions(calls)[-1]
    assert q.status == 200 and q.params["parse_mode"] == "HTML"
    assert "&lt;b&gt;Bol&lt;/b&gt; &amp; &lt;/a&gt; &amp;amp;" in q.text
    assert nasty in fake_telegram.message(USER, q.result["message_id"])["text"]  # shown literally
    calls = await harness.send(tap(q, "bakery"))  # the edit re-uses the message's text safely
    edit = next(c for c in calls if c.method == "editMessageText")
    assert edit.status == 200 and nasty in fake_telegram.message(USER, q.result["message_id"])["text"]
    calls = await harness.send(command("back"))
    calls = await harness.send(command("back"))
    assert nasty in visible_text(questions(calls)[-1].text)  # "Current answer: ..."
    assert all(c.status == 200 for c in fake_telegram.calls)


async def test_an_answer_over_the_limit_gets_the_engines_message(harness: TelegramHarness) -> None:
    await harness.send(command("start"))
    calls = await harness.send(private_text("x" * 2500))
    said = "\n".join(visible_text(t) for t in texts(calls))
    assert "2500" in said and "2000" in said
    assert step_of(questions(calls)[-1]) == "business.name"
    assert answers(harness.journeys) == {}


async def test_flood_control_retry_after_is_honoured(harness: TelegramHarness, fake_telegram: FakeTelegram) -> None:
    fake_telegram.fail_next("sendMessage", times=1, retry_after=1)
    calls = await harness.send(command("start"))
    statuses = [c.status for c in calls if c.method == "sendMessage"]
    assert statuses[0] == 429 and statuses[1:] and set(statuses[1:]) == {200}
    welcome = prompts.say("en", "messages", "welcome")
    delivered = [t for t in texts([c for c in calls if c.status == 200]) if visible_text(t) == welcome]
    assert len(delivered) == 1  # retried, not lost and not doubled
    retry = [c for c in calls if c.method == "sendMessage"]
    assert retry[1].at - retry[0].at >= 1.0
    assert step_of(questions(calls)[-1]) == "business.name"


async def test_commands_are_registered_in_dutch_and_english(harness: TelegramHarness, fake_telegram: FakeTelegram) -> None:
    for lang in ("nl", "en", ""):
        registered = fake_telegram.commands[lang]
        assert [c["command"] for c in registered] == list(MENU_COMMANDS)
        # groups get a short menu: no /forget, no interview steps there
        assert [c["command"] for c in fake_telegram.scoped_commands[("all_group_chats", lang)]] == list(GROUP_COMMANDS)
        assert fake_telegram.descriptions[("description", lang)] == prompts.say(lang or "en", "telegram", "description")
        assert fake_telegram.descriptions[("short_description", lang)] == prompts.say(lang or "en", "telegram", "short_description")
    nl = {c["command"]: c["description"] for c in fake_telegram.commands["nl"]}
    en = {c["command"]: c["description"] for c in fake_telegram.commands["en"]}
    assert nl["forget"] != en["forget"] and nl["forget"] == prompts.say("nl", "telegram", "commands.forget")


async def test_a_deep_link_picks_the_language_or_a_new_journey(harness: TelegramHarness) -> None:
    calls = await harness.send(command("start", "nl", language_code="en"))  # t.me/<bot>?start=nl
    assert visible_text(texts(calls)[0]) == prompts.say("nl", "messages", "welcome")
    await harness.send(private_text("Bakkerij Bol", language_code="en"))
    calls = await harness.send(command("start", "new", language_code="en"))  # t.me/<bot>?start=new
    assert step_of(questions(calls)[-1]) == "business.name"


async def test_language_comes_from_telegram_and_can_be_changed(harness: TelegramHarness) -> None:
    calls = await harness.send(command("start", language_code="nl-BE"))
    assert visible_text(texts(calls)[0]) == prompts.say("nl", "messages", "welcome")
    calls = await harness.send(command("language", "en", language_code="nl-BE"))
    assert prompts.say("en", "messages", "language.set") in [visible_text(t) for t in texts(calls)]
    calls = await harness.send(command("journeys", language_code="nl-BE"))
    assert texts(calls)


async def test_group_chats_only_commands_and_replies_to_the_bot(
    harness: TelegramHarness, fake_telegram: FakeTelegram
) -> None:
    group = -100500
    calls = await harness.send(command("start", chat_id=group, mention=True))
    sent = [visible_text(t) for t in texts(calls)]
    assert sent[0] == prompts.say("en", "telegram", "group_notice")
    q = questions(calls)[-1]
    assert q.chat_id == group

    assert await harness.send(private_text("chatter among colleagues", chat_id=group)) == []
    assert await harness.send(command("status", chat_id=group, mention=False)) != []
    # Commands for another bot are not ours.
    other = command("help", chat_id=group)
    other["message"]["text"] = "/help@some_other_bot"
    other["message"]["entities"][0]["length"] = len("/help@some_other_bot")
    assert await harness.send(other) == []

    calls = await harness.send(reply_to_bot("Bakkerij Bol", fake_telegram.message(group, q.result["message_id"])))
    assert step_of(questions(calls)[-1]) == "business.sector"
    assert answers(harness.journeys)["business.name"]["v"] == "Bakkerij Bol"


async def test_forget_after_confirmation_leaves_no_rows(
    harness: TelegramHarness, fake_telegram: FakeTelegram, database_url: str
) -> None:
    other = 777
    await begin(harness, user_id=other)
    sector_q = questions(await begin(harness))[-1]
    await harness.send(tap(sector_q, "bakery"))
    engine = create_engine(database_url)  # a plain reader, apart from the bot's connections
    tables = {t: {c["name"] for c in inspect(engine).get_columns(t)} for t in inspect(engine).get_table_names()}
    with engine.connect() as conn:
        owner_id = conn.execute(select(Owner.id).where(Owner.user_id == str(USER))).scalar_one()

    def owned_rows() -> dict[str, int]:
        counts: dict[str, int] = {}
        with engine.connect() as conn:
            journeys = [r[0] for r in conn.execute(text("select id from journeys where owner_id = :o"), {"o": owner_id})]
            for table, columns in tables.items():
                if table == "owners":
                    n = conn.execute(text("select count(*) from owners where id = :o"), {"o": owner_id}).scalar()
                elif "owner_id" in columns:
                    n = conn.execute(text(f"select count(*) from {table} where owner_id = :o"), {"o": owner_id}).scalar()
                elif "journey_id" in columns and journeys:
                    marks = ",".join(str(int(j)) for j in journeys)
                    n = conn.execute(text(f"select count(*) from {table} where journey_id in ({marks})")).scalar()
                else:
                    continue
                counts[table] = int(n or 0)
        return counts

    before = owned_rows()
    assert before["owners"] == 1 and before["answer_log"] == 2 and before["journeys"] == 1

    calls = await harness.send(command("forget"))
    confirm = questions(calls)[-1]
    still = owned_rows()
    assert {k: v for k, v in still.items() if k != "processed_events"} == {
        k: v for k, v in before.items() if k != "processed_events"
    }  # nothing deleted before the confirmation
    calls = await harness.send(tap(confirm, "yes"))
    said = [visible_text(t) for t in texts(calls)]
    assert prompts.say("en", "messages", "forget.done") in said
    assert all(n == 0 for n in owned_rows().values()), owned_rows()
    assert answers(harness.journeys, OwnerKey("telegram", "", str(other)))["business.name"]["v"] == "Bakkerij Bol"
    engine.dispose()


async def test_forget_can_be_declined(harness: TelegramHarness) -> None:
    await begin(harness)
    confirm = questions(await harness.send(command("forget")))[-1]
    calls = await harness.send(tap(confirm, "no"))
    assert prompts.say("en", "messages", "forget.kept") in [visible_text(t) for t in texts(calls)]
    assert answers(harness.journeys)["business.name"]["v"] == "Bakkerij Bol"


async def test_two_quick_updates_keep_their_order(harness: TelegramHarness, fake_telegram: FakeTelegram) -> None:
    await harness.send(command("start"))
    # Both are queued before the bot fetches them, so they arrive in one getUpdates batch.
    first = fake_telegram.push(private_text("Bakkerij Bol"))
    second = fake_telegram.push(private_text("Webshop"))
    third = fake_telegram.push(private_text("More leads"))
    for update_id in (first, second, third):
        await harness.wait_handled(update_id)
    got = answers(harness.journeys)
    assert got["business.name"]["v"] == "Bakkerij Bol"
    assert got["business.sector"]["v"] == "webshop"
    assert got["journey.goal"]["v"] == "leads"


async def test_summary_command_mid_interview(harness: TelegramHarness, fake_telegram: FakeTelegram) -> None:
    await begin(harness)
    calls = await harness.send(command("summary"))
    methods = [c.method for c in calls]
    assert "sendChatAction" in methods and "sendDocument" in methods and "sendPhoto" in methods
    assert methods.index("sendDocument") < methods.index("sendPhoto")
    assert step_of(questions(calls)[-1]) == "business.sector"  # and the interview carries on
    calls = await harness.send(command("export"))
    # /export is the map picture (a photo), the same map as a PDF to print, and the markdown to edit
    sent = [c for c in calls if c.method in ("sendDocument", "sendPhoto")]
    assert [c.method for c in sent] == ["sendPhoto", "sendDocument", "sendDocument"]
    assert [u.filename for c in sent for u in c.files.values()][1:] == ["journey-persona-map.pdf", "journey-persona.md"]
    assert next(iter(sent[1].files.values())).data.startswith(b"%PDF")
    assert prompts.say("en", "telegram", "map_caption") == sent[0].text


async def test_a_sticker_gets_the_question_again(harness: TelegramHarness) -> None:
    await harness.send(command("start"))
    update = private_text("x")
    del update["message"]["text"]
    update["message"]["sticker"] = {
        "file_id": "S1", "file_unique_id": "s1", "type": "regular", "width": 512, "height": 512,
        "is_animated": False, "is_video": False,
    }
    calls = await harness.send(update)
    assert any(prompts.say("en", "messages", "errors.required") in visible_text(t) for t in texts(calls))
    assert step_of(questions(calls)[-1]) == "business.name"


async def test_a_callback_too_old_to_answer_still_moves_on(harness: TelegramHarness, fake_telegram: FakeTelegram) -> None:
    sector_q = questions(await begin(harness))[-1]
    fake_telegram.fail_next("answerCallbackQuery", status=400)
    calls = await harness.send(tap(sector_q, "bakery"))
    assert step_of(questions(calls)[-1]) == "journey.goal"
    assert answers(harness.journeys)["business.sector"]["v"] == "bakery"


def _inaccessible(call) -> dict:
    """What Telegram sends for a tap on a message older than 48 hours: chat, id and date 0, no text."""
    return {"chat": call.result["chat"], "message_id": call.result["message_id"], "date": 0}


async def test_a_tap_on_an_inaccessible_message_is_answered_and_replied_to_with_new_messages(harness: TelegramHarness) -> None:
    from devkit.fakes.telegram_api import callback
    from tests.telegram_support import button

    sector_q = questions(await begin(harness))[-1]
    calls = await harness.send(callback(button(sector_q, "bakery"), _inaccessible(sector_q)))
    methods = [c.method for c in calls]
    assert "answerCallbackQuery" in methods
    assert not {"editMessageText", "editMessageReplyMarkup"} & set(methods)
    assert step_of(questions(calls)[-1]) == "journey.goal"
    assert answers(harness.journeys)["business.sector"]["v"] == "bakery"

    # tapped again (stale): the toast, then the stale notice and the current question as new messages
    calls = await harness.send(callback(button(sector_q, "webshop"), _inaccessible(sector_q)))
    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert answer.params.get("text") == prompts.say("en", "telegram", "stale_toast")
    assert not {"editMessageText", "editMessageReplyMarkup"} & {c.method for c in calls}
    assert any(prompts.say("en", "messages", "stale") in visible_text(t) for t in texts(calls))
    assert step_of(questions(calls)[-1]) == "journey.goal"
    assert all(c.status == 200 for c in calls)
