"""Who stays readable although named (issue 15): public office holders and organisations.

The list is a versioned registry (deploy/registry/office_holders.yaml, read strictly by
ground/registries.load_public_figures): office holders by name (and, for rare surnames, by
surname alone) and by handle, organisations' handles and person-like organisation names.
Besides the list, a handle is recognisably an organisation when it starts with the word of
a public body ("gemeente…", "provincie…", "politie…", "ministerie…", "ggd…").

A listed name in a private context ("mijn buurman Dick Schoof", "mijn moeder Femke Halsema")
is still pseudonymised: the list says who holds an office, not that every bearer of the
name does.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Annotated, Iterable

from archiefstroom.core.fields import check

_version = re.compile(r"^\d{4}\.\d{2}-\d+$")
_handle = re.compile(r"^@?[A-Za-z0-9_.\-]+$")


@dataclass
class OfficeHolder:
    name: Annotated[str, check(lambda v: len(v.split()) >= 1 and len(v.strip()) >= 3, "a person's name")]
    office: Annotated[str, check(lambda v: bool(v.strip()), "the office, e.g. 'burgemeester van Utrecht'")]
    since: dt.date | None = None
    until: dt.date | None = None          # the last day in office; ended entries stay (old texts name them)
    also: list[str] = field(default_factory=list)     # other spellings ("Dilan Yesilgoz")
    # the surname alone means this person ("Schoof zei"): only for rare surnames
    surname_alone: bool = False
    handles: Annotated[list[str], check(lambda v: all(_handle.match(h) for h in v),
                                        "handles of letters, digits, '_', '.', '-'")] = field(default_factory=list)

    def validate(self):
        if self.since and self.until and self.until < self.since:
            raise ValueError("until: expected a date on or after since")


@dataclass
class PublicOrganisations:
    handles: Annotated[list[str], check(lambda v: all(_handle.match(h) for h in v),
                                        "handles of letters, digits, '_', '.', '-'")] = field(default_factory=list)
    names: list[str] = field(default_factory=list)    # organisation names that look like a person's name


@dataclass
class PublicFiguresFile:
    """deploy/registry/office_holders.yaml."""
    version: Annotated[str, check(lambda v: bool(_version.match(v)), "a version YYYY.MM-n")]
    date: dt.date                                      # the day the sources were last checked
    source: Annotated[str, check(lambda v: bool(v.strip()), "where the list comes from")]
    office_holders: list[OfficeHolder] = field(default_factory=list)
    organisations: PublicOrganisations = field(default_factory=PublicOrganisations)


def norm(name: str) -> str:
    return " ".join(name.replace("’", "'").replace("-", " ").casefold().split())


# a handle that is recognisably a public body: the body's word first ("gemeenteutrecht", "Politie_Utrecht",
# "ProvincieGelderland", "ggdhaaglanden", "MinVWS")
_ORG_HANDLE = re.compile(
    r"(?i:^(?:gemeente|gem_|provincie|prov_|ministerie|politie|brandweer|ggd|waterschap|hoogheemraadschap|"
    r"veiligheidsregio|rijkswaterstaat|rijksoverheid|omgevingsdienst|rechtspraak|rechtbank|gerechtshof|"
    r"belastingdienst|toeslagen|defensie|koninklijke|stichting|omroep|nosjournaal|nos_|rtlnieuws|nieuwsuur|"
    r"openbaarministerie|tweedekamer|eerstekamer|raadvanstate|rekenkamer|ombudsman|nationaleombudsman|"
    r"uwv|svb|duo_|kvk|rvo|rivm|knmi|cbs_|nvwa|cjib|ind_))"
    r"|^Min[A-Z][A-Za-z]{1,12}$"                      # MinVWS, MinFin, MinPres: case decides
    r"|(?i:_(?:gemeente|politie|brandweer|ggd|provincie)$)")


class PublicFigures:
    """Lookups over a PublicFiguresFile (or names given in code: `pseudonymisation.public_officials`)."""

    def __init__(self, registry: PublicFiguresFile | None = None, extra_names: Iterable[str] = ()):
        holders = registry.office_holders if registry else []
        orgs = registry.organisations if registry else PublicOrganisations()
        self.version = registry.version if registry else None
        self.names = {norm(n) for h in holders for n in (h.name, *h.also)} | {norm(n) for n in extra_names if n}
        self.surnames = {norm(_surname(n)) for h in holders if h.surname_alone for n in (h.name, *h.also)}
        self.org_names = {norm(n) for n in orgs.names}
        self.handles = {h.lstrip("@").lower() for h in (*orgs.handles, *(x for h in holders for x in h.handles))}

    def name(self, span: str) -> bool:
        """`span` (a detected name) is a listed office holder or a person-like organisation name."""
        n = norm(span)
        return n in self.names or n in self.surnames or n in self.org_names

    def handle(self, handle: str) -> bool:
        """An @handle (without '@', any case, `user@instance` too) that stays readable."""
        h = handle.lstrip("@").lower()
        return h in self.handles or h.split("@")[0] in self.handles or \
            bool(_ORG_HANDLE.search(handle.lstrip("@").split("@")[0]))


_INTERFIX = {"van", "de", "der", "den", "ter", "ten", "te", "het", "'t", "in", "op"}


def _surname(name: str) -> str:
    """'Caroline van der Plas' -> 'van der Plas'; 'Dick Schoof' -> 'Schoof'."""
    words = name.split()
    i = len(words) - 1
    while i > 1 and words[i - 1].lower() in _INTERFIX:
        i -= 1
    return " ".join(words[i:]) if len(words) > 1 else name
