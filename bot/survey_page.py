"""The page customers answer the owner's survey on: HTML only, no I/O.

One short page per state: the form, the thank-you page, "this survey has ended", "not found", and
a refusal (too large, too many at once, try later). The business's name is the heading; nothing
else about the owner is shown. No JavaScript, no external requests: the CSS is inline and the faces
are inline SVG, so the page works under `default-src 'none'; style-src 'unsafe-inline'`. Every text
comes from prompts/<lang>/survey_page.yaml; everything the owner typed is escaped.

Form fields: one radio group per question, named `q.<key>` (a stage slug or `_overall`), values 1..5;
`comment` (at most MAX_COMMENT characters); `submission`, the one-time key made when the form was served.
"""
from __future__ import annotations

from html import escape
from typing import Mapping, Sequence

import prompts
from bot.survey import OVERALL, SurveyQuestion

FIELD_PREFIX = "q."
COMMENT = "comment"
SUBMISSION = "submission"
MAX_COMMENT = 1000
SCORES = (1, 2, 3, 4, 5)

# Mouths from a deep frown (1) to a broad smile (5), on a 32 x 32 face.
_MOUTHS = (
    "M10 23.5Q16 16.5 22 23.5",
    "M10.5 22.5Q16 19 21.5 22.5",
    "M10.5 21.5H21.5",
    "M10.5 20Q16 24 21.5 20",
    "M10 19Q16 27 22 19",
)

CSS = """
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;color-scheme:light}
body{margin:0;background:#f3f3f0;color:#1a1a1a;font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
main{max-width:34rem;margin:0 auto;padding:1rem .75rem 2rem}
h1{font-size:1.5rem;line-height:1.25;margin:.25rem 0 .5rem;overflow-wrap:anywhere}
h2{font-size:1.25rem;line-height:1.3;margin:1.25rem 0 .5rem}
p{margin:.5rem 0}
.privacy{font-size:.9375rem;color:#3d3d3d;border-left:4px solid #0b4f94;padding:.25rem 0 .25rem .625rem;margin:.75rem 0}
.intro{font-size:.9375rem;color:#3d3d3d}
fieldset{border:1px solid #8a8a8a;border-radius:.75rem;background:#fff;margin:0 0 1rem;padding:.75rem .5rem .625rem;min-width:0}
legend{float:left;width:100%;padding:0 .25rem;margin:0 0 .5rem;font-weight:600;overflow-wrap:anywhere}
legend .hint{display:block;font-weight:400;font-size:.875rem;color:#3d3d3d;margin-top:.125rem}
.scale{clear:both;position:relative;display:grid;grid-template-columns:repeat(5,minmax(0,1fr));gap:.375rem}
.scale input{position:absolute;top:0;left:0;width:1px;height:1px;margin:0;opacity:0}
.scale label{display:flex;flex-direction:column;align-items:center;justify-content:center;gap:.125rem;min-height:3.75rem;padding:.375rem 0;border:2px solid #767676;border-radius:.625rem;background:#fff;color:#1a1a1a;cursor:pointer;font-weight:700;line-height:1}
.scale svg{width:1.875rem;height:1.875rem;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round}
.scale svg .eye{fill:currentColor;stroke:none}
.scale label:hover{border-color:#0b4f94}
.scale input:checked+label{background:#0b4f94;border-color:#0b4f94;color:#fff}
.scale input:focus-visible+label{outline:3px solid #1a1a1a;outline-offset:2px}
.ends{clear:both;display:flex;justify-content:space-between;gap:1rem;font-size:.8125rem;color:#3d3d3d;margin:.375rem .125rem 0}
.sr{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
.comment label{display:block;font-weight:600;margin:0 0 .375rem}
.comment .hint{font-size:.875rem;color:#3d3d3d;margin:.25rem 0 0}
textarea{display:block;width:100%;min-height:7rem;padding:.625rem;border:2px solid #767676;border-radius:.5rem;font:inherit;font-size:1rem;color:#1a1a1a;background:#fff;resize:vertical}
textarea:focus-visible{outline:3px solid #1a1a1a;outline-offset:2px;border-color:#0b4f94}
button{display:block;width:100%;min-height:3.25rem;margin:1.25rem 0 0;padding:.75rem 1rem;border:0;border-radius:.625rem;background:#0b4f94;color:#fff;font:inherit;font-weight:700;cursor:pointer}
button:hover{background:#083d73}
button:focus-visible{outline:3px solid #1a1a1a;outline-offset:3px}
.error{background:#fdeceb;border:2px solid #a4221b;border-radius:.625rem;color:#1a1a1a;padding:.625rem .75rem;margin:.75rem 0 1rem}
.error strong{display:block;color:#8f1d17}
.message{background:#fff;border:1px solid #8a8a8a;border-radius:.75rem;padding:.75rem 1rem;margin:1rem 0}
.message h2{margin-top:.25rem}
"""


def field_name(key: str) -> str:
    """The form field of one question (a stage slug, or `_overall`)."""
    return FIELD_PREFIX + key


def page_language(accept_language: str | None, fallback: str | None) -> str:
    """The customer's browser language when it is Dutch or English (the one they rank highest of the
    two, by `q`), else the journey's language (`fallback`), else English."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate((accept_language or "").split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().replace("_", "-").split("-")[0]
        if primary not in prompts.LANGUAGES:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        candidate = (-q, position, primary)
        if best is None or candidate < best:
            best = candidate
    if best is not None:
        return best[2]
    return fallback if fallback in prompts.LANGUAGES else prompts.DEFAULT_LANGUAGE


def _texts(lang: str) -> Mapping[str, object]:
    return prompts.load(lang, "survey_page")


def _say(lang: str, key: str, **values: str) -> str:
    return prompts.say(lang, "survey_page", key, **values)


def _business(lang: str, business: str) -> str:
    return business.strip() or _say(lang, "business_fallback")


def _document(lang: str, title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n<meta name="robots" content="noindex, nofollow">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _header(lang: str, business: str) -> str:
    heading = business.strip() or _say(lang, "title_plain")
    return f"<h1>{escape(heading)}</h1>"


def _face(score: int) -> str:
    return (
        '<svg viewBox="0 0 32 32" aria-hidden="true" focusable="false">'
        '<circle cx="16" cy="16" r="13.5"/><circle class="eye" cx="11.5" cy="13" r="1.8"/>'
        f'<circle class="eye" cx="20.5" cy="13" r="1.8"/><path d="{_MOUTHS[score - 1]}"/></svg>'
    )


def _legend(lang: str, question: SurveyQuestion, business: str) -> str:
    if question.key == OVERALL:
        return escape(_say(lang, "overall", business=business))
    text = question.text or _say(lang, "stage_only", stage=question.stage)
    if question.example and question.example not in text:
        hint = _say(lang, "example", stage=question.stage, touchpoint=question.example)
    else:
        hint = _say(lang, "stage_only", stage=question.stage)
    return f'{escape(text)}<span class="hint">{escape(hint)}</span>'


def _fieldset(lang: str, number: int, question: SurveyQuestion, business: str, chosen: int | None) -> str:
    labels = list(_texts(lang)["scale"])  # type: ignore[call-overload]
    name = escape(field_name(question.key))
    options = []
    for score in SCORES:
        ident = f"q{number}-{score}"
        checked = " checked" if chosen == score else ""
        options.append(
            f'<input type="radio" id="{ident}" name="{name}" value="{score}"{checked}>'
            f'<label for="{ident}">{_face(score)}<span>{score}</span><span class="sr"> {escape(str(labels[score - 1]))}</span></label>'
        )
    low, high = escape(_say(lang, "scale_low")), escape(_say(lang, "scale_high"))
    return (
        f"<fieldset>\n<legend>{_legend(lang, question, business)}</legend>\n"
        f'<div class="scale">\n' + "\n".join(options) + "\n</div>\n"
        f'<div class="ends" aria-hidden="true"><span>\u2639 1 {low}</span><span>{high} 5 \u263a</span></div>\n'
        "</fieldset>"
    )


def render_form(
    lang: str,
    business: str,
    questions: Sequence[SurveyQuestion],
    submission: str,
    *,
    error: str | None = None,
    chosen: Mapping[str, int] | None = None,
    comment: str = "",
) -> str:
    """The survey: one fieldset per question, the comment, the one-time `submission` key, a send
    button. `error` (a key of `errors` in survey_page.yaml) is shown above the form, with the
    customer's `chosen` scores and `comment` kept."""
    name = _business(lang, business)
    chosen = chosen or {}
    parts = [_header(lang, business), f'<p class="privacy">{escape(_say(lang, "privacy", business=name))}</p>']
    if error:
        parts.append(
            f'<div class="error" role="alert"><strong>{escape(_say(lang, "errors.heading"))}</strong>'
            f"{escape(_say(lang, f'errors.{error}'))}</div>"
        )
    parts.append(f'<p class="intro">{escape(_say(lang, "intro"))}</p>')
    parts.append('<form method="post" accept-charset="utf-8">')
    parts += [_fieldset(lang, n, q, name, chosen.get(q.key)) for n, q in enumerate(questions, start=1)]
    parts.append(
        '<div class="comment">'
        f'<label for="comment">{escape(_say(lang, "comment"))}</label>'
        f'<textarea id="comment" name="{COMMENT}" maxlength="{MAX_COMMENT}" rows="4" aria-describedby="comment-hint">{escape(comment[:MAX_COMMENT])}</textarea>'
        f'<p class="hint" id="comment-hint">{escape(_say(lang, "comment_hint"))}</p>'
        "</div>"
    )
    parts.append(f'<input type="hidden" name="{SUBMISSION}" value="{escape(submission)}">')
    parts.append(f'<button type="submit">{escape(_say(lang, "send"))}</button>')
    parts.append("</form>")
    return _document(lang, _say(lang, "title", business=name) if business.strip() else _say(lang, "title_plain"), "\n".join(parts))


def _message(lang: str, business: str, title_key: str, text_key: str) -> str:
    name = _business(lang, business)
    title = _say(lang, title_key)
    body = (
        f"{_header(lang, business)}\n"
        f'<div class="message" role="status"><h2>{escape(title)}</h2><p>{escape(_say(lang, text_key, business=name))}</p></div>'
    )
    heading = business.strip()
    return _document(lang, f"{heading}: {title}" if heading else title, body)


def render_thanks(lang: str, business: str) -> str:
    return _message(lang, business, "thanks_title", "thanks")


def render_closed(lang: str, business: str) -> str:
    return _message(lang, business, "closed_title", "closed")


def render_not_found(lang: str) -> str:
    """No business is known for an unknown link: the heading is the plain title."""
    return _message(lang, "", "not_found_title", "not_found")


REFUSALS = ("too_large", "too_many", "unavailable")


def render_refused(lang: str, business: str, reason: str) -> str:
    """A request that was not taken: `too_large` (413), `too_many` (429) or `unavailable` (503)."""
    if reason not in REFUSALS:
        raise ValueError(reason)
    return _message(lang, business, f"{reason}_title", reason)
