"""Voice notes: the declared length and size checked before anything is downloaded, the audio of
that one note sent to an OpenAI-compatible `/audio/transcriptions` endpoint, and the reasons a
note cannot be used, each a message in the owner's language.

Switched on by OPENAI_TRANSCRIBE_MODEL (on OPENAI_BASE_URL, with OPENAI_API_KEY when the server
wants one); JOURNEYBOT_VOICE_MAX_SECONDS and JOURNEYBOT_VOICE_MAX_BYTES cap what is taken. The
transcript is never logged (only its length), nor the audio, nor the key. What the owner does with
the transcript is the engine's (bot/engine/heard.py): nothing is stored until they confirm it.
"""
from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from typing import Mapping

import prompts

log = logging.getLogger(__name__)

DEFAULT_MAX_SECONDS = 120.0
DEFAULT_MAX_BYTES = 5_000_000
TIMEOUT = 60.0  # seconds one transcription may take
RETRIES = 1  # one more try after a dropped connection, a timeout, a 429 or a 5xx; never a storm
# the formats OpenAI's endpoint knows, by the type the platform declares (it reads the format from the name)
EXTENSIONS = {
    "audio/ogg": "ogg", "audio/opus": "ogg", "application/ogg": "ogg", "video/ogg": "ogg",
    "audio/mpeg": "mp3", "audio/mp3": "mp3",
    "audio/mp4": "m4a", "audio/m4a": "m4a", "audio/x-m4a": "m4a", "audio/aac": "m4a", "video/mp4": "mp4",
    "audio/webm": "webm", "video/webm": "webm",
    "audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav",
    "audio/flac": "flac", "audio/x-flac": "flac",
}  # fmt: skip
KNOWN_EXTENSIONS = frozenset({"flac", "mp3", "mp4", "mpeg", "mpga", "m4a", "ogg", "wav", "webm"})
_MARKERS = re.compile(r"\[[^\[\]]{0,40}\]")  # [BLANK_AUDIO], [Music]: what local Whisper servers write for no speech


@dataclass(frozen=True)
class VoiceNote:
    """What the platform declares about a voice note, before anything is downloaded."""

    name: str  # the file name the platform gives, if any ("" for a Telegram voice message)
    mime: str | None
    seconds: float | None  # None: not declared
    size: int | None  # bytes; None: not declared (the download is capped all the same)


class VoiceRejected(Exception):
    """A voice note that is not used; `reason` names the message (messages.yaml `voice.*`):
    switched_off, too_long, too_big, no_words or failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class VoiceSettings:
    model: str
    base_url: str | None = None
    api_key: str | None = None
    max_seconds: float = DEFAULT_MAX_SECONDS
    max_bytes: int = DEFAULT_MAX_BYTES
    timeout: float = TIMEOUT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "VoiceSettings | None":
        """The settings, or None when OPENAI_TRANSCRIBE_MODEL is not set (voice notes are off).
        The values were checked at start-up (app/settings.py); a bad one here falls back to its default."""
        env = os.environ if env is None else env
        model = (env.get("OPENAI_TRANSCRIBE_MODEL") or "").strip()
        if not model:
            return None
        return cls(
            model=model,
            base_url=(env.get("OPENAI_BASE_URL") or "").strip() or None,
            api_key=(env.get("OPENAI_API_KEY") or "").strip() or None,
            max_seconds=_positive(env.get("JOURNEYBOT_VOICE_MAX_SECONDS"), DEFAULT_MAX_SECONDS),
            max_bytes=int(_positive(env.get("JOURNEYBOT_VOICE_MAX_BYTES"), DEFAULT_MAX_BYTES)),
        )


def _positive(raw: str | None, default: float) -> float:
    try:
        value = float((raw or "").strip())
    except ValueError:
        return default
    return value if value > 0 else default


class Voice:
    """Checks and transcribes voice notes with the settings it was made with."""

    def __init__(self, settings: VoiceSettings) -> None:
        self.settings = settings

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Voice | None":
        settings = VoiceSettings.from_env(env)
        return cls(settings) if settings is not None else None

    @property
    def max_bytes(self) -> int:
        return self.settings.max_bytes

    def check(self, note: VoiceNote) -> None:
        """Before any download: VoiceRejected when the declared length or size is over the limit."""
        if note.seconds is not None and note.seconds > self.settings.max_seconds:
            raise VoiceRejected("too_long")
        if note.size is not None and note.size > self.settings.max_bytes:
            raise VoiceRejected("too_big")

    async def transcribe(self, audio: bytes, note: VoiceNote, lang: str) -> str:
        """The words of the note, in the owner's language `lang`; VoiceRejected("no_words") for
        silence or sounds, VoiceRejected("failed") when the server cannot be reached or refuses."""
        import openai  # loaded with the first voice note, not at start-up

        if len(audio) > self.settings.max_bytes:
            raise VoiceRejected("too_big")
        if not audio:
            raise VoiceRejected("no_words")
        settings = self.settings
        try:
            async with openai.AsyncOpenAI(
                base_url=settings.base_url, api_key=settings.api_key or "no-key", max_retries=RETRIES, timeout=settings.timeout
            ) as client:
                result = await client.audio.transcriptions.create(
                    model=settings.model, file=(upload_name(note), audio, note.mime or "application/octet-stream"), language=lang
                )
        except openai.APIStatusError as exc:
            log.warning("transcription refused: HTTP %s (%s)", exc.status_code, type(exc).__name__)
            raise VoiceRejected("failed") from None
        except openai.APIError as exc:  # connection refused, timeout, a body that is not a transcription
            log.warning("transcription failed: %s", type(exc).__name__)
            raise VoiceRejected("failed") from None
        text = words(result if isinstance(result, str) else getattr(result, "text", None))
        log.info("voice note transcribed: %d bytes, %d characters", len(audio), len(text))
        if not text:
            raise VoiceRejected("no_words")
        return text

    def message(self, lang: str, reason: str, note: VoiceNote | None = None) -> str:
        return message(lang, reason, note, self.settings)


def message(lang: str, reason: str, note: VoiceNote | None = None, settings: VoiceSettings | None = None) -> str:
    """The text for a voice note that is not used, with the limit it broke."""
    seconds = note.seconds if note is not None and note.seconds is not None else 0
    max_seconds = settings.max_seconds if settings is not None else DEFAULT_MAX_SECONDS
    max_bytes = settings.max_bytes if settings is not None else DEFAULT_MAX_BYTES
    values = {"seconds": f"{seconds:g}", "limit": f"{max_seconds:g}"} if reason == "too_long" else {"limit": megabytes(max_bytes)}
    return prompts.say(lang, "messages", f"voice.{reason}", **values)


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.3g} MB"


def words(text: object) -> str:
    """The transcript without the markers a server writes for silence or sounds; '' when no word is left."""
    if not isinstance(text, str):
        return ""
    cleaned = " ".join(_MARKERS.sub(" ", text).split())
    return cleaned if any(ch.isalnum() for ch in cleaned) else ""


def upload_name(note: VoiceNote) -> str:
    """A file name whose extension tells the server the format (Telegram's voice is Opus in Ogg,
    named .oga, which OpenAI's endpoint refuses by name)."""
    mime = (note.mime or "").split(";")[0].strip().lower()
    ext = note.name.rsplit(".", 1)[-1].lower() if "." in note.name else ""
    if ext == "oga" or ext == "opus":
        ext = "ogg"
    if ext not in KNOWN_EXTENSIONS:
        ext = EXTENSIONS.get(mime, "ogg")
    return f"voice.{ext}"
