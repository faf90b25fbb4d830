"""Scripted interviews: every line is what an owner would type, in order (the interview of flow
version 2: one rating line per stage, one team question, evidence and delights once)."""
from __future__ import annotations

BAKERY_NL = [
    "nl",
    "Bakkerij De Korenschoof",
    "1",  # bakery
    "Meer herhaalaankopen",
    "Een eerste taartbestelling voor een verjaardag",
    "Ambachtelijke taarten die er precies zo uitzien als beloofd",
    "We zijn niet de goedkoopste en niet open op zondag",
    "Feestende Fenna",
    "Moeder van twee, organiseert alle verjaardagen",
    "Een stressvrij kinderfeest met een taart waar iedereen over praat",
    "Weinig tijd, bang dat de taart niet op tijd klaar is",
    "Bestelt het liefst 's avonds op de bank via haar telefoon",
    "instagram, whatsapp, word_of_mouth, google",
    "Foto's van eerdere taarten en verhalen van andere moeders",
    "De uitnodigingen voor het feest zijn verstuurd",
    "interviews, gut",
    "behouden",  # the bakery's six stages
    "per_stage",  # who owns the steps: it differs per stage
    # Bewustwording: channels inferred (social, website); the pain typed after the ratings
    "Instagram-post van een vriendin, Zoeken op Google",
    "4 3 - Website laadt traag op mobiel",
    "marketing",
    # Overweging: a low point, so what goes wrong is asked
    "Reviews lezen, Vragen via WhatsApp",
    "3 2",
    "Pas na twee dagen antwoord op WhatsApp",
    "service",
    # Bestellen
    "Bestellen in de winkel",
    "4",
    "sales",
    # Ophalen en proeven
    "Taart ophalen",
    "2",
    "Rij van twintig minuten op zaterdag",
    "delivery",
    # Terugkomen: no channel in the name, so it is asked
    "Geen contact na het feest",
    "1",
    "We horen nooit hoe het feest was",
    "weet ik niet",
    "weet ik niet",
    # Aanbevelen
    "Foto delen in de groepsapp",
    "3",
    "outside",
    "interviews, gut",  # where the feelings come from
    "Taartfoto's op Instagram",  # what already delights
    "monthly",
]

B2B_EN = [
    "en",
    "Northwind IT Advisory",
    "b2b",
    "leads",
    "Signing a first managed-security contract",
    "A senior consultant who answers the phone within the hour",
    "We do not compete on price with offshore helpdesks",
    "Careful Carl",
    "Operations manager at a 40-person logistics firm",
    "Keep the systems running without hiring an IT team",
    "Afraid of ransomware, burned by a previous supplier",
    "Reads industry newsletters, decides with the CFO",
    "linkedin, email, comparison",
    "Certifications and a reference call with a similar company",
    "A competitor was hit by ransomware last month",
    "data",
    "Discovery, Proposal, Onboarding, Partnership",
    "per_stage",
    # Discovery
    "LinkedIn article, Webinar",
    "4 3 - Registration form asks too much",
    "marketing",
    # Proposal: "Written proposal" names no channel, so it is asked
    "Sales call, Written proposal",
    "4 2",
    "Proposal takes 3 weeks to arrive",
    "sales",
    "email",
    # Onboarding
    "Kick-off meeting, Account migration",
    "5 2",
    "Passwords reset without warning",
    "service",
    "website",
    # Partnership
    "Quarterly meeting",
    "3 - Report is a generic PDF",
    "service",
    "data, gut",
    "The security scan we run for free",
    "quarterly",
]


# -- Businesses as answer policies ---------------------------------------------------------------
# The lists above are fixed lines for one version of the interview. The businesses below are data
# plus a policy: given the question on screen (a JSONL question line: step, kind, choices, data,
# text) the owner answers it from the business's facts, so the same business can be driven through
# whatever the interview asks: per-touchpoint questions (channel, feeling, pain, team), one rating
# line per stage (`ratings`), one team question for the journey (`journey.team`), one pains question
# per stage (`stage.pains`), evidence and delights per stage or once for the journey.

import re  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any, Callable, Mapping  # noqa: E402

Question = Mapping[str, Any]
Policy = Callable[[Question], str]


@dataclass(frozen=True)
class Touchpoint:
    name: str
    channel: str  # a touchpoint.channel option of prompts/flow.yaml
    feeling: int  # 1..5
    team: str  # a touchpoint.team option of prompts/flow.yaml (who does it when asked per touchpoint)
    pain: str = ""


@dataclass(frozen=True)
class Stage:
    name: str
    touchpoints: tuple[Touchpoint, ...]
    evidence: tuple[str, ...]  # interviews, data, gut
    team: str = ""  # the stage's owner when the team is asked per stage (default: its most common team)
    delight: str = ""

    @property
    def stage_team(self) -> str:
        if self.team:
            return self.team
        teams = [tp.team for tp in self.touchpoints]
        return max(teams, key=teams.count)

    @property
    def pains(self) -> str:
        """What goes wrong in this stage, in one message ("" when nothing does)."""
        return " ".join(p if p.endswith((".", "!", "?")) else p + "." for p in (tp.pain for tp in self.touchpoints) if p)


@dataclass(frozen=True)
class Business:
    key: str
    lang: str  # nl | en
    name: str
    sector: str  # a business.sector option, or the owner's own words
    goal: str  # a journey.goal option
    process: str
    promise: str
    sacrifice: str
    persona: Mapping[str, str]  # name, role, goals, pains, behaviour, trust, trigger
    persona_channels: tuple[str, ...]
    persona_source: tuple[str, ...]
    stages: tuple[Stage, ...]
    team: str  # journey.team: owner | marketing | sales | service | delivery | per_stage
    evidence: tuple[str, ...]  # journey.evidence: where the feelings come from, for all stages at once
    delight: str  # journey.delights: what already pleases customers, naming the stage
    review: str  # journey.review option
    keep_stages: bool = False  # the sector template proposes exactly these stages: keep them

    @property
    def touchpoint_count(self) -> int:
        return sum(len(s.touchpoints) for s in self.stages)


BAKERY_BUSINESS_NL = Business(
    key="bakery-nl",
    lang="nl",
    name="Bakkerij Van der Meulen",
    sector="bakery",
    goal="repeat",
    process="Een verjaardagstaart op bestelling, van eerste zoektocht tot het feest",
    promise="Taarten op maat die er precies zo uitzien als op de foto en op tijd klaarstaan",
    sacrifice="We zijn zondag dicht en we bezorgen niet; daardoor kunnen we alles zelf vers bakken",
    persona={
        "name": "Regelende Roos",
        "role": "Moeder van drie, werkt als verpleegkundige in wisseldiensten",
        "goals": "Een verjaardagstaart die past bij het thema van het feest, zonder dat ze er zelf achteraan hoeft te bellen",
        "pains": "Weinig tijd door haar diensten en bang dat de taart op het laatste moment niet klaar is of anders uitvalt",
        "behaviour": "Regelt alles 's avonds laat op haar telefoon en haalt op zaterdagochtend op, met de kinderen in de auto",
        "trust": "Foto's van echte taarten van andere ouders en een snel, persoonlijk antwoord op haar vraag",
        "trigger": "De uitnodigingen voor het kinderfeest zijn net de deur uit en het thema staat vast",
    },
    persona_channels=("instagram", "google", "reviews", "whatsapp", "word_of_mouth"),
    persona_source=("interviews", "gut"),
    stages=(
        Stage("Bewustwording", (
            Touchpoint("Instagram-post van een vriendin", "social", 4, "marketing"),
            Touchpoint("Zoeken op Google Maps", "website", 3, "marketing"),
            Touchpoint("Etalage bij het langslopen", "shop", 4, "design"),
        ), ("interviews",), delight="Mensen blijven staan voor de taarten in de etalage"),
        Stage("Overweging", (
            Touchpoint("Google-reviews lezen", "review_site", 4, "outside"),
            Touchpoint("Taartenpagina op de website", "website", 2, "tech", "Op de website staan geen prijzen en de pagina laadt traag op mobiel"),
            Touchpoint("Vraag stellen via WhatsApp", "whatsapp", 2, "service", "Op WhatsApp antwoorden we soms pas na twee dagen, omdat we in de bakkerij staan"),
        ), ("interviews", "data")),
        Stage("Bestellen", (
            Touchpoint("Taart bestellen aan de toonbank", "shop", 4, "sales"),
            Touchpoint("Aanbetaling en bevestigingsmail", "email", 3, "finance", "De bevestigingsmail is kaal: geen foto van het ontwerp en geen ophaaltijd"),
        ), ("gut",)),
        Stage("Ophalen en proeven", (
            Touchpoint("Taart ophalen op zaterdag", "shop", 2, "delivery", "Zaterdagochtend staat er een rij van twintig minuten en er is geen aparte balie voor bestellingen"),
            Touchpoint("Taart aansnijden op het feest", "in_person", 5, "outside"),
        ), ("interviews",), delight="De kinderen zien hun eigen taart voor het eerst en iedereen maakt foto's"),
        Stage("Terugkomen", (
            Touchpoint("Bedankkaartje in de taartdoos", "in_person", 4, "design"),
            Touchpoint("Nieuwsbrief met seizoenstaarten", "email", 3, "marketing", "De nieuwsbrief gaat maar twee keer per jaar de deur uit"),
        ), ("gut",)),
        Stage("Aanbevelen", (
            Touchpoint("Foto delen in de groepsapp van school", "whatsapp", 5, "outside"),
            Touchpoint("Google-review schrijven", "review_site", 2, "marketing", "We vragen nooit om een review, dus bijna niemand schrijft er een"),
        ), ("gut", "data")),
    ),
    team="owner",
    evidence=("interviews", "gut"),
    delight="Bij het aansnijden op het feest: de taart ziet er precies zo uit als beloofd en de kinderen zijn door het dolle heen",
    review="monthly",
    keep_stages=True,
)

PHYSIO_BUSINESS_EN = Business(
    key="physio-en",
    lang="en",
    name="Riverside Physiotherapy",
    sector="Physiotherapy practice",
    goal="leads",
    process="A first course of treatment for lower back pain, from searching to the last session",
    promise="Seen within two working days, by the same physio every time, with a plan you can follow at home",
    sacrifice="No evening appointments and we are not the cheapest practice in town",
    persona={
        "name": "Desk-bound Dave",
        "role": "Software developer in his forties with recurring lower back pain",
        "goals": "Get through a working day at his desk and a weekend of cycling without pain",
        "pains": "Tried exercises from YouTube that did not help and worries that physio never ends and is not covered by his insurance",
        "behaviour": "Books everything online in his lunch break and reads reviews carefully before he decides",
        "trust": "A clear explanation of what is wrong, a named physio and honest advice on how many sessions he will need",
        "trigger": "His back locked up after a weekend of moving house and his GP told him to see a physio",
    },
    persona_channels=("google", "reviews", "word_of_mouth", "youtube"),
    persona_source=("interviews", "data"),
    stages=(
        Stage("Searching", (
            Touchpoint("Google search for a back pain physio", "website", 3, "marketing"),
            Touchpoint("Reading Google reviews", "review_site", 4, "outside"),
            Touchpoint("GP referral letter", "in_person", 4, "outside"),
        ), ("data",), team="marketing"),
        Stage("Booking", (
            Touchpoint("Online booking page", "website", 2, "tech", "The booking page only shows slots two weeks ahead and does not say which physio you get"),
            Touchpoint("Phone call to reception", "phone", 3, "service", "Reception is often engaged between 8 and 9 in the morning"),
            Touchpoint("Confirmation email with intake form", "email", 3, "service"),
        ), ("data", "interviews"), team="service"),
        Stage("First appointment", (
            Touchpoint("Finding the practice and parking", "in_person", 2, "outside", "There is no parking at the door and the entrance is hard to find"),
            Touchpoint("Waiting room", "in_person", 3, "service"),
            Touchpoint("Assessment with the physio", "in_person", 5, "delivery"),
        ), ("interviews",), team="delivery", delight="Patients say it is the first time anyone explained their back to them"),
        Stage("Treatment", (
            Touchpoint("Treatment sessions", "in_person", 4, "delivery"),
            Touchpoint("Exercise app at home", "website", 2, "tech", "The exercise app asks for a new login every week, so patients give up"),
            Touchpoint("Invoice and insurance claim", "invoice", 1, "finance", "The invoice arrives weeks later and nobody explains what the insurer pays"),
        ), ("interviews", "data"), team="delivery"),
        Stage("Follow-up", (
            Touchpoint("Check-in email after the last session", "email", 3, "service"),
            Touchpoint("Review request", "email", 2, "marketing", "The review request goes out before the treatment has even finished"),
        ), ("gut",), team="service"),
    ),
    team="per_stage",
    evidence=("interviews", "data"),
    delight="At the first appointment: patients say it is the first time anyone explained their back to them",
    review="quarterly",
)

INSTALLER_BUSINESS_NL = Business(
    key="b2b-nl",
    lang="nl",
    name="Klimaatwerk Installatietechniek B.V.",
    sector="b2b",
    goal="repeat",
    process="Een onderhoudscontract voor de klimaatinstallatie van een kantoorpand",
    promise="Bij een storing binnen vier uur een monteur op locatie, en één vast aanspreekpunt voor alles",
    sacrifice="We doen geen woningen en schrijven niet in op aanbestedingen die alleen op de laagste prijs gunnen",
    persona={
        "name": "Facilitair Frank",
        "role": "Facilitair manager van een kantoorpand met driehonderd werkplekken",
        "goals": "Geen klachten over de temperatuur en een installatie die aan de regels voldoet, binnen het budget",
        "pains": "Klagende medewerkers als het te warm is, leveranciers die niet terugbellen en facturen die inkoop niet snapt",
        "behaviour": "Zijn week zit vol overleg; hij leest zijn mail vroeg in de ochtend en beslist samen met de directie en inkoop",
        "trust": "Referenties van vergelijkbare kantoorpanden en certificeringen zoals F-gassen en VCA",
        "trigger": "Het oude onderhoudscontract loopt af, of de koeling viel uit tijdens een hittegolf",
    },
    persona_channels=("linkedin", "google", "word_of_mouth", "email", "comparison"),
    persona_source=("data", "interviews"),
    stages=(
        Stage("Oriëntatie", (
            Touchpoint("LinkedIn-artikel over energielabel C", "social", 3, "marketing"),
            Touchpoint("Website met referenties", "website", 3, "marketing", "De referenties op de website zijn drie jaar oud"),
            Touchpoint("Tip van een collega-facilitair manager", "in_person", 4, "outside"),
        ), ("data",), team="marketing"),
        Stage("Offerte", (
            Touchpoint("Eerste belafspraak", "phone", 4, "sales"),
            Touchpoint("Schouw op locatie", "in_person", 5, "sales"),
            Touchpoint("Offerte per mail", "email", 2, "sales", "De offerte komt pas na drie weken en is veertig pagina's techniek"),
        ), ("interviews",), team="sales", delight="De monteur bij de schouw ziet meteen wat de vorige partij heeft laten liggen"),
        Stage("Contract", (
            Touchpoint("Onderhandeling met inkoop", "in_person", 3, "sales"),
            Touchpoint("Digitale handtekening", "website", 4, "finance"),
        ), ("gut",), team="sales"),
        Stage("Installatie en overdracht", (
            Touchpoint("Planning van de monteurs", "email", 2, "delivery", "Monteurs staan onaangekondigd voor de deur en de receptie weet van niets"),
            Touchpoint("Oplevering met logboek", "in_person", 4, "delivery"),
        ), ("interviews",), team="delivery"),
        Stage("Onderhoud", (
            Touchpoint("Storing melden bij de servicedesk", "phone", 2, "service", "Buiten kantoortijd krijg je bij de servicedesk alleen een voicemail"),
            Touchpoint("Monteur ter plaatse", "in_person", 5, "delivery"),
            Touchpoint("Onderhoudsrapport", "email", 3, "service"),
            Touchpoint("Factuur", "invoice", 1, "finance", "Op de factuur staat alleen een werkbonnummer, dus inkoop keurt hem niet goed"),
        ), ("data", "interviews"), team="service"),
        Stage("Verlenging", (
            Touchpoint("Jaarlijks evaluatiegesprek", "in_person", 4, "sales"),
        ), ("interviews",), team="sales"),
    ),
    team="per_stage",
    evidence=("data", "interviews"),
    delight="Bij de offerte: de monteur ziet bij de schouw meteen wat de vorige partij heeft laten liggen",
    review="quarterly",
)

BUSINESSES = (BAKERY_BUSINESS_NL, PHYSIO_BUSINESS_EN, INSTALLER_BUSINESS_NL)

STAGE_STEP = re.compile(r"^stage\.(?P<slug>[^.]+)\.(?:tp(?P<tp>\d+)\.)?(?P<field>[a-z_]+)$")
KEEP_WORD = {"nl": "behouden", "en": "keep"}
SKIP = "/skip"


class UnknownQuestion(LookupError):
    """A question the business has no answer for (a new step the policy does not know)."""


class Owner:
    """The answer policy of one business: `owner(question)` is the owner's next input line.

    Choices are answered by their number in the list on screen (as an owner types in the terminal),
    or by the owner's own words where the list lacks them. `inline_pains=True` adds a stage's pain
    to its rating line ("4 3 2 - ..."), which the ratings question accepts.
    """

    def __init__(self, business: Business, *, inline_pains: bool = False) -> None:
        self.business = business
        self.inline_pains = inline_pains
        self.pains_given: set[int] = set()

    def __call__(self, question: Question) -> str:
        b = self.business
        step = str(question.get("step") or "")
        kind = question.get("kind")
        persona = b.persona
        simple: dict[str, str] = {
            "business.name": b.name,
            "journey.process": b.process,
            "concept.promise": b.promise,
            "concept.sacrifice": b.sacrifice or SKIP,
            "journey.delights": b.delight or SKIP,
            **{f"persona.{k}": v for k, v in persona.items()},
        }
        if step == "meta.language":
            return b.lang
        if step in simple:
            return simple[step]
        if step == "business.sector":
            return pick(question, [b.sector])
        if step == "journey.goal":
            return pick(question, [b.goal])
        if step == "persona.channels":
            return pick(question, list(b.persona_channels))
        if step == "persona.source":
            return pick(question, list(b.persona_source))
        if step == "journey.team":
            return pick(question, [b.team], typed={"owner": "ik zelf" if b.lang == "nl" else "just me"})
        if step == "journey.evidence":
            return pick(question, list(b.evidence))
        if step == "journey.review":
            return pick(question, [b.review])
        if step == "journey.stages":
            if b.keep_stages and has_choice(question, "__keep__") and all(s.name in str(question.get("text", "")) for s in b.stages):
                return KEEP_WORD[b.lang]
            return ", ".join(s.name for s in b.stages)
        match = STAGE_STEP.match(step)
        if match:
            index = self.stage_index(match["slug"], question)
            stage = b.stages[index]
            if match["tp"]:
                return self.touchpoint(question, stage, int(match["tp"]), match["field"])
            return self.stage(question, index, stage, match["field"], kind)
        return fallback(question)

    def stage_index(self, slug: str, question: Question) -> int:
        from bot.flow import stage_slugs

        slugs = stage_slugs([s.name for s in self.business.stages])
        if slug in slugs:
            return slugs.index(slug)
        progress = question.get("progress") or {}
        position = int(progress.get("stage") or 0)
        if 1 <= position <= len(self.business.stages):
            return position - 1
        raise UnknownQuestion(f"no stage {slug!r} in {self.business.key}")

    def stage(self, question: Question, index: int, stage: Stage, field: str, kind: Any) -> str:
        if field == "touchpoints":
            return ", ".join(tp.name for tp in stage.touchpoints)
        if field == "ratings" or kind == "ratings":
            return self.ratings(question, index, stage)
        if field == "pains":
            if index in self.pains_given or not stage.pains:
                return SKIP
            self.pains_given.add(index)
            return stage.pains
        if field == "team":
            teams = {tp.team for tp in stage.touchpoints}
            if len(teams) > 1:  # the touchpoints of this stage have different owners, if the question allows saying so
                for value in ("per_touchpoint", "differs", "mixed", "per_tp"):
                    if has_choice(question, value):
                        return pick(question, [value])
            if index == 0 and ("one team per stage" in str(question.get("text", "")) or "één team per fase" in str(question.get("text", ""))):
                # the question takes every stage's team in one line
                return ", ".join(s.stage_team for s in self.business.stages)
            return pick(question, [stage.stage_team], typed={"owner": "ik zelf" if self.business.lang == "nl" else "just me"})
        if field == "evidence":
            return pick(question, list(stage.evidence))
        if field == "delights":
            return stage.delight or SKIP
        return fallback(question)

    def ratings(self, question: Question, index: int, stage: Stage) -> str:
        shown = (question.get("data") or {}).get("touchpoints") or [
            {"index": n, "name": tp.name} for n, tp in enumerate(stage.touchpoints, start=1)
        ]
        by_name = {tp.name.casefold(): tp for tp in stage.touchpoints}
        scores = []
        for position, item in enumerate(shown):
            tp = by_name.get(str(item.get("name", "")).casefold())
            if tp is None:
                n = int(item.get("index") or position + 1) - 1
                tp = stage.touchpoints[min(n, len(stage.touchpoints) - 1)]
            scores.append(str(tp.feeling))
        line = " ".join(scores)
        if self.inline_pains and stage.pains and index not in self.pains_given:
            self.pains_given.add(index)
            line += " - " + stage.pains
        return line

    def touchpoint(self, question: Question, stage: Stage, n: int, field: str) -> str:
        if not 1 <= n <= len(stage.touchpoints):
            raise UnknownQuestion(f"no touchpoint {n} in stage {stage.name!r}")
        tp = stage.touchpoints[n - 1]
        if field == "channel":
            return pick(question, [tp.channel])
        if field == "feeling":
            return str(tp.feeling)
        if field == "pain":
            return tp.pain or SKIP
        if field == "team":
            return pick(question, [tp.team])
        return fallback(question)


def owner_policy(business: Business, **options: Any) -> Policy:
    """A fresh policy for one interview of `business` (it remembers which pains it already told)."""
    return Owner(business, **options)


def options_of(question: Question) -> list[str]:
    return [str(c["value"]) for c in question.get("choices") or () if not str(c["value"]).startswith("__")]


def has_choice(question: Question, value: str) -> bool:
    return any(c["value"] == value for c in question.get("choices") or ())


def pick(question: Question, values: list[str], *, typed: Mapping[str, str] | None = None) -> str:
    """The numbers of `values` among the choices on screen; a value not offered is typed in words."""
    options = options_of(question)
    parts = []
    for value in values:
        if value in options:
            parts.append(str(options.index(value) + 1))
        else:
            parts.append((typed or {}).get(value, value))
    return ", ".join(parts)


def fallback(question: Question) -> str:
    """A question this business has no fact for: skip it when it may be skipped, else give up."""
    if has_choice(question, "__skip__"):
        return SKIP
    if has_choice(question, "__keep__"):
        return "__keep__"
    raise UnknownQuestion(f"no answer for {question.get('step')!r} ({question.get('kind')}): {str(question.get('text', ''))[:120]}")
