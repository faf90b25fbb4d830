"""Voice notes owners send, taken in the same way on every channel: which files are audio, what
their declared length and size are, and a capped download whose failures become the application
layer's VoiceRejected ("too_big" past the cap, "failed" otherwise), so the owner hears why.

The checks of the declared length and size, and the transcription, are the application layer's
(app/voice.py, `Journeys.hear`); the streaming and the cap are handlers.kit.intake's."""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Mapping

from app.voice import VoiceNote, VoiceRejected
from handlers.kit.intake import FileRejected, FileTooLarge, declared_size, looks_like_html

log = logging.getLogger(__name__)

# what a file host may call a voice note it hands out (a Slack clip can be an mp4 "video"); no type at all is taken too
AUDIO_TYPES = frozenset(
    {
        "audio/ogg", "audio/opus", "audio/mpeg", "audio/mp3", "audio/mp4", "audio/m4a", "audio/x-m4a", "audio/aac",
        "audio/webm", "audio/wav", "audio/x-wav", "audio/wave", "audio/flac", "audio/x-flac", "audio/amr", "audio/3gpp",
        "video/mp4", "video/webm", "video/ogg", "application/ogg", "application/octet-stream", "binary/octet-stream",
    }
)  # fmt: skip
AUDIO_FILETYPES = frozenset({"ogg", "oga", "opus", "mp3", "m4a", "mp4a", "aac", "webm", "wav", "flac", "amr"})


def is_audio(file: Mapping[str, Any]) -> bool:
    """Whether a shared file (a Slack file object) is a voice note or another audio file."""
    mime = str(file.get("mimetype") or "").split(";")[0].strip().lower()
    return file.get("subtype") == "slack_audio" or mime.startswith("audio/") or str(file.get("filetype") or "").lower() in AUDIO_FILETYPES


def slack_note(file: Mapping[str, Any]) -> VoiceNote:
    """What a Slack file object declares: its name, type, length (`duration_ms`) and size."""
    millis = declared_size(file.get("duration_ms"))
    return VoiceNote(
        name=str(file.get("name") or ""),
        mime=str(file.get("mimetype") or "") or None,
        seconds=millis / 1000 if millis is not None else None,
        size=declared_size(file.get("size")),
    )


async def capped(download: Awaitable[bytes], *, errors: tuple[type[BaseException], ...] = ()) -> bytes:
    """The bytes `download` (a streamed download that stops at the cap) returns; VoiceRejected when
    it went past the cap, was refused, is a web page, or failed with one of `errors` (the adapter's
    library's network errors). Nothing of the note is logged but why."""
    try:
        data = await download
    except FileTooLarge:
        raise VoiceRejected("too_big") from None
    except FileRejected as exc:
        log.info("voice note not downloaded: %s", exc.reason)
        raise VoiceRejected("failed") from None
    except (TimeoutError, OSError) as exc:
        log.warning("voice note download failed: %s", type(exc).__name__)
        raise VoiceRejected("failed") from None
    except errors as exc:
        log.warning("voice note download failed: %s", type(exc).__name__)
        raise VoiceRejected("failed") from None
    if looks_like_html(data):  # a login page, whatever type it was sent as
        log.info("voice note not downloaded: the file host answered with a web page")
        raise VoiceRejected("failed")
    return data
