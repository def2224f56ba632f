"""Person names: deduce (Dutch lookup lists), own context rules, and the public-role exception.

deduce builds its lookup structures (tries over ~25,000 names, streets and places)
in over a minute; `deduce_engine()` builds them once into a cache directory and
afterwards only unpickles them (a few seconds), once per process.

Names of politicians and officials acting in office stay readable: a name right
after an office title ("minister", "burgemeester", "Kamerlid", ...), followed by a
party ("Wilders (PVV)"), or listed as a public official in the configuration.
"""
from __future__ import annotations

import fcntl
import gc
import gzip
import importlib.util
import json
import logging
import os
import pickle
import re
import threading
from pathlib import Path
from typing import Iterable, Iterator

from archiefstroom.core.pseudonymise.entities import Entity
from archiefstroom.core.pseudonymise.officials import PublicFigures

log = logging.getLogger(__name__)

DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "archiefstroom" / "deduce"

_lock = threading.Lock()
_engines: dict[str, object] = {}


def deduce_engine(cache_dir: Path | None = None):
    """The process-wide deduce instance, built once (first run) or loaded from the cache."""
    cache_dir = Path(cache_dir or DEFAULT_CACHE)
    key = str(cache_dir)
    with _lock:
        if key not in _engines:
            root = logging.getLogger()
            level, handlers = root.level, list(root.handlers)
            import deduce  # noqa: PLC0415  (heavy; and it calls logging.basicConfig(DEBUG) at import)
            # undo deduce's import-time logging.basicConfig(stdout, DEBUG): our logs must stay quiet
            for h in list(root.handlers):
                if h not in handlers:
                    root.removeHandler(h)
            root.setLevel(level)
            cache_dir.mkdir(parents=True, exist_ok=True)
            pickle_file = cache_dir / "cache" / "lookup_structs.pickle"
            # processes starting together build once: the others wait on the lock, then load the cache
            with open(cache_dir / ".build.lock", "w") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX)
                except ImportError:   # not POSIX: no cross-process lock, deduce still works
                    pass
                if not pickle_file.exists():
                    log.warning("building deduce lookup structures into %s (once, takes 1-2 minutes)", cache_dir)
                gc.disable()   # unpickling 70 MB of small objects: the cyclic GC only slows it down
                try:
                    try:
                        _engines[key] = deduce.Deduce(cache_path=cache_dir)
                    except (EOFError, OSError, ValueError, AttributeError, ImportError, pickle.UnpicklingError) as exc:
                        # e.g. a build that was killed half-way left a truncated pickle: rebuild once
                        log.warning("deduce cache in %s unusable (%s): rebuilding", cache_dir, type(exc).__name__)
                        pickle_file.unlink(missing_ok=True)
                        _engines[key] = deduce.Deduce(cache_path=cache_dir, build_lookup_structs=True)
                finally:
                    gc.enable()
        return _engines[key]


# deduce processors that find names and addresses; its regex annotators for ids, phones, e-mail and URLs
# are replaced by the own recognizers in combined mode (measured: see `pseudonymise eval`)
DEDUCE_NAMES = {"names", "prefix_with_initial", "prefix_with_interfix", "prefix_with_name", "interfix_with_name",
                "initial_with_name", "initial_interfix", "first_name_lookup", "surname_lookup", "name_context",
                "person_annotation_converter", "eponymous_disease", "patient_name",
                "locations", "placename", "street_pattern", "street_lookup", "housenumber", "postal_code", "postbus",
                "remove_street_tags", "clean_street_tags", "post_processing", "overlap_resolver",
                "merge_adjacent_annotations"}

_POSTCODE_LIKE = re.compile(r"^\d{4}\s?[A-Za-z]{2}$")


CHUNK = 1000   # deduce's tokenizer slows down more than linearly on long texts: feed it pieces


def _chunks(text: str) -> list[tuple[int, str]]:
    """Pieces of at most ~CHUNK characters, cut after a sentence end or newline (else at a space)."""
    out, start = [], 0
    while len(text) - start > CHUNK:
        window = text[start:start + CHUNK]
        cut = max(window.rfind(". "), window.rfind("! "), window.rfind("? "), window.rfind("\n"))
        cut = cut + 1 if cut > CHUNK // 2 else window.rfind(" ")
        cut = cut if cut > 0 else CHUNK
        out.append((start, text[start:start + cut]))
        start += cut
    out.append((start, text[start:]))
    return out


# deduce's tags -> our labels (locatie is split by its form, below)
_DEDUCE_LABELS = {"persoon": "PERSOON", "patient": "PERSOON", "telefoonnummer": "TEL", "emailadres": "EMAIL",
                  "bsn": "BSN", "url": "URL", "datum": "GEBOORTEDATUM", "id": "DOSSIER"}


def deduce_entities(engine, text: str, *, names_only: bool) -> list[Entity]:
    """deduce's annotations mapped onto our labels. Places are returned as PLAATS candidates:
    the caller keeps only those that are part of an address."""
    if len(text) > CHUNK:
        return [Entity(e.start + off, e.end + off, e.label, e.source)
                for off, piece in _chunks(text) for e in deduce_entities(engine, piece, names_only=names_only)]
    doc = engine.deidentify(text, enabled=DEDUCE_NAMES) if names_only else engine.deidentify(text)
    out = []
    for a in doc.annotations:
        tag = a.tag.split("+")[0] if "persoon" not in a.tag else "persoon"
        value = a.text
        if tag == "locatie":
            label = "POSTCODE" if _POSTCODE_LIKE.match(value) else "ADRES" if any(c.isdigit() for c in value) else "PLAATS?"
        elif tag in _DEDUCE_LABELS:
            label = _DEDUCE_LABELS[tag]
        else:   # leeftijd, ziekenhuis, zorginstelling: ages and organisation names stay readable
            continue
        # plain ints: docdeid's OverlapResolver cuts an annotation around another with numpy arithmetic,
        # and a numpy.int64 offset breaks json.dumps (the CLI) and Avro (issue 15)
        out.append(Entity(int(a.start_char), int(a.end_char), label, "deduce"))
    return out


# ------------------------------------------------------------------ own name rules

_CAP = r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿA-Z'’\-]+"
_INTERFIX = r"(?:van der|van den|van de|van 't|van|de|der|den|ter|ten|te|in 't|op de|op 't|uit de|'t|el|al|ben|bin|da|di|du|le|la|von|ver|vd)"
_NAME = rf"{_CAP}(?:[ \-](?:{_INTERFIX} )?{_CAP}){{0,2}}|(?:{_INTERFIX} ){_CAP}"
_TITLE_BEFORE = re.compile(
    rf"(?<![\w])(?:(?i:groet(?:jes|en)?|gr\.?|mvg|m\.v\.g\.?|vriendelijke groet|liefs|doei|x{{2,6}}|cheers|namens|"
    rf"ik ben|ik heet|mijn naam is|m'n naam is|naam:|dit is|"
    rf"mijn|m'n|onze|ons|haar|zijn)"
    rf"(?i:\s+(?:buurman|buurvrouw|buren|moeder|vader|ma|pa|zoon|dochter|man|vrouw|vriend|vriendin|collega|opa|oma|"
    rf"broer|zus|neef|nicht|oom|tante|kind|baas|huisbaas|verhuurder|partner|schoonmoeder|schoonvader|ex|"
    rf"zwager|schoonzus|kleinzoon|kleindochter|stiefvader|stiefmoeder))?"
    rf"|(?i:dhr|mevr|mw|mr|hr|mevrouw|meneer|mijnheer|juf|meester|dokter|dr|ir|drs|ing|prof)\.?)"
    rf"[\s,:]+({_NAME})")
_HONORIFIC_INTRO = re.compile(r"(?i)^(?:dhr|mevr|mw|mr|hr|mevrouw|meneer|mijnheer|juf|meester|dokter|dr|ir|drs|ing|prof)\.?$")
_NEEDS_RELATION = re.compile(r"(?i)^(?:mijn|m'n|onze|ons|haar|zijn)$")


_INTRO_LOWER = re.compile(
    r"(?i:groet(?:jes|en)?|gr\.?|mvg|liefs|doei|ik ben|ik heet|mijn naam is|m'n naam is|naam:|beste|hoi|hallo|hey|"
    r"hi|dag|lieve|ik en|en ik|met)[\s,:]+(?=([a-zà-ÿ][a-zà-ÿ'’\-]+)(?![\w@]))")
_TOKEN = re.compile(r"[\wÀ-ÿ'’\-]+")
_INTERFIXES = {"van", "de", "der", "den", "ter", "ten", "te", "in", "'t", "op", "uit", "el", "al", "ben", "bin", "da",
               "di", "du", "le", "la", "von", "ver", "vd"}


class NameRules:
    """Name finding that deduce does not do: social-media context and lowercase names."""

    def __init__(self, first_names: set[str], surnames: set[str], common_words: set[str],
                 lexicon: set[str] | None = None):
        self.first, self.last, self.common = first_names, surnames, common_words
        self.lexicon = lexicon or set()

    @classmethod
    def from_deduce_lists(cls, lookup_dir: Path | None = None) -> "NameRules":
        """Plain name lists shipped with deduce (read as text; no deduce build needed)."""
        if lookup_dir is None:
            spec = importlib.util.find_spec("deduce")
            lookup_dir = Path(spec.origin).parent / "data" / "lookup" / "src"

        def read(*parts) -> set[str]:
            p = lookup_dir.joinpath(*parts, "items.txt")
            return {ln.strip().lower() for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()} if p.exists() else set()

        common = read("whitelist", "lst_common_word") | read("whitelist", "lst_stop_word")
        return cls(read("names", "lst_first_name"), read("names", "lst_surname"), common, dutch_lexicon())

    def find(self, text: str) -> Iterator[Entity]:
        for m in _TITLE_BEFORE.finditer(text):
            intro = m.group(0)[: m.start(1) - m.start(0)].strip(" ,:").lower()
            name = m.group(1)
            if _NEEDS_RELATION.match(intro):
                continue   # "mijn Auto" is no name; "mijn buurman Kees" is
            words = name.split()
            honorific = _HONORIFIC_INTRO.match(intro)
            if len(words) == 1 and not honorific and words[0].lower() in self.common and words[0].lower() not in self.first:
                continue
            yield Entity(m.start(1), m.end(1), "PERSOON")
        # "hoi ik ben lotte": a lowercase first name right after an introduction or greeting
        for m in _INTRO_LOWER.finditer(text):
            w = m.group(1)
            if w.islower() and w in self.first and w not in self.common and w not in self.lexicon:
                yield Entity(m.start(1), m.end(1), "PERSOON")
        # informal lowercase "jan bakker", "henk de vries": a known first name followed by a known surname
        toks = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
        for i, (start, _, word) in enumerate(toks):
            if not word.islower() or word not in self.first or word in self.common or len(word) < 3:
                continue
            j = i + 1
            while j < len(toks) and j - i <= 3 and toks[j][2] in _INTERFIXES:
                j += 1
            if j < len(toks) and toks[j][2].islower() and toks[j][2] in self.last and toks[j][2] not in self.common:
                yield Entity(start, toks[j][1], "PERSOON")

    def common_word(self, word: str) -> bool:
        """A capitalised sentence opener that is an ordinary Dutch word and not a first name ("Groen licht")."""
        w = word.lower()
        return (w in self.lexicon or w in self.common) and w not in self.first


def dutch_lexicon() -> set[str]:
    """Dutch word forms (spaCy's lookup tables, a pinned dependency); empty when not installed."""
    spec = importlib.util.find_spec("spacy_lookups_data")
    if spec is None:
        return set()
    path = Path(spec.origin).parent / "data" / "nl_lemma_index.json.gz"
    if not path.exists():
        return set()
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        index = json.load(fh)
    return {w for words in index.values() for w in words}


# ------------------------------------------------------------------ public role

OFFICE_TITLES = (
    "minister-president", "minister president", "premier", "minister", "staatssecretaris", "vicepremier",
    "burgemeester", "burgervader", "loco-burgemeester", "wethouder", "gedeputeerde", "commissaris van de koning",
    "cdk", "kamerlid", "tweede kamerlid", "eerste kamerlid", "kamervoorzitter", "raadslid", "gemeenteraadslid",
    "statenlid", "fractievoorzitter", "fractieleider", "lijsttrekker", "partijleider", "europarlementariër",
    "eurocommissaris", "koning", "koningin", "prinses", "prins", "dijkgraaf", "ombudsman", "ombudsvrouw",
    "gemeentesecretaris", "secretaris-generaal", "directeur-generaal", "hoofdcommissaris", "korpschef",
    "politiechef", "president", "ambassadeur", "griffier", "voorzitter", "woordvoerder", "informateur", "formateur",
)
PARTIES = ("VVD", "PVV", "CDA", "D66", "GL", "PvdA", "GL-PvdA", "GroenLinks", "SP", "CU", "ChristenUnie", "SGP",
           "PvdD", "FvD", "JA21", "BBB", "NSC", "Volt", "DENK", "50PLUS", "BIJ1")
_TITLE_RX = re.compile(r"(?i)\b(?:" + "|".join(re.escape(t) for t in sorted(OFFICE_TITLES, key=len, reverse=True))
                       + r")(?:\s+(?:van|voor)\s+(?:[A-Z][\w\-]*|de\s+\w+|het\s+\w+)(?:\s+en\s+[A-Z][\w\-]*)?)?"
                       + r"(?:\s*\([\w\-]+\))?[\s,:]*(?:de\s+heer|mevrouw|dhr\.?|mw\.?)?\s*$")
_TITLE_PART = re.compile(r"(?:(?:van|voor) (?:de|het) )?(?:" + "|".join(re.escape(t) for t in OFFICE_TITLES) + ")")
_TITLE_AFTER = re.compile(r"(?i)^\s*(?:,\s*|\(\s*|\s(?:is|was|werd|als)\s+)(?:de\s+|onze\s+|toenmalig\s+|oud-|voormalig\s+)?(?:"
                          + "|".join(re.escape(t) for t in sorted(OFFICE_TITLES, key=len, reverse=True)) + r")\b")
_PARTY_AFTER = re.compile(r"^\s*\((?:" + "|".join(re.escape(p) for p in PARTIES) + r")\)")
_PARTY_BEFORE = re.compile(r"(?:" + "|".join(re.escape(p) for p in PARTIES) + r")(?:-\w+)?\s*$")


_RELATIONS = (r"buurman|buurvrouw|buren|moeder|vader|ma|pa|zoon|dochter|man|vrouw|vriend|vriendin|collega|opa|oma|"
              r"broer|zus|neef|nicht|oom|tante|kind|baas|huisbaas|verhuurder|partner|schoonmoeder|schoonvader|ex|"
              r"zwager|schoonzus|kleinzoon|kleindochter|stiefvader|stiefmoeder|klasgenoot|huisgenoot|overbuurman|"
              r"overbuurvrouw|achterbuurman|achterbuurvrouw|hospita|werkgever|leraar|lerares|docent|juf|meester")
# "mijn buurman Dick Schoof": a private context, whoever else carries the name
_PRIVATE_BEFORE = re.compile(rf"(?i)\b(?:mijn|m'n|mn|onze|ons|haar|zijn|z'n|je|jouw|jullie|hun|die|een|de)\s+"
                             rf"(?:{_RELATIONS})\s*[,:]?\s*$")
_PARTY_VAN = re.compile(r"^\s*(?:van|namens|\(|-|,)\s*(?:de\s+)?(?:" + "|".join(re.escape(p) for p in PARTIES) + r")\b")


class PublicRole:
    """Decides whether a detected name is a public official acting in office (stays readable): an
    office title before or after it, a party, or the maintained list of office holders
    (core/pseudonymise/officials.py) outside a private context."""

    def __init__(self, officials: Iterable[str] = (), figures: PublicFigures | None = None):
        # `officials` (pseudonymisation.public_officials) also switch off the lowercase-name filter
        # in the detector; the registry's names do not
        self.officials = {self.norm(n) for n in officials if n}
        self.surnames = {self.norm(n).split()[-1] for n in officials if n and len(n.split()) > 1}
        self.figures = figures or PublicFigures()

    @staticmethod
    def norm(name: str) -> str:
        return " ".join(name.replace("’", "'").lower().split())

    def private_context(self, text: str, e: Entity) -> bool:
        return bool(_PRIVATE_BEFORE.search(text[max(0, e.start - 40):e.start]))

    def keeps(self, text: str, e: Entity) -> bool:
        span = text[e.start:e.end]
        name = self.norm(span)
        before = text[max(0, e.start - 60):e.start]
        if (name in self.officials or self.figures.name(span)) and not self.private_context(text, e):
            return True
        if _TITLE_RX.search(before):
            return True
        # deduce often takes the title into the span ("Minister Keijzer", "van Financiën Heinen")
        words = list(re.finditer(r"\S+", span))
        for w in words[:-1]:
            if _TITLE_RX.search(before + span[:w.end()]):
                return True
        if _TITLE_PART.fullmatch(name) and _TITLE_RX.search(before + span):
            return True   # "commissaris van de Koning": the span is part of the title
        if _TITLE_AFTER.match(text[e.end:e.end + 50]):
            return True   # "Rutte, premier van ...", "Dijksma (burgemeester)", "Rutte was premier"
        if _PARTY_AFTER.match(text[e.end:e.end + 16]) or _PARTY_BEFORE.search(before[-12:]):
            return True
        if _PARTY_VAN.match(text[e.end:e.end + 24]) and not self.private_context(text, e):
            return True   # "Rob Jetten van D66", "Jimmy Dijk - SP"
        return False
