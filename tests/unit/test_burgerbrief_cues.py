"""Rule cues: each fires on what it is for, not on look-alikes; reasons carry no message text."""
from __future__ import annotations

import pytest

from archiefstroom.core.burgerbrief import cues


@pytest.fixture(scope="module")
def finder():
    nlp = cues.make_nlp()
    f = cues.CueFinder(nlp)
    return lambda text: f(nlp(text))


@pytest.mark.parametrize("text, cue", [
    ("Kunnen jullie mij terugbellen?", "request"),
    ("Kunnen jullie mij terugbellen?", "contact_me"),
    ("Kunnen jullie mij terugbellen?", "addresses_org"),
    ("Kunnen jullie mij terugbellen?", "question"),
    ("Mijn huurtoeslag is niet betaald", "personal_case"),
    ("m'n uitkering is gestopt", "personal_case"),
    ("Ik heb in maart al een nieuwe pas aangevraagd", "personal_case"),
    ("Mijn dossiernummer is 2025-1", "case_number"),
    ("Hoe kan ik dat aanvragen", "question_how"),
    ("Ik maak bezwaar tegen de aanslag", "objection"),
    ("Ik wil een klacht indienen", "complaint"),
    ("Al 6 weken nog steeds geen antwoord", "waiting"),
    ("Er ligt een kapotte lantaarnpaal op de stoep", "report"),
    ("Hierbij een Woo-verzoek over de brug", "woo"),
    ("Ik dien een Wob-verzoek in", "woo"),
    ("Ik ruik een gaslucht in het portiek", "danger"),
    ("Ik steek het gemeentehuis in de fik", "threat"),
    ("Ik denk aan zelfmoord", "self_harm"),
    ("Wie gaat dat betalen?", "rhetorical"),
    ("@sanne zag je dit?", "among_citizens"),
    ("Het kabinet moet aftreden", "political"),
    ("hahaha 😂", "laughter"),
    ("Top, dank voor de info!", "praise"),
    ("Beste gemeente, een vraag", "greeting"),
    ("@GemeenteUtrecht hoi", "addresses_org"),
])
def test_cue_fires(finder, text, cue):
    assert cue in finder(text).names


@pytest.mark.parametrize("text, cue", [
    ("Wat een mooie dag vandaag", "request"),
    ("De minister gaat naar Brussel", "personal_case"),
    ("Ik kan niet meer inloggen op de site", "self_harm"),
    ("Goed nieuws voor de wijk", "question"),
    ("De brandweer deed het geweldig", "threat"),
    ("@sanne kijk dit", "addresses_org"),
])
def test_cue_stays_quiet(finder, text, cue):
    assert cue not in finder(text).names


def test_case_words_come_from_the_closed_list(finder):
    hits = finder("Mijn huurtoeslag en mijn WW-uitkering zijn gestopt")
    assert set(hits.case_words) == {"toeslag", "uitkering"}


def test_reasons_never_quote_the_message(finder):
    text = "Mijn BSN is 123456782 en mijn aanvraag voor huurtoeslag van Jan de Vries loopt, bel 06-12345678 aub"
    reasons = cues.reasons(finder(text))
    assert reasons
    joined = " ".join(reasons)
    for private in ("123456782", "Jan", "Vries", "06-12345678", "huurtoeslag"):
        assert private not in joined
    # every reason is a fixed cue sentence (or the case sentence built from the closed list)
    fixed = {c.reason for c in cues.CUES.values()} | {"tegen: " + c.reason for c in cues.CUES.values()}
    assert all(r in fixed or r.startswith("gaat over een eigen zaak (") for r in reasons)


def test_negative_reasons_are_marked_and_last(finder):
    reasons = cues.reasons(finder("haha kunnen jullie mij bellen? 😂"))
    neg = [i for i, r in enumerate(reasons) if r.startswith("tegen: ")]
    pos = [i for i, r in enumerate(reasons) if not r.startswith("tegen: ")]
    assert neg and pos and max(pos) < min(neg)


def test_urgency_rule(finder):
    self_harm = finder("Ik wil er niet meer zijn, ik denk aan zelfmoord")
    assert cues.urgent(self_harm, head_probability=0.0)          # self-harm: always
    danger = finder("Brand in de schuur!")
    assert cues.urgent(danger, head_probability=0.9)
    assert not cues.urgent(danger, head_probability=0.1)          # head must agree for danger/threat
    calm = finder("Mooi weer vandaag")
    assert not cues.urgent(calm)                                   # no cue and no head: not urgent
    assert not cues.urgent(calm, head_probability=0.4)             # no cue: the head alone must be sure
    assert cues.urgent(calm, head_probability=0.9)
