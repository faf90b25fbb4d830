"""Render the sample journey maps shown in the docs: the English webshop and the Dutch bakery.

    .venv/bin/python -m devkit.map_sample [OUT_DIR]      (default: docs)

writes OUT_DIR/map-sample-en.png and OUT_DIR/map-sample-nl.png. The report is built for a fixed
day, so the same code draws the same pictures.
"""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from bot.coach import build_report
from bot.journey_map import build_map
from bot.map_picture import render_png
from devkit.coach_cases import WEBSHOP_BUSINESS_EN, view_of
from devkit.scripts import BAKERY_BUSINESS_NL, Business

SAMPLE_DAY = date(2026, 12, 1)
SAMPLES = (("map-sample-en.png", WEBSHOP_BUSINESS_EN), ("map-sample-nl.png", BAKERY_BUSINESS_NL))


def sample_png(business: Business) -> bytes:
    view = view_of(business)
    return render_png(build_map(view, build_report(view, SAMPLE_DAY)))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "docs")
    out.mkdir(parents=True, exist_ok=True)
    for name, business in SAMPLES:
        path = out / name
        data = sample_png(business)
        path.write_bytes(data)
        print(f"{path}  {len(data) // 1024} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
