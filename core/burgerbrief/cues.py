"""Rule cues for burgerbrief detection: spaCy Matcher/PhraseMatcher patterns on a blank Dutch pipeline.

Cues do two jobs: they are features of the trained classifier (so the model can
weigh them against the rest of the text), and they are the *reasons* a webcare
employee sees. A reason is a fixed sentence per cue (plus, for case nouns, a word
from a closed list) and never quotes the citizen's text, so reasons carry no
personal data into the archive record or logs.

Lexicons include common informal spellings (mn, ff, aub, pls), Flemish forms
(ge, gij) and a few English phrases, because reactions are written that way.

Every word and phrase here occurs in at least one training line (datasets/burgerbrief/train.jsonl):
an entry that only an evaluation set has would make that set's score better than unseen text gets.
`lexicon()` lists them all; tests/unit/test_burgerbrief_leak.py holds the lexicon to that rule. A new
entry needs a training line that has it, not a look at the dev or blind sets.
"""
from __future__ import annotations

from dataclasses import dataclass

import spacy
from spacy.attrs import IS_SPACE, LOWER
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

CATEGORIES = ("vraag", "verzoek", "klacht", "bezwaar", "melding", "woo-verzoek")


@dataclass(frozen=True)
class Cue:
    name: str
    reason: str                  # readable by a webcare employee, no text from the message
    category: str | None = None  # category this cue points to, if any
    urgent: bool = False         # danger, threat or self-harm signal
    negative: bool = False       # points *away* from a burgerbrief


CUES: dict[str, Cue] = {c.name: c for c in [
    Cue("addresses_org", "spreekt de organisatie direct aan"),
    Cue("greeting", "begint met een aanhef of groet"),
    Cue("question", "bevat een vraag"),
    Cue("question_how", "vraagt hoe/wanneer/waar iets moet of kan", "vraag"),
    Cue("personal_case", "gaat over een eigen zaak (aanvraag, toeslag, uitkering, ...)"),
    Cue("case_number", "noemt een dossier-, zaak- of kenmerknummer"),
    Cue("waiting", "wacht al lang op antwoord of betaling", "klacht"),
    Cue("request", "vraagt de organisatie iets te doen", "verzoek"),
    Cue("contact_me", "vraagt om contact (bellen, mailen, DM)", "verzoek"),
    Cue("help", "vraagt om hulp"),
    Cue("complaint", "klacht of ontevredenheid over de behandeling", "klacht"),
    Cue("objection", "bezwaar of beroep tegen een besluit", "bezwaar"),
    Cue("report", "meldt een probleem in de openbare ruimte of een storing", "melding"),
    Cue("woo", "noemt een Woo/Wob-verzoek of openbaarmaking", "woo-verzoek"),
    Cue("danger", "signaal van acuut gevaar", urgent=True),
    Cue("threat", "signaal van een dreiging of geweld", urgent=True),
    Cue("self_harm", "signaal van zelfbeschadiging of suïcide", urgent=True),
    Cue("rhetorical", "lijkt een retorische of sarcastische vraag", negative=True),
    Cue("among_citizens", "lijkt gericht aan andere burgers", negative=True),
    Cue("political", "algemene politieke mening", negative=True),
    Cue("laughter", "grap of lachen", negative=True),
    Cue("praise", "compliment of dank zonder vraag", negative=True),
]}

# ---------------------------------------------------------------- lexicons

MY = ["mijn", "mn", "m'n", "mij", "me", "onze", "ons", "my"]
CASE_NOUNS = {
    # closed list: the noun is shown in the reason ("eigen zaak: toeslag")
    "toeslag": ["toeslag", "toeslagen", "huurtoeslag", "zorgtoeslag", "kinderopvangtoeslag", "energietoeslag",
                "toeslg", "huurtoelsag"],
    "uitkering": ["uitkering", "ww", "ww-uitkering", "bijstand", "aow", "kinderbijslag", "uitkring"],
    "aanvraag": ["aanvraag", "aanvragen"],
    "belasting": ["aanslag", "aangifte", "teruggave", "voorlopige", "naheffing", "woz", "woz-waarde",
                  "woz-beschikking", "aanslg", "betalingsregeling"],
    "bezwaar": ["bezwaar", "beroep"],
    "dossier": ["dossier", "kenmerk", "dossiernummer", "brief", "beschikking", "besluit", "beslissing", "mail",
                "email", "formulier", "melding", "klacht", "afspraak"],
    "document": ["paspoort", "rijbewijs", "id-kaart", "verblijfsvergunning", "vergunning", "parkeervergunning",
                 "uittreksel", "digid", "adreswijziging", "verhuizing", "account", "betaling", "boete", "schuld",
                 "huur", "woning", "pas", "kenteken"],
}
CASE_WORD = {w: key for key, words in CASE_NOUNS.items() for w in words}

ADDRESS_WORDS = ["jullie", "julie", "jullei", "u", "gij", "ge", "gemeente", "belastingdienst", "overheid", "politie",
                 "rijksoverheid", "duo", "uwv", "svb", "cjib", "toeslagen", "you", "jij", "je"]
GREETINGS = ["beste", "hallo", "hoi", "hi", "hey", "goedemiddag", "dag"]

PHRASES: dict[str, list[str]] = {
    "case_number": ["dossiernummer", "kenmerk", "bsn"],
    "waiting": ["nog steeds niet", "nog niks", "wacht al", "wachten al", "al weken", "al maanden", "al een week",
                "al drie weken", "al 3 weken", "al 2 weken", "al 6 weken", "geen reactie", "geen antwoord",
                "nog steeds nie", "sinds januari", "sinds maart"],
    "request": ["kunnen jullie", "kunnen julie", "kunt u", "kunt gij", "zouden jullie", "kun je", "kan iemand",
                "kan er iemand", "kunnen jullie even", "wil graag", "zou graag", "graag", "ik verzoek", "verzoek u",
                "verzoek jullie", "ik wil dat", "ik wil een", "ik wil mijn", "ik wil graag", "please", "pls", "aub",
                "alsjeblieft", "can you", "i would like", "i want to", "willen jullie", "ff kijken", "even kijken",
                "even checken", "regelen", "aanpassen", "terugstorten", "terugbetalen", "corrigeren", "verzoek om"],
    "contact_me": ["mij bellen", "me bellen", "mij terugbellen", "terugbellen", "mij mailen", "stuur mij",
                   "stuur me", "dm me", "dm", "pb", "contact met mij", "call me"],
    "help": ["help", "helpen", "hulp", "help!", "helpt", "help me", "wie kan me helpen", "ik kom er niet uit",
             "kom er niet uit"],
    "complaint": ["klacht", "klacht indienen", "een klacht", "dit klopt niet", "klopt niet", "verkeerd", "twee keer",
                  "2x", "dubbel betaald", "dubbel afgeschreven", "afgeschreven", "in de wacht", "opgehangen",
                  "niemand reageert"],
    "objection": ["bezwaar", "bezwaar maken", "in bezwaar", "maak bezwaar", "maak ik bezwaar", "teken bezwaar",
                  "in beroep", "niet eens met", "het niet eens", "appeal", "aanvechten", "ik ga in beroep",
                  "pro forma", "object to", "herzien", "laten herzien", "accepteer ik niet", "intrekken",
                  "ingetrokken", "afwijzing", "afgewezen"],
    "report": ["kapot", "kapotte", "stuk", "defect", "lantaarnpaal", "gat in de weg", "stoeptegel", "afval",
               "grofvuil", "container", "containers", "niet geleegd", "overlast", "geluidsoverlast", "verstopt",
               "riool", "omgevallen", "boom", "gedumpt", "ratten", "storing", "foutmelding", "error",
               "verkeerslicht", "stoplicht", "speeltuin", "bankje", "hondenpoep", "melden", "melding", "wil melden",
               "doorgeven", "putdeksel", "fout in"],
    "woo": ["woo", "woo-verzoek", "wob-verzoek", "wet open overheid", "openbaarmaking", "alle documenten",
            "alle stukken", "interne stukken", "alle correspondentie", "inzage", "notulen"],
    "danger": ["brand", "rookontwikkeling", "gaslucht", "ruik gas", "ongeluk", "aangereden", "gewond", "bewusteloos",
               "levensgevaarlijk", "hoogwater", "dijk", "stroomkabel", "te water", "112", "koolmonoxidemelder",
               "co-melder", "rookmelder", "asbest", "spookrijder", "dreigt", "springen"],
    "threat": ["afmaken", "neerschieten", "kogel", "honkbalknuppel", "in de fik", "in brand steken", "steek ik",
               "bom", "mes", "💣", "weten waar jullie wonen", "ophangen", "sla ik", "pas maar op", "wacht maar af",
               "boem"],
    "self_harm": ["zelfmoord", "eind aan maken", "er een eind aan", "mezelf iets aandoen", "wil er niet meer zijn",
                  "het hoeft voor mij niet meer", "hoeft voor mij niet meer", "zie het niet meer zitten",
                  "ik trek het niet meer", "wil springen"],
    "rhetorical": ["wie gaat dat betalen", "wie betaalt dat", "wie betaalt", "hoe verzin je het", "hoe verzin je",
                   "serieus?", "echt?", "meen je dat", "is dit een grap", "is het 1 april", "wie verzint dit",
                   "wie bedenkt dit", "wie bedenkt", "wie verzint", "weer typisch", "typisch", "hoezo",
                   "wanneer leren jullie het nou eens", "wanneer leren ze het", "toch?", "toch"],
    "among_citizens": ["zag je dit", "weet iemand", "heeft iemand", "iemand ervaring", "jij ook", "jullie ook",
                       "gaan we", "gaan we dat doen", "lees dit", "precies", "eens met", "helemaal mee eens",
                       "mee eens", "idd", "inderdaad", "klopt", "zo is het", "dat zeg ik", "mijn buurman",
                       "mijn moeder zegt", "volgens mij", "ik denk", "nee joh", "welnee", "onzin"],
    "political": ["kabinet", "minister", "premier", "regering", "politici", "politiek", "verkiezingen", "stemmen",
                  "stem", "partij", "aftreden", "wegwezen", "den haag", "zakkenvullers", "graaiers", "belastinggeld",
                  "ons geld", "ons belastinggeld", "schaamteloos", "nederland", "dit land", "stikstof"],
    "laughter": ["haha", "hahaha", "lol", "😂", "🤣", "😅"],
    "praise": ["top", "goed zo", "goed bezig", "goed nieuws", "mooi", "super", "prima", "dank voor", "bedankt voor",
               "dankjewel", "thanks", "thx", "bedankt", "👍", "👏", "❤️", "💪", "chapeau", "geweldig", "eindelijk",
               "fijn", "complimenten", "respect"],
}
PARTICIPLES = ["aangevraagd", "ingediend", "betaald", "gebeld", "opgestuurd", "ontvangen", "gekregen", "gedaan",
               "doorgegeven"]# words CueFinder looks at around "ik heb ... aangevraagd" and "ik krijg (nog) geen ..."
HAVE = ["heb", "hebben", "had"]
SUBJECTS = ["ik", "wij", "we", "i", "k"]
RECEIVE = ["krijg", "krijgen"]
RECEIVE_SUBJECTS = ["ik", "wij", "we"]
NOT_YET = ["geen", "niks", "niets", "nog", "steeds"]
# "beste gemeente", "hoi UWV": greeting + organisation, the pairs the training lines contain
GREETING_PHRASES = ["beste belastingdienst", "beste duo", "beste gemeente", "beste politie", "beste rijksoverheid",
                    "beste svb", "beste uwv", "hallo belastingdienst", "hallo duo", "hallo politie", "hallo rijksoverheid",
                    "hallo svb", "hallo uwv", "hey belastingdienst", "hey duo", "hey gemeente", "hey politie",
                    "hey rijksoverheid", "hey svb", "hey uwv", "hoi belastingdienst", "hoi gemeente", "hoi politie",
                    "hoi rijksoverheid", "hoi svb", "hoi uwv"]
ORG_MENTION = ("gemeente", "overheid", "dienst", "politie", "uwv", "duo", "svb", "toeslagen", "stad")


def _token_patterns() -> dict[str, list[list[dict]]]:
    """Multi-token patterns for the Matcher. Single words and fixed phrases go to the PhraseMatcher
    (much cheaper per token); what needs a look at characters is done in CueFinder."""
    case_words = sorted(CASE_WORD)
    return {
        # "mijn aanvraag", "m'n huurtoeslag", "onze WW" (one word in between is handled in CueFinder)
        "personal_case": [
            [{"LOWER": {"IN": MY}}, {"LOWER": {"IN": case_words}}],
        ],
        "question_how": [
            [{"LOWER": {"IN": ["hoe", "wanneer", "waar", "welke", "hoelang", "how", "wat"]}},
             {"LOWER": {"IN": ["kan", "kun", "kunt", "moet", "moeten", "mag", "krijg", "krijgen", "wordt", "worden",
                               "is", "zijn", "komt", "gaat", "ga", "doe", "vraag", "vind", "regel", "can", "do",
                               "lang", "kunnen", "heb"]}},
             {"LOWER": {"IN": ["ik", "we", "wij", "mijn", "mn", "m'n", "de", "het", "dat", "dit", "u", "i", "my",
                               "je", "die", "er", "dan", "geld"]}}],
            [{"LOWER": {"IN": ["kan", "kun", "mag", "moet", "krijg", "heb", "ben", "can", "do"]}},
             {"LOWER": {"IN": ["ik", "i", "we", "wij"]}}],
        ],
    }


# single words and fixed phrases that belong to token-level cues, matched by the PhraseMatcher
PHRASE_CUES = {
    "addresses_org": ADDRESS_WORDS,
    "question_how": ["weet u", "weet iemand", "klopt het", "klopt dat"],
    "woo": ["woo"],
}


def build_matchers(nlp) -> tuple[Matcher, PhraseMatcher]:
    matcher = Matcher(nlp.vocab)
    for name, patterns in _token_patterns().items():
        matcher.add(name, patterns)
    phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
    for name, words in {**PHRASES}.items():
        phrases.add(name, list(nlp.tokenizer.pipe(words)))
    for name, words in PHRASE_CUES.items():
        phrases.add(name, list(nlp.tokenizer.pipe(words)))
    phrases.add("greeting", list(nlp.tokenizer.pipe(GREETING_PHRASES)))
    return matcher, phrases


def make_nlp():
    """Blank Dutch pipeline: the tokenizer is all the cues and features need."""
    return spacy.blank("nl")


@dataclass
class CueHits:
    names: list[str]             # cue names that fired, in first-seen order
    case_words: list[str]        # closed-list keys of personal-case nouns ("toeslag", ...)
    lowers: list[str] = None     # lower-cased tokens without whitespace tokens (shared with the features)


class CueFinder:
    """All cues of one Doc. Build once per worker (matcher construction takes ~100 ms)."""

    def __init__(self, nlp):
        self.nlp = nlp
        self.matcher, self.phrases = build_matchers(nlp)
        self.strings = nlp.vocab.strings
        self._lower: dict[int, str] = {}   # hash -> lower form: cheaper than making Token objects

    def lowers(self, doc: Doc) -> list[str]:
        cache, strings = self._lower, self.strings
        out = []
        for h, space in doc.to_array([LOWER, IS_SPACE]).tolist():
            if space:
                continue
            s = cache.get(h)
            if s is None:
                s = cache[h] = strings[h]
            out.append(s)
        return out

    def __call__(self, doc: Doc) -> CueHits:
        names: dict[str, None] = {}
        case: dict[str, None] = {}
        for match_id, start, end in self.matcher(doc):
            name = self.strings[match_id]
            names[name] = None
        for match_id, _, _ in self.phrases(doc):
            names[self.strings[match_id]] = None
        lowers = self.lowers(doc)
        if lowers and lowers[0] in _GREETING_SET:
            names["greeting"] = None
        if "?" in doc.text:
            names["question"] = None
        if any(any(o in w for o in ORG_MENTION) for w in lowers if w[:1] == "@"):
            names["addresses_org"] = None
        n = len(lowers)
        for i, w in enumerate(lowers):
            if w in _MY_SET:
                # "mijn (nieuwe) aanvraag": the case noun is shown in the reason (closed list)
                for j in (i + 1, i + 2):
                    key = CASE_WORD.get(lowers[j]) if j < n else None
                    if key:
                        case[key] = None
                        names["personal_case"] = None
                        break
            elif w in _HAVE_SET and i and lowers[i - 1] in _SUBJECT_SET:
                # "ik heb <up to 6 words> aangevraagd": own action in an own case
                if any(x in _PARTICIPLE_SET for x in lowers[i + 1:i + 8]):
                    names["personal_case"] = None
            elif w in _RECEIVE_SET and i and lowers[i - 1] in _RECEIVE_SUBJECT_SET:
                # "ik krijg (nog) geen ..."
                if any(x in _NOT_YET_SET for x in lowers[i + 1:i + 3]):
                    names["personal_case"] = None
        return CueHits(list(names), list(case), lowers)


_GREETING_SET = frozenset(GREETINGS)
_MY_SET = frozenset(MY)
_PARTICIPLE_SET = frozenset(PARTICIPLES)
_HAVE_SET, _SUBJECT_SET = frozenset(HAVE), frozenset(SUBJECTS)
_RECEIVE_SET, _RECEIVE_SUBJECT_SET, _NOT_YET_SET = frozenset(RECEIVE), frozenset(RECEIVE_SUBJECTS), frozenset(NOT_YET)


@dataclass(frozen=True)
class Entry:
    """One lexicon entry as the matchers use it (see `lexicon`)."""
    cue: str      # the cue it can fire (or helps fire)
    source: str   # the module-level list it comes from
    text: str     # the entry as written
    kind: str     # "phrase": a token sequence (PhraseMatcher, or one token of a Matcher/CueFinder list);
                  # "handle": a substring of an @handle token (ORG_MENTION)


def lexicon() -> list[Entry]:
    """Every word and phrase the cues match on, from every list of this module: what the lexicon-leak
    test (tests/unit/test_burgerbrief_leak.py) checks against the data sets."""
    out = [Entry(cue, f"PHRASES[{cue}]", w, "phrase") for cue, words in PHRASES.items() for w in words]
    out += [Entry(cue, f"PHRASE_CUES[{cue}]", w, "phrase") for cue, words in PHRASE_CUES.items() for w in words]
    out += [Entry("greeting", "GREETINGS", w, "phrase") for w in GREETINGS]
    out += [Entry("greeting", "GREETING_PHRASES", w, "phrase") for w in GREETING_PHRASES]
    out += [Entry("personal_case", "MY", w, "phrase") for w in MY]
    out += [Entry("personal_case", f"CASE_NOUNS[{k}]", w, "phrase") for k, ws in CASE_NOUNS.items() for w in ws]
    for name, words in (("PARTICIPLES", PARTICIPLES), ("HAVE", HAVE), ("SUBJECTS", SUBJECTS), ("RECEIVE", RECEIVE),
                        ("RECEIVE_SUBJECTS", RECEIVE_SUBJECTS), ("NOT_YET", NOT_YET)):
        out += [Entry("personal_case", name, w, "phrase") for w in words]
    for cue, patterns in _token_patterns().items():
        for k, pattern in enumerate(patterns):
            for j, tok in enumerate(pattern):
                low = tok["LOWER"]
                for w in (low["IN"] if isinstance(low, dict) else [low]):
                    out += [Entry(cue, f"_token_patterns[{cue}][{k}][{j}]", w, "phrase")]
    out += [Entry("addresses_org", "ORG_MENTION", w, "handle") for w in ORG_MENTION]
    return out


def reasons(hits: CueHits) -> list[str]:
    """Readable reasons, positive cues first; no words from the message except closed-list case nouns."""
    out = []
    for name in hits.names:
        cue = CUES[name]
        if cue.negative:
            continue
        text = cue.reason
        if name == "personal_case" and hits.case_words:
            text = f"gaat over een eigen zaak ({', '.join(hits.case_words)})"
        out.append(text)
    out += ["tegen: " + CUES[n].reason for n in hits.names if CUES[n].negative]
    return out


URGENT_HEAD_THRESHOLD = 0.35
URGENT_HEAD_ALONE_THRESHOLD = 0.5


def urgent(hits: CueHits, head_probability: float | None = None) -> bool:
    """Self-harm signals are always urgent (a miss costs far more than a false alarm); danger and
    threat cues need the trained urgency head to agree, if one is given; without such a cue the head
    alone decides when it is sure (the lexicon holds only words that occur in training lines, so the
    head, with its word pieces, is what reaches the danger words it never saw)."""
    if "self_harm" in hits.names:
        return True
    if not any(CUES[n].urgent for n in hits.names):
        return head_probability is not None and head_probability >= URGENT_HEAD_ALONE_THRESHOLD
    return head_probability is None or head_probability >= URGENT_HEAD_THRESHOLD
