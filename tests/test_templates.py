"""Sector templates load, validate and match in both languages."""
from __future__ import annotations

import prompts
from bot.flow import default_flow
from bot.templates import available_sectors, proposed_touchpoints, sector_template


def test_every_sector_has_a_template_in_both_languages():
    sectors = [s for s in default_flow().template("business.sector").options if s != "other"]
    for lang in prompts.LANGUAGES:
        assert available_sectors(lang) == sorted(sectors)
    for sector in sectors:
        en, nl = sector_template("en", sector), sector_template("nl", sector)
        assert en and nl and len(en) == len(nl), sector
        for stage_en, stage_nl in zip(en, nl):
            assert stage_en.name and stage_nl.name
            assert 1 <= len(stage_en.touchpoints) == len(stage_nl.touchpoints) <= 12
            assert all(0 < len(tp) <= 200 for tp in stage_en.touchpoints + stage_nl.touchpoints)


def test_unknown_sectors_have_no_template():
    assert sector_template("en", "other") is None
    assert sector_template("en", "Florist") is None
    assert sector_template("en", "../messages") is None


def test_touchpoints_are_found_by_stage_name_in_either_language():
    assert proposed_touchpoints("en", "webshop", "Delivery") == ["Track and trace", "Parcel at the door", "Unboxing"]
    # a stage named in Dutch, while the owner now speaks English
    assert proposed_touchpoints("en", "webshop", "levering") == ["Track and trace", "Parcel at the door", "Unboxing"]
    assert proposed_touchpoints("nl", "webshop", "Something else") is None
