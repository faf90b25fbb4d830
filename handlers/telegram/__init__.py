"""Telegram adapter: `journeybot telegram` (see handlers/telegram/app.py)."""
