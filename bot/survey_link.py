"""The survey link an owner shares: its address and its QR code (a PNG to print for the counter)."""
from __future__ import annotations

import io

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"  # `journeybot web` on this machine: set JOURNEYBOT_PUBLIC_URL for customers
PATH = "/s/"


def survey_url(public_url: str | None, token: str) -> str:
    return (public_url or DEFAULT_PUBLIC_URL).rstrip("/") + PATH + token


def qr_png(url: str) -> bytes:
    import segno  # only when a QR code is drawn

    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=10, border=4)
    return out.getvalue()
