"""Channels: where the persona looks and the journey is absent (a gap), where the business pays and the persona never looks (waste)."""
from __future__ import annotations

from bot.coach.context import Context, Spot

# Which touchpoint channels serve a channel the persona orients on.
PERSONA_TO_TOUCHPOINT = {
    "google": {"website", "ad", "review_site"},  # Google shows its reviews next to the search results
    "comparison": {"comparison_site"},
    "reviews": {"review_site"},
    "facebook": {"social", "ad"},
    "instagram": {"social", "ad"},
    "linkedin": {"social", "ad"},
    "youtube": {"social", "ad"},
    "tiktok": {"social", "ad"},
    "whatsapp": {"whatsapp"},
    "email": {"email"},
    "shop": {"shop", "in_person"},
}
# Channels a business pays for or spends time on, which only make sense where the persona looks.
# Review sites are left out: customers write there whatever you do, and reading them costs you nothing.
INVESTED = {
    "social": {"facebook", "instagram", "linkedin", "youtube", "tiktok"},
    "ad": {"google", "facebook", "instagram", "linkedin", "youtube", "tiktok"},
    "comparison_site": {"comparison"},
}


def persona_channels(ctx: Context) -> list[str]:
    f = ctx.field("persona.channels")
    if not f or not f.known or not isinstance(f.value, list):
        return []
    return [str(v) for v in f.value]


def channel_gaps(ctx: Context) -> tuple[list[str], list[Spot]]:
    """The persona's channels no touchpoint uses, and the first step of each channel the persona never uses."""
    looks = persona_channels(ctx)
    if not looks or not ctx.spots:
        return [], []
    used = {str(s.tp.channel.value) for s in ctx.spots if s.tp.channel.known}
    gaps = [c for c in looks if c in PERSONA_TO_TOUCHPOINT and not (PERSONA_TO_TOUCHPOINT[c] & used)]
    waste: list[Spot] = []
    flagged: set[str] = set()
    for spot in ctx.spots:
        value = str(spot.tp.channel.value) if spot.tp.channel.known else ""
        if value in INVESTED and value not in flagged and not (INVESTED[value] & set(looks)):
            waste.append(spot)
            flagged.add(value)
    return gaps, waste
