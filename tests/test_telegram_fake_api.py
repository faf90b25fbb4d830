"""The fake Bot API server itself, driven by the real python-telegram-bot Bot."""
from __future__ import annotations

import time

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, RetryAfter
from telegram.ext import AIORateLimiter, ExtBot

from devkit.fakes.telegram_api import FakeTelegram, private_text
from devkit.fakes.telegram_fixtures import fake_telegram  # noqa: F401


async def test_bot_calls_are_served_and_recorded(fake_telegram: FakeTelegram) -> None:
    bot = Bot(fake_telegram.token, base_url=fake_telegram.base_url)
    async with bot:
        me = await bot.get_me()
        assert me.is_bot and me.username
        kb = InlineKeyboardMarkup([[InlineKeyboardButton("één", callback_data="a|x|1")]])
        msg = await bot.send_message(42, "5", reply_markup=kb)
        assert msg.message_id == 1 and msg.text == "5"
        edited = await bot.edit_message_text("done", chat_id=42, message_id=msg.message_id)
        assert edited.text == "done"
        assert "reply_markup" not in fake_telegram.message(42, 1)
        doc = await bot.send_document(42, document=b"# hi\n", filename="journey-x.md")
        assert doc.document.file_name == "journey-x.md"
        with pytest.raises(BadRequest):
            await bot.send_message(42, "x" * 4097)
        with pytest.raises(BadRequest):
            await bot.send_message(
                42, "x", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 33)]])
            )
    send = fake_telegram.sent(42)
    assert send[0].params["text"] == "5"  # a numeric text stays a string
    assert send[0].buttons()[0]["callback_data"] == "a|x|1"
    assert fake_telegram.uploads[0][1].data == b"# hi\n"


async def test_get_updates_long_polls_and_honours_offset(fake_telegram: FakeTelegram) -> None:
    bot = Bot(fake_telegram.token, base_url=fake_telegram.base_url)
    async with bot:
        t0 = time.monotonic()
        assert await bot.get_updates(timeout=0.3) == ()
        assert time.monotonic() - t0 >= 0.25
        first = fake_telegram.push(private_text("hello"))
        fake_telegram.push(private_text("again"))
        got = await bot.get_updates(timeout=1)
        assert [u.update_id for u in got] == [first, first + 1]
        got = await bot.get_updates(offset=first + 1, timeout=1)
        assert [u.message.text for u in got] == ["again"]
        assert await bot.get_updates(offset=first + 2, timeout=0) == ()


async def test_injected_429_is_raised_then_retried_by_the_rate_limiter(fake_telegram: FakeTelegram) -> None:
    fake_telegram.fail_next("sendMessage", retry_after=1)
    bot = Bot(fake_telegram.token, base_url=fake_telegram.base_url)
    async with bot:
        with pytest.raises(RetryAfter):
            await bot.send_message(1, "lost")
    fake_telegram.fail_next("sendMessage", retry_after=1)
    ext = ExtBot(fake_telegram.token, base_url=fake_telegram.base_url, rate_limiter=AIORateLimiter(max_retries=2))
    async with ext:
        await ext.send_message(1, "kept")
    assert [c.status for c in fake_telegram.calls if c.method == "sendMessage"] == [429, 429, 200]
    assert fake_telegram.sent(1)[-1].text == "kept"


async def test_html_parse_mode_is_checked_like_telegram(fake_telegram: FakeTelegram) -> None:
    bot = Bot(fake_telegram.token, base_url=fake_telegram.base_url)
    async with bot:
        await bot.send_message(1, "<b>ok</b> &amp; &lt;b&gt;", parse_mode="HTML")
        for bad in ("a & b", "<b>open", "x </a>", "<script>x</script>", "<b>x</i>"):
            with pytest.raises(BadRequest, match="parse entities"):
                await bot.send_message(1, bad, parse_mode="HTML")
        await bot.send_message(1, "a & b </a>")  # without parse mode anything goes


async def test_html_messages_are_stored_as_text_and_entities(fake_telegram: FakeTelegram) -> None:
    bot = Bot(fake_telegram.token, base_url=fake_telegram.base_url)
    async with bot:
        msg = await bot.send_message(1, "<i>head 😀</i>\nA &amp; <b>B</b> &lt;x&gt;", parse_mode="HTML")
    assert msg.text == "head 😀\nA & B <x>"
    assert [(e.type, e.offset, e.length) for e in msg.entities] == [("italic", 0, 7), ("bold", 12, 1)]
    assert msg.text_html == "<i>head 😀</i>\nA &amp; <b>B</b> &lt;x&gt;"
