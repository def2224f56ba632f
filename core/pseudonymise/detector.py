"""Finds personal data in free text by combining deduce with the own recognizers.

Three modes, measured against each other by `archiefstroom pseudonymise eval`:
  deduce    deduce's full annotator set, mapped onto our labels
  own       the own recognizers and name rules only (no deduce lookup structures)
  combined  deduce for names and streets, own recognizers for everything structured
The same post-processing applies to all three: a place counts only when it is part
of an address, and officials named in their public role stay readable.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Iterable, Literal

from archiefstroom.core.pseudonymise import recognizers
from archiefstroom.core.pseudonymise.entities import Entity, resolve
from archiefstroom.core.pseudonymise.names import NameRules, PublicRole, deduce_engine, deduce_entities
from archiefstroom.core.pseudonymise.officials import PublicFigures, PublicFiguresFile

Mode = Literal["combined", "deduce", "own"]
_HONORIFIC = re.compile(r"(?i)(?:dhr|mevr|mw|mr|hr|mevrouw|meneer|mijnheer|familie|fam|heer|juf|meester|dokter|dr)\.?$")
_PLACE_NOUNS = {"arena", "stadion", "museum", "school", "basisschool", "college", "ziekenhuis", "universiteit",
                "plein", "instituut", "fonds", "stichting", "prijs", "zaal", "theater", "kazerne", "tunnel",
                "bibliotheek", "moskee", "lyceum", "gymnasium", "academie", "kliniek", "gebouw", "festival",
                "award", "lezing", "brug", "kanaal", "straat", "laan", "gracht", "singel"}
_ADDRESS_GAP = re.compile(r"^(?:,\s*|\s+(?:in|te)\s+|\s+)$")


class Detector:
    def __init__(self, mode: Mode = "combined", *, keep_handle: Callable[[str], bool] = lambda h: False,
                 officials: Iterable[str] = (), deduce_cache: Path | None = None,
                 figures: PublicFigures | PublicFiguresFile | None = None):
        """`figures`: the office-holder registry (ground/registries.load_public_figures); None = no
        list (the office-title and organisation-handle rules still apply)."""
        self.mode = mode
        if not isinstance(figures, PublicFigures):
            figures = PublicFigures(figures)
        self.figures = figures
        self.keep_handle = self._public_handle(keep_handle)
        self.public = PublicRole(officials, figures)
        self.rules = NameRules.from_deduce_lists()
        self.engine = deduce_engine(deduce_cache) if mode in ("combined", "deduce") else None

    def detect(self, text: str, keep_handle: Callable[[str], bool] | None = None) -> list[Entity]:
        """Resolved, non-overlapping entities with offsets into `text`. `keep_handle` overrides the
        detector's public-handle test for this call (per record: the monitored account is public)."""
        if not text:
            return []
        keep_handle = self._public_handle(keep_handle) if keep_handle else self.keep_handle
        found: list[Entity] = []
        if self.mode in ("own", "combined"):
            found += recognizers.find(text, keep_handle)
            found += self.rules.find(text)
        if self.engine is not None:
            found += deduce_entities(self.engine, text, names_only=self.mode == "combined")
            if self.mode == "deduce":
                # deduce has no notion of @handles; give it the same handle view so the comparison is about text
                found += recognizers.find(text, keep_handle, labels=("ACCOUNT",))
        return self._post(text, found)

    def _public_handle(self, keep: Callable[[str], bool]) -> Callable[[str], bool]:
        """The caller's public accounts plus the registry's and recognisable organisations' handles."""
        figures = self.figures
        return lambda h: keep(h) or figures.handle(h)

    def _post(self, text: str, found: list[Entity]) -> list[Entity]:
        anchors = [e for e in found if e.label in ("ADRES", "POSTCODE")]
        out = []
        for e in found:
            if e.label == "PLAATS?":
                if any(a.end <= e.start and _ADDRESS_GAP.match(text[a.end:e.start]) for a in anchors):
                    out.append(Entity(e.start, e.end, "WOONPLAATS", e.source))
                continue
            if e.label == "PERSOON" and (self.public.keeps(text, e) or self._not_a_name(text, e)):
                continue
            out.append(e)
        return resolve(out)

    def _not_a_name(self, text: str, e: Entity) -> bool:
        """deduce's surname lookup fires on capitalised ordinary words and on 'op de Dam'."""
        if e.source != "deduce":
            return False
        span = text[e.start:e.end]
        words = span.split()
        after = text[e.end:e.end + 20].split()
        # "Johan Cruijff Arena", "Jan Steen museum", "Beatrix ziekenhuis": a name inside a place or institution name
        if words[-1].lower() in _PLACE_NOUNS or (after and after[0].lower().strip(".,!?") in _PLACE_NOUNS):
            return True
        before = text[:e.start].rstrip()
        sentence_start = not before or before[-1] in ".!?:;\n\"'(" or before.endswith(("...", "…"))
        if len(words) == 1 and sentence_start and self.rules.common_word(words[0]):
            return True
        if span[0].islower() and not _HONORIFIC.search(before[-12:]) and not self.public.officials:
            return not any(w.lower() in self.rules.first for w in words[:1])
        return False
