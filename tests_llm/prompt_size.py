"""The writer's prompt for a big journey (6 stages of 4 touchpoints, every answer given), measured with
the SmolLM2 tokenizer from the GGUF file (llama_cpp, vocabulary only) and the model's own chat template."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.coach import build_report
from bot.flow import stage_key, stage_slugs, touchpoint_key
from bot.journey import JourneyView, build_view
from bot.llm_reply import reply_schema
from bot.llm_writer import MODES, build_messages
from devkit.llm_support import TODAY, bakery_answers, ok

STAGES = {
    "en": ["Awareness", "Consideration", "Purchase", "Delivery", "Loyalty", "Advocacy"],
    "nl": ["Bewustwording", "Overweging", "Aankoop", "Levering", "Loyaliteit", "Aanbeveling"],
}
# (name, channel, feeling, pain, team) per touchpoint, four per stage
TOUCHPOINTS = {
    "en": [
        [("Instagram post", "social", 4, "photos look different from the real cakes", "marketing"), ("Friend's tip", "in_person", 5, "", "outside"),
         ("Google search", "ad", 3, "our shop is on page two", "marketing"), ("Wedding fair stand", "in_person", 4, "no way to leave contact details", "sales")],
        [("Google reviews", "review_site", 3, "two old complaints answered by nobody", "outside"), ("Website", "website", 2, "no prices online, slow on a phone", "tech"),
         ("Price list by e-mail", "email", 2, "arrives after two days", "sales"), ("Phone call", "phone", 3, "voicemail during opening hours", "service")],
        [("Tasting session", "shop", 5, "", "sales"), ("Quote", "email", 3, "the quote lists codes instead of cakes", "sales"),
         ("Deposit payment", "invoice", 2, "waits 20 minutes at the counter to pay", "finance"), ("Order confirmation", "email", 3, "no date or time in it", "service")],
        [("Reminder before the day", "email", 3, "sent only once, a week before", "service"), ("Delivery at venue", "courier", 3, "late by an hour once", "delivery"),
         ("Setting up the cake", "in_person", 4, "the florist was in the way", "delivery"), ("Final invoice", "invoice", 2, "extra costs nobody mentioned", "finance")],
        [("Thank-you e-mail", "email", 3, "generic text, wrong name once", "service"), ("Anniversary card", "in_person", 4, "", "marketing"),
         ("Loyalty discount", "shop", 3, "nobody knows it exists", "sales"), ("Newsletter", "email", 2, "too many mails about bread", "marketing")],
        [("Review request", "email", 2, "asked before the wedding took place", "marketing"), ("Photo shared online", "social", 4, "we never repost them", "marketing"),
         ("Referral to a friend", "whatsapp", 4, "no reward for the friend", "outside"), ("Wedding planner partnership", "comparison_site", 3, "planners get no samples", "sales")],
    ],
    "nl": [
        [("Instagram-post", "social", 4, "foto's lijken niet op de echte taarten", "marketing"), ("Tip van een vriendin", "in_person", 5, "", "outside"),
         ("Zoeken op Google", "ad", 3, "onze winkel staat op pagina twee", "marketing"), ("Stand op de trouwbeurs", "in_person", 4, "geen manier om gegevens achter te laten", "sales")],
        [("Google-reviews", "review_site", 3, "twee oude klachten die niemand beantwoordde", "outside"), ("Website", "website", 2, "geen prijzen online, traag op een telefoon", "tech"),
         ("Prijslijst per e-mail", "email", 2, "komt pas na twee dagen", "sales"), ("Telefoongesprek", "phone", 3, "voicemail tijdens openingstijden", "service")],
        [("Proefsessie", "shop", 5, "", "sales"), ("Offerte", "email", 3, "de offerte noemt codes in plaats van taarten", "sales"),
         ("Aanbetaling", "invoice", 2, "wacht 20 minuten aan de toonbank om te betalen", "finance"), ("Orderbevestiging", "email", 3, "er staat geen datum of tijd in", "service")],
        [("Herinnering vooraf", "email", 3, "maar één keer gestuurd, een week vooraf", "service"), ("Levering op locatie", "courier", 3, "een keer een uur te laat", "delivery"),
         ("Taart opbouwen", "in_person", 4, "de bloemist stond in de weg", "delivery"), ("Eindfactuur", "invoice", 2, "extra kosten die niemand noemde", "finance")],
        [("Bedankmail", "email", 3, "algemene tekst, een keer de verkeerde naam", "service"), ("Kaart bij de trouwdag", "in_person", 4, "", "marketing"),
         ("Vaste-klantkorting", "shop", 3, "niemand weet dat hij bestaat", "sales"), ("Nieuwsbrief", "email", 2, "te veel mails over brood", "marketing")],
        [("Reviewverzoek", "email", 2, "gevraagd voordat de bruiloft was", "marketing"), ("Foto online gedeeld", "social", 4, "we delen ze nooit opnieuw", "marketing"),
         ("Doorverwijzing naar een vriendin", "whatsapp", 4, "geen beloning voor de vriendin", "outside"), ("Samenwerking met weddingplanner", "comparison_site", 3, "planners krijgen geen proefstukjes", "sales")],
    ],
}
DELIGHTS = {"en": "a free cupcake for the groom", "nl": "een gratis cupcake voor de bruidegom"}


def journey_6x4(lang: str) -> JourneyView:
    """A complete bakery journey of 6 stages with 4 touchpoints each (24), every answer given."""
    answers: dict[str, Any] = {k: v for k, v in bakery_answers(lang).items() if not k.startswith("stage.")}
    stages = STAGES[lang]
    answers["journey.stages"] = ok(stages)
    for slug, tps in zip(stage_slugs(stages), TOUCHPOINTS[lang]):
        answers[stage_key(slug, "stage.touchpoints")] = ok([t[0] for t in tps])
        for i, (_name, channel, feeling, pain, team) in enumerate(tps, start=1):
            answers[touchpoint_key(slug, i, "touchpoint.channel")] = ok(channel)
            answers[touchpoint_key(slug, i, "touchpoint.feeling")] = ok(feeling)
            answers[touchpoint_key(slug, i, "touchpoint.pain")] = ok(pain) if pain else {"v": None, "s": "skipped"}
            answers[touchpoint_key(slug, i, "touchpoint.team")] = ok(team)
        answers[stage_key(slug, "stage.delights")] = ok(DELIGHTS[lang])
    view = build_view(answers, lang, journey_id=1)
    assert len(view.stages) == 6 and all(len(s.touchpoints) == 4 for s in view.stages), "the sample is not 6x4"
    return view


@lru_cache(maxsize=1)
def _vocab(model_path: str) -> Any:
    from llama_cpp import Llama

    return Llama(model_path=model_path, vocab_only=True, verbose=False)


def chat_template(model_path: str) -> str | None:
    return _vocab(model_path).metadata.get("tokenizer.chat_template")


def count_text(model_path: str, text: str) -> int:
    return len(_vocab(model_path).tokenize(text.encode("utf-8"), add_bos=False, special=False))


def count_messages(model_path: str, messages: list[dict[str, str]]) -> int:
    """Prompt tokens as the server counts them: the messages rendered with the GGUF's chat template
    (with the generation prompt), tokenized with special tokens."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    llama = _vocab(model_path)
    template = chat_template(model_path)
    if not template:  # no template in the file: the contents plus a few tokens per message
        return sum(count_text(model_path, m["content"]) + 4 for m in messages)
    eos = llama.detokenize([llama.token_eos()]).decode("utf-8", "replace")
    bos = llama.detokenize([llama.token_bos()]).decode("utf-8", "replace")
    prompt = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)(messages=messages).prompt
    return len(llama.tokenize(prompt.encode("utf-8"), add_bos=True, special=True))


@dataclass(frozen=True)
class PromptSize:
    lang: str
    mode: str
    chars: int
    tokens: int  # the rendered chat prompt, real tokenizer
    system_tokens: int
    user_tokens: int


def measure(model_path: Path, lang: str) -> tuple[list[PromptSize], int]:
    """The 6x24 prompt in every mode the writer can send, and the tokens of the reply's JSON schema
    (sent besides the prompt in json_schema mode, inside it in the other modes)."""
    view = journey_6x4(lang)
    coach = build_report(view, TODAY)
    sizes = []
    for mode in MODES:
        messages = build_messages(view, coach, mode)
        sizes.append(
            PromptSize(
                lang=lang,
                mode=mode,
                chars=sum(len(m["content"]) for m in messages),
                tokens=count_messages(str(model_path), messages),
                system_tokens=count_text(str(model_path), messages[0]["content"]),
                user_tokens=count_text(str(model_path), messages[-1]["content"]),
            )
        )
    schema_tokens = count_text(str(model_path), json.dumps(reply_schema(), ensure_ascii=False))
    return sizes, schema_tokens
