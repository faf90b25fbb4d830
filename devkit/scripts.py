"""Scripted interviews: every line is what an owner would type, in order."""
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
    "behouden",
    # Bewustwording
    "Instagram-post van een vriendin, Zoeken op Google",
    "social", "4", "/skip", "marketing",
    "website", "3", "Website laadt traag op mobiel", "tech",
    "interviews",
    "Taartfoto's op Instagram",
    # Overweging
    "Reviews lezen, Vragen via WhatsApp",
    "review_site", "3", "/skip", "marketing",
    "whatsapp", "2", "Pas na twee dagen antwoord", "service",
    "interviews, data",
    "/skip",
    # Aankoop
    "Bestellen in de winkel",
    "shop", "4", "/skip", "sales",
    "gut",
    "/skip",
    # Levering
    "Taart ophalen",
    "shop", "2", "Rij van twintig minuten op zaterdag", "delivery",
    "interviews",
    "/skip",
    # Loyaliteit
    "Geen contact na het feest",
    "weet ik niet", "1", "We horen nooit hoe het feest was", "weet ik niet",
    "gut",
    "/skip",
    # Aanbeveling
    "Foto delen in de groepsapp",
    "whatsapp", "3", "/skip", "outside",
    "gut",
    "/skip",
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
    # Discovery
    "LinkedIn article, Webinar",
    "social", "4", "/skip", "marketing",
    "website", "3", "Registration form asks too much", "marketing",
    "data",
    "/skip",
    # Proposal
    "Sales call, Written proposal",
    "phone", "4", "/skip", "sales",
    "email", "2", "Proposal takes 3 weeks to arrive", "sales",
    "data, gut",
    "The security scan we run for free",
    # Onboarding
    "Kick-off meeting, Account migration",
    "in_person", "5", "/skip", "service",
    "website", "2", "Passwords reset without warning", "tech",
    "gut",
    "/skip",
    # Partnership
    "Quarterly review",
    "in_person", "3", "Report is a generic PDF", "service",
    "gut",
    "/skip",
    "quarterly",
]
