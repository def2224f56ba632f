"""Rule cues for burgerbrief detection: spaCy Matcher/PhraseMatcher patterns on a blank Dutch pipeline.

Cues do two jobs: they are features of the trained classifier (so the model can
weigh them against the rest of the text), and they are the *reasons* a webcare
employee sees. A reason is a fixed sentence per cue (plus, for case nouns, a word
from a closed list) and never quotes the citizen's text, so reasons carry no
personal data into the archive record or logs.

Lexicons include common informal spellings (mn, ff, aub, pls), Flemish forms
(ge, gij, u kan) and a few English phrases, because reactions are written that way.
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

MY = ["mijn", "mn", "m'n", "mij", "me", "onze", "ons", "my", "mijne", "men"]
CASE_NOUNS = {
    # closed list: the noun is shown in the reason ("eigen zaak: toeslag")
    "toeslag": ["toeslag", "toeslagen", "huurtoeslag", "zorgtoeslag", "kinderopvangtoeslag", "kot", "energietoeslag",
                "kindgebonden", "huurtoeslg", "zorgtoeslg", "toeslg", "huurtoelsag", "zorgtoesla"],
    "uitkering": ["uitkering", "uitkeringen", "ww", "ww-uitkering", "bijstand", "bijstandsuitkering", "aow", "aow-uitkering",
                  "wia", "wajong", "pensioen", "kinderbijslag", "uitkring", "uitkerig", "leefloon", "werkloosheidsuitkering"],
    "aanvraag": ["aanvraag", "aanvragen", "aanvraagje", "aavraag", "aanvrag", "application", "subsidieaanvraag", "subsidie"],
    "belasting": ["aanslag", "aangifte", "belastingaangifte", "teruggave", "aanslagen", "voorlopige", "naheffing",
                  "belastingteruggave", "woz", "woz-waarde", "woz-beschikking", "gemeentebelasting", "afvalstoffenheffing",
                  "belastingaanslag", "aanslg", "toeslagschuld", "betalingsregeling"],
    "bezwaar": ["bezwaar", "bezwaarschrift", "beroep", "bezwaarprocedure"],
    "dossier": ["dossier", "zaak", "kenmerk", "dossiernummer", "zaaknummer", "referentie", "klantnummer", "brief", "beschikking",
                "besluit", "beslissing", "mail", "e-mail", "email", "formulier", "melding", "klacht", "afspraak"],
    "document": ["paspoort", "rijbewijs", "id-kaart", "identiteitskaart", "verblijfsvergunning", "vergunning",
                 "parkeervergunning", "omgevingsvergunning", "uittreksel", "digid", "inschrijving", "adreswijziging",
                 "verhuizing", "account", "betaling", "boete", "schuld", "huur", "woning", "contract", "vog", "passport",
                 "payment", "afvalpas", "pas", "kenteken"],
}
CASE_WORD = {w: key for key, words in CASE_NOUNS.items() for w in words}

ADDRESS_WORDS = ["jullie", "julie", "jullei", "jullue", "u", "uw", "gij", "ge", "gemeente", "belastingdienst", "overheid",
                 "ministerie", "politie", "rijksoverheid", "duo", "uwv", "svb", "cjib", "rdw", "toeslagen", "webcare",
                 "you", "your", "jij", "je"]
GREETINGS = ["beste", "geachte", "hallo", "hoi", "hi", "hey", "hee", "goedemorgen", "goedemiddag", "goedenavond",
             "dag", "hello", "l.s.", "ha", "hoihoi", "heey", "yo", "goeiedag", "goeiemorgen"]
Q_WORDS = ["hoe", "wanneer", "waar", "welke", "wat", "hoelang", "waarom", "wie", "kan", "kun", "kunt", "kunnen", "mag",
           "moet", "moeten", "is", "zijn", "heb", "hebben", "krijg", "krijgen", "wordt", "worden", "klopt", "how",
           "when", "where", "can", "could", "do", "does", "is", "ben", "weet", "weten"]

PHRASES: dict[str, list[str]] = {
    "case_number": ["dossiernummer", "zaaknummer", "kenmerk", "referentienummer", "klantnummer", "ons kenmerk",
                    "uw kenmerk", "mijn kenmerk", "aanvraagnummer", "case number", "reference number", "bsn",
                    "burgerservicenummer", "polisnummer", "betalingskenmerk", "ticketnummer", "meldingsnummer"],
    "waiting": ["nog steeds niet", "nog steeds geen", "nog altijd niet", "nog altijd geen", "nog niks", "nog niets",
                "wacht al", "wachten al", "al weken", "al maanden", "al een maand", "al een week", "al twee weken",
                "al drie weken", "al 3 weken", "al 2 weken", "al 6 weken", "nooit iets gehoord", "niks meer gehoord",
                "niets meer gehoord", "geen reactie", "geen antwoord", "nooit antwoord", "nog geen antwoord",
                "nog geen reactie", "still waiting", "no response", "nog steeds nie", "al ne maand", "al lang",
                "sinds januari", "sinds maart", "sinds juni", "sinds september", "nooit teruggebeld", "niet teruggebeld",
                "nog niet ontvangen", "niet ontvangen", "nooit ontvangen", "niet uitbetaald", "nog niet uitbetaald"],
    "request": ["kunnen jullie", "kunnen julie", "kunne jullie", "kan jullie", "kunt u", "kan u", "kunt gij", "kunde",
                "zou u", "zouden jullie", "zou je", "kun je", "kan je", "kan iemand", "kan er iemand", "kunnen jullie even",
                "wil graag", "wil ik graag", "zou graag", "graag", "ik verzoek", "verzoek u", "verzoek jullie",
                "ik wil dat", "ik wil een", "ik wil mijn", "ik wil graag", "gelieve", "please", "pls", "plz", "aub",
                "a.u.b.", "alsjeblieft", "alstublieft", "astublieft", "svp", "can you", "could you", "i would like",
                "i want to", "wilt u", "willen jullie", "ff kijken", "even kijken", "even checken", "nakijken",
                "regelen", "aanpassen", "terugstorten", "terugbetalen", "corrigeren", "uitzoeken", "opnieuw versturen",
                "opnieuw sturen", "toesturen", "opsturen", "sturen jullie", "verzoek om"],
    "contact_me": ["bel mij", "bel me", "bellen mij", "mij bellen", "me bellen", "mij terugbellen", "me terugbellen",
                   "terugbellen", "bel ff", "mail mij", "mail me", "mij mailen", "me mailen", "stuur mij", "stuur me",
                   "dm me", "dm mij", "stuur een dm", "stuur een pb", "pb me", "pb mij", "dm", "pb", "privébericht",
                   "prive bericht", "privebericht", "inbox", "neem contact", "contact opnemen", "contact met mij",
                   "contact met me", "call me", "email me", "contact me", "bereikbaar op", "mijn nummer",
                   "telefoonnummer", "06-", "laat het me weten", "laat het mij weten", "laat me weten", "laat mij weten",
                   "hoor graag", "hoor het graag", "hoor graag van", "reactie graag", "antwoord graag"],
    "help": ["help", "helpen", "hulp", "help!", "helpt", "hulp nodig", "help me", "help mij", "kan iemand helpen",
             "wie kan mij helpen", "wie kan me helpen", "ik weet het niet meer", "ik kom er niet uit", "kom er niet uit",
             "ik snap het niet", "radeloos", "ten einde raad", "hopeloos", "wanhopig", "need help"],
    "complaint": ["klacht", "klachten", "klacht indienen", "een klacht", "ik wil klagen", "ontevreden", "onacceptabel",
                  "onbeschoft", "slecht behandeld", "niet netjes", "onheus", "onterecht", "ten onrechte", "fout gemaakt",
                  "foutje", "vergissing", "dit klopt niet", "klopt niet", "klopt helemaal niet", "niet correct",
                  "verkeerd", "twee keer", "2x", "dubbel betaald", "dubbel afgeschreven", "afgeschreven", "niet bereikbaar",
                  "onbereikbaar", "in de wacht", "wachttijd", "opgehangen", "van het kastje naar de muur",
                  "kastje naar de muur", "niemand neemt op", "niemand reageert", "complaint", "teleurgesteld",
                  "schandalig hoe", "belachelijk dat ik", "dit is de derde keer", "voor de zoveelste keer"],
    "objection": ["bezwaar", "bezwaren", "bezwaarschrift", "bezwaar maken", "bezwaar indienen", "bezwaar aangetekend",
                  "in bezwaar", "maak bezwaar", "maak ik bezwaar", "teken bezwaar", "in beroep", "beroep aantekenen",
                  "beroep instellen", "niet eens met", "oneens met", "het niet eens", "ga hier niet mee akkoord",
                  "niet akkoord met", "ben het er niet mee eens", "herziening", "heroverweging", "appeal", "objection",
                  "aanvechten", "vecht ik aan", "ik ga in beroep", "bezwaartermijn", "pro forma", "object to",
                  "i object", "bezwaar aantekenen", "herzien", "laten herzien", "wil dat die herzien wordt",
                  "accepteer ik niet", "ga ik niet mee akkoord", "niet mee akkoord", "vervalt", "intrekken",
                  "ingetrokken", "kwijtschelding afgewezen", "afwijzing", "afgewezen", "hoorzitting", "dwangsom"],
    "report": ["kapot", "kapotte", "stuk", "defect", "lantaarnpaal", "straatlantaarn", "straatverlichting", "gat in de weg",
               "gat in de stoep", "kuil", "losliggende", "losse tegel", "losse tegels", "stoeptegel", "zwerfvuil",
               "afval", "vuilnis", "grofvuil", "container", "containers", "niet geleegd", "overlast", "geluidsoverlast",
               "stankoverlast", "verstopt", "verstopping", "riool", "lekkage", "wateroverlast", "omgevallen", "boom",
               "takken", "graffiti", "dumping", "gedumpt", "fietswrak", "fietswrakken", "ratten", "muizen", "storing",
               "werkt niet", "doet het niet", "ligt eruit", "ligt plat", "gaat niet", "foutmelding", "error",
               "verkeerslicht", "stoplicht", "bushokje", "speeltuin", "bankje", "hondenpoep", "parkeerautomaat",
               "melden", "melding", "meld", "ik meld", "wil melden", "wil ik melden", "doorgeven", "broken",
               "not working", "vuil", "gevaarlijke situatie", "put", "putdeksel", "wortels", "drempel", "fout in"],
    "woo": ["woo", "woo-verzoek", "wooverzoek", "woo verzoek", "wob", "wob-verzoek", "wobverzoek", "wob verzoek",
            "wet open overheid", "wet openbaarheid", "openbaarmaking", "openbaar maken", "openbaar gemaakt",
            "openbaarmakingsverzoek", "informatieverzoek", "foia", "alle documenten", "alle stukken",
            "interne stukken", "interne documenten", "interne e-mails", "interne mails", "alle correspondentie",
            "verzoek om informatie", "verzoek tot openbaarmaking", "inzage", "inzageverzoek", "avg-verzoek",
            "verzoek om inzage", "gespreksverslagen", "notulen"],
    "danger": ["brand", "brandlucht", "rookontwikkeling", "rook", "gaslucht", "gaslek", "ruik gas", "ongeluk",
               "ongeval", "aangereden", "gewond", "gewonden", "bloed", "bewusteloos", "beweegt niet", "reanimatie",
               "reanimeren", "levensgevaarlijk", "levensgevaar", "overstroming", "hoogwater", "dijk", "onder water",
               "stroomdraad", "stroomkabel", "hoogspanning", "instortingsgevaar", "stort in", "ingestort", "instorten",
               "vallen naar beneden", "explosie", "ontploffing", "verdrinkt", "verdrinken", "te water", "vermist",
               "vermiste", "in nood", "112", "noodgeval", "ambulance", "fire", "emergency", "gevaarlijke situatie",
               "koolmonoxide", "koolmonoxidemelder", "co-melder", "co melder", "rookmelder", "duizelig",
               "asbest", "spookrijder", "dreigt", "geschreeuw", "mishandeld", "mishandeling", "huiselijk geweld",
               "kind alleen", "op het dak", "springen", "losgeslagen", "kabel hangt", "loslopende", "brandt"],
    "threat": ["ik maak je af", "maak je af", "ik vermoord", "vermoorden", "afmaken", "neerschieten", "neerknallen",
               "afknallen", "doodschieten", "doodsteken", "neersteken", "overhoop schieten", "kogel", "kogels",
               "knuppel", "honkbalknuppel", "in de fik", "in brand steken", "steek ik", "aansteken", "bom", "bommen",
               "opblazen", "explosieven", "wapen", "wapens", "vuurwapen", "pistool", "mes", "messen", "💣", "🔪", "🔫",
               "ik weet waar je woont", "weet waar je woont", "weten waar jullie wonen", "jullie gaan eraan",
               "gaan eraan", "gaat eraan", "ophangen", "moeten hangen", "tegen de muur", "doodmaken",
               "ik kom langs", "kom je halen", "op je bek", "in elkaar slaan", "in elkaar trappen", "sla ik",
               "sla ze", "de kop in", "kop eraf", "de kop eraf", "klappen geven", "afrekenen", "wraak", "lesje leren",
               "kill", "shoot", "bomb", "met geweld", "geweld gebruiken", "pas maar op", "moet oppassen",
               "wacht maar af", "dan gaat het mis", "ongeluk krijgen", "kopje kleiner", "boem", "kaboem"],
    "self_harm": ["zelfmoord", "suïcide", "suicide", "zelfdoding", "suïcidaal", "suicidaal", "niet meer leven",
                  "wil niet meer leven", "eind aan maken", "einde aan maken", "er een eind aan", "er een einde aan",
                  "mezelf iets aandoen", "mijzelf iets aandoen", "mezelf wat aandoen", "mezelf iets aan te doen",
                  "mijzelf iets aan te doen", "mezelf van kant", "van kant maken", "van de brug springen",
                  "voor de trein springen", "voor de trein", "wil er niet meer zijn", "niet meer willen leven",
                  "113", "0800-0113", "het hoeft voor mij niet meer", "hoeft voor mij niet meer",
                  "geen zin meer in het leven", "zie het niet meer zitten", "zie het echt niet meer zitten",
                  "geen uitweg meer", "zie geen uitweg", "kill myself", "end it all", "ik trek het niet meer",
                  "gaat springen", "wil springen", "ga springen", "afscheidsbrief"],
    "rhetorical": ["wie gaat dat betalen", "wie betaalt dat", "wie betaalt", "hoe verzin je het", "hoe verzin je",
                   "hoe bedoel je", "wat een verrassing", "verbaast me niks", "verbaast me niets", "verbaast dat iemand",
                   "zeker weer", "ja hoor", "tuurlijk", "natuurlijk weer", "wat denk je zelf", "wat dacht je",
                   "serieus?", "echt?", "meen je dat", "meent u dat", "is dit een grap", "is het 1 april",
                   "wie verzint dit", "wie bedenkt dit", "wie bedenkt", "wie verzint", "waarom verbaast",
                   "en dan nog", "weer typisch", "typisch", "waar blijft", "hoe kan het dat", "hoezo", "oh echt",
                   "wat een verrassing", "who pays", "seriously", "yeah right", "sure jan", "wat een grap",
                   "wanneer leren jullie het nou eens", "wanneer leren ze het", "waarom ook niet", "nou en",
                   "toch?", "toch", "wie had dat gedacht", "geen idee waar ze mee bezig zijn", "of niet soms"],
    "among_citizens": ["zag je dit", "zie je dit", "heb je dit gezien", "heb jij", "weet jij", "weet iemand",
                       "heeft iemand", "iemand ervaring", "iemand anders", "ook zo", "jij ook", "jullie ook",
                       "gaan we", "gaan we dat doen", "lees dit", "kijk dit", "check dit", "haha jij", "tag", "precies",
                       "eens met", "helemaal mee eens", "mee eens", "idd", "inderdaad", "klopt", "zo is het",
                       "dat zeg ik", "zeg ik toch", "zei ik toch", "lol jij", "😂 jij", "jij bent", "je bent",
                       "ben je", "bro", "mn maat", "mijn buurman", "mijn buurvrouw", "mijn moeder zegt", "volgens mij",
                       "ik denk", "nee joh", "ja joh", "welnee", "onzin", "@"],
    "political": ["kabinet", "minister", "premier", "regering", "coalitie", "oppositie", "tweede kamer", "kamerleden",
                  "politici", "politiek", "verkiezingen", "stemmen", "stem", "partij", "aftreden", "opstappen",
                  "wegwezen", "weg ermee", "den haag", "haagse", "elite", "bonnetjes", "zakkenvullers", "graaiers",
                  "belastinggeld", "ons geld", "ons belastinggeld", "schaamteloos", "dictatuur", "nederland",
                  "dit land", "dit landje", "bananenrepubliek", "links", "rechts", "pvv", "vvd", "d66", "gl-pvda",
                  "cda", "bbb", "nsc", "sp", "fvd", "ja21", "motie", "wetsvoorstel", "asielzoekers", "klimaat",
                  "stikstof", "boeren", "woke", "brussel", "eu", "europa"],
    "laughter": ["haha", "hahaha", "hahah", "hihi", "lol", "lmao", "rofl", "😂", "🤣", "😆", "😅", "grappig", "hilarisch",
                 "geniaal", "lachen", "giechel", "xd"],
    "praise": ["top", "topper", "toppers", "goed zo", "goed bezig", "goed nieuws", "mooi", "mooi zo", "super", "prima",
               "dank voor", "bedankt voor", "dankjewel", "dank je wel", "dank u wel", "thanks", "thx", "bedankt",
               "👍", "👏", "❤️", "💪", "chapeau", "fantastisch", "geweldig", "eindelijk", "fijn", "complimenten",
               "respect", "great", "nice", "well done", "goed geregeld", "netjes", "helder", "duidelijk uitgelegd"],
}
PARTICIPLES = ["aangevraagd", "ingediend", "aangegeven", "betaald", "gebeld", "gemaild", "opgestuurd", "gestuurd",
               "ontvangen", "gekregen", "gedaan", "aangetekend", "applied", "doorgegeven", "ingevuld", "geüpload"]
ORG_MENTION = ("gemeente", "overheid", "dienst", "politie", "ministerie", "uwv", "duo", "svb", "toeslagen", "cjib",
               "rdw", "stad")


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
            [{"LOWER": {"IN": ["hoe", "wanneer", "waar", "welke", "hoelang", "how", "when", "where", "wat"]}},
             {"LOWER": {"IN": ["kan", "kun", "kunt", "moet", "moeten", "mag", "krijg", "krijgen", "wordt", "worden",
                               "is", "zijn", "komt", "gaat", "ga", "doe", "vraag", "vind", "meld", "regel", "can",
                               "do", "should", "will", "lang", "kunnen", "ontvang", "heb", "hoort"]}},
             {"LOWER": {"IN": ["ik", "we", "wij", "mijn", "mn", "m'n", "de", "het", "dat", "dit", "u", "i", "my",
                               "je", "men", "die", "er", "daarvoor", "terecht", "duren", "dan", "geld", "uitbetaling"]}}],
            [{"LOWER": {"IN": ["kan", "kun", "mag", "moet", "krijg", "heb", "ben", "can", "do", "should", "am"]}},
             {"LOWER": {"IN": ["ik", "i", "we", "wij"]}}],
        ],
    }


# single words and fixed phrases that belong to token-level cues, matched by the PhraseMatcher
PHRASE_CUES = {
    "addresses_org": ADDRESS_WORDS,
    "question_how": ["weet jullie", "weten jullie", "weet u", "weet iemand", "klopt het", "klopt dit", "klopt dat"],
    "woo": ["woo", "wob"],
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
    greet = [f"{g} {o}" for g in GREETINGS for o in ["gemeente", "belastingdienst", "rijksoverheid", "uwv", "duo",
                                                      "svb", "politie", "allemaal", "team", "webcare", "meneer", "mevrouw"]]
    phrases.add("greeting", list(nlp.tokenizer.pipe(greet)))
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
            elif w in ("heb", "hebben", "had", "have") and i and lowers[i - 1] in ("ik", "wij", "we", "i", "k"):
                # "ik heb <up to 6 words> aangevraagd": own action in an own case
                if any(x in _PARTICIPLE_SET for x in lowers[i + 1:i + 8]):
                    names["personal_case"] = None
            elif w in ("krijg", "krijgen", "kreeg", "ontvang", "ontvingen") and i and lowers[i - 1] in ("ik", "wij", "we"):
                # "ik krijg (nog) geen ..."
                if any(x in ("geen", "niks", "niets", "nog", "steeds") for x in lowers[i + 1:i + 3]):
                    names["personal_case"] = None
        return CueHits(list(names), list(case), lowers)


_GREETING_SET = frozenset(GREETINGS)
_MY_SET = frozenset(MY)
_PARTICIPLE_SET = frozenset(PARTICIPLES)


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


def urgent(hits: CueHits, head_probability: float | None = None) -> bool:
    """Self-harm signals are always urgent (a miss costs far more than a false alarm); danger and
    threat cues need the trained urgency head to agree, if one is given."""
    if "self_harm" in hits.names:
        return True
    if not any(CUES[n].urgent for n in hits.names):
        return False
    return head_probability is None or head_probability >= URGENT_HEAD_THRESHOLD
