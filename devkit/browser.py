"""A real headless browser for tests: Debian's Chromium, driven through Playwright's Python API.

    browser = require_browser()          # in a test: skip (or fail under JOURNEYBOT_REQUIRE_BROWSER=1) without Chromium
    with chromium() as browser:          # one browser for several visits
        seen = visit(browser, "file:///tmp/page.html", viewport=(360, 740))
    seen = visit_html(html_text, viewport=(1280, 900))   # writes the page to a temporary file and opens it

A `Visit` holds what a page did while it loaded: console errors, uncaught page errors, dialogs it
opened (alert, confirm: dismissed), every request for anything but the page itself (data: and
about: URLs aside), a PNG screenshot and the text of its body. The executable is
$JOURNEYBOT_CHROMIUM, else /usr/bin/chromium; Playwright's own browser downloads are never used.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

DEFAULT_CHROMIUM = "/usr/bin/chromium"
REQUIRE_ENV = "JOURNEYBOT_REQUIRE_BROWSER"
PATH_ENV = "JOURNEYBOT_CHROMIUM"
IGNORED_SCHEMES = ("data:", "about:")


@dataclass
class Visit:
    url: str
    viewport: tuple[int, int]
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)  # "alert: 1"
    requests: list[str] = field(default_factory=list)  # URLs other than the page's own
    screenshot: bytes = b""  # PNG
    text: str = ""  # page.inner_text("body")
    values: list[Any] = field(default_factory=list)  # results of `evaluate`, in order
    pdf: bytes = b""  # when asked for: the page printed with its own @page size

    @property
    def problems(self) -> list[str]:
        """Everything that should not happen on a self-contained page, for one readable assertion."""
        return (
            [f"console error: {m}" for m in self.console_errors]
            + [f"page error: {m}" for m in self.page_errors]
            + [f"dialog: {m}" for m in self.dialogs]
            + [f"request: {u}" for u in self.requests]
        )


def chromium_path() -> str:
    return os.environ.get(PATH_ENV) or DEFAULT_CHROMIUM


def browser_missing() -> str | None:
    """Why no browser can be started here, or None when Chromium and Playwright are both present."""
    path = chromium_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)) and shutil.which(path) is None:
        return f"Chromium not found at {path} (set {PATH_ENV})"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"the playwright package is not installed: {exc}"
    return None


def require_browser() -> str:
    """For tests: the Chromium executable, or a skip with the reason (a failure when $JOURNEYBOT_REQUIRE_BROWSER=1)."""
    import pytest

    missing = browser_missing()
    if missing:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"a real browser is required ({REQUIRE_ENV}=1) but {missing}")
        pytest.skip(f"no real browser: {missing}")
    return chromium_path()


@contextmanager
def chromium(executable: str | None = None) -> Iterator[Any]:
    """A launched headless Chromium (a playwright Browser), closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable or chromium_path(), args=["--no-sandbox"], headless=True)
        try:
            yield browser
        finally:
            browser.close()


def visit(
    browser: Any | None,
    url: str,
    *,
    viewport: tuple[int, int] = (1280, 900),
    full_page: bool = True,
    media: str | None = None,
    evaluate: Sequence[str] = (),
    pdf: bool = False,
    timeout_ms: int = 30_000,
) -> Visit:
    """Open `url` (file:// or http://) in a fresh page of `browser` (None: launch one for this visit).

    `evaluate` holds JavaScript expressions run after the load, their results in Visit.values;
    `media="print"` emulates print CSS for everything but the PDF (always print); `pdf=True` also prints the page with its CSS page size."""
    if browser is None:
        with chromium() as own:
            return visit(own, url, viewport=viewport, full_page=full_page, media=media, evaluate=evaluate, pdf=pdf, timeout_ms=timeout_ms)
    seen = Visit(url=url, viewport=viewport)
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, device_scale_factor=1)
    try:
        page = context.new_page()
        page.set_default_timeout(timeout_ms)
        page.on("console", lambda msg: seen.console_errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: seen.page_errors.append(str(exc)))

        def on_dialog(dialog: Any) -> None:
            seen.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)

        def on_request(request: Any) -> None:
            target = request.url
            if target.split("#")[0] != url.split("#")[0] and not target.startswith(IGNORED_SCHEMES):
                seen.requests.append(target)

        page.on("request", on_request)
        if media is not None:
            page.emulate_media(media=media)  # type: ignore[arg-type]
        page.goto(url, wait_until="load")
        page.wait_for_load_state("networkidle")
        seen.values = [page.evaluate(expression) for expression in evaluate]
        seen.text = page.inner_text("body")
        seen.screenshot = page.screenshot(full_page=full_page, type="png")
        if pdf:
            page.emulate_media(media="print")
            seen.pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    finally:
        context.close()
    return seen


def visit_html(html: str, browser: Any | None = None, *, name: str = "page.html", **options: Any) -> Visit:
    """Write `html` to a file in a fresh temporary directory and `visit` it as file://."""
    with tempfile.TemporaryDirectory(prefix="journeybot-page-") as folder:
        path = Path(folder) / name
        path.write_text(html, encoding="utf-8")
        return visit(browser, path.as_uri(), **options)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, from its header."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
