"""Sector templates: proposed stages and touchpoints per kind of business, as data files per language."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import prompts


@dataclass(frozen=True)
class StageTemplate:
    name: str
    touchpoints: tuple[str, ...]


@lru_cache(maxsize=None)
def sector_template(lang: str, sector: str) -> tuple[StageTemplate, ...] | None:
    """The template for `sector` in `lang`, or None when there is none (e.g. 'other' or free text)."""
    if not sector or not sector.replace("_", "").isalnum():
        return None
    path = resources.files(prompts.__name__).joinpath(lang, "templates", f"{sector}.yaml")
    if not path.is_file():
        return None
    raw = prompts.data(lang, "templates", f"{sector}.yaml")
    return tuple(StageTemplate(name=str(s["name"]), touchpoints=tuple(str(t) for t in s.get("touchpoints", ()))) for s in raw["stages"])


def available_sectors(lang: str) -> list[str]:
    folder = resources.files(prompts.__name__).joinpath(lang, "templates")
    return sorted(entry.name[: -len(".yaml")] for entry in folder.iterdir() if entry.name.endswith(".yaml"))


def proposed_touchpoints(lang: str, sector: str, stage_name: str) -> list[str] | None:
    """Touchpoints proposed for a stage, found by its name in either language's template."""
    wanted = stage_name.strip().casefold()
    for source_lang in (lang, *[code for code in prompts.LANGUAGES if code != lang]):
        template = sector_template(source_lang, sector)
        if not template:
            continue
        for index, stage in enumerate(template):
            if stage.name.casefold() == wanted:
                target = sector_template(lang, sector) or template
                return list(target[index].touchpoints) if index < len(target) else list(stage.touchpoints)
    return None
