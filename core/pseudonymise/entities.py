"""Entity spans and the labels the pseudonymiser knows.

Offsets always point into the ORIGINAL text (what the citizen wrote), so an
annotation can be checked against the source and a vault entry lines up with it.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass

# label -> token prefix in the pseudonymised text ([PERSOON-7f3a2c], [TEL-91b0d4], ...)
LABELS = {
    "PERSOON": "PERSOON",
    "ACCOUNT": "ACCOUNT",        # @handle / user id of a private person
    "EMAIL": "EMAIL",
    "TEL": "TEL",
    "BSN": "BSN",
    "IBAN": "IBAN",
    "POSTCODE": "POSTCODE",
    "ADRES": "ADRES",            # street + house number
    "WOONPLAATS": "PLAATS",      # a place name that is part of an address
    "KENTEKEN": "KENTEKEN",
    "GEBOORTEDATUM": "DATUM",
    "DOSSIER": "DOSSIER",        # case, dossier, customer or reference number
    "URL": "URL",                # a URL that identifies a person (profile, avatar, status of a private person)
}

# When two detections overlap, the one whose label comes first wins (structured, validated identifiers
# are more certain than a name guess); its span is widened to cover both so nothing leaks.
PRIORITY = {label: i for i, label in enumerate(
    ["EMAIL", "URL", "IBAN", "BSN", "TEL", "KENTEKEN", "POSTCODE", "DOSSIER", "GEBOORTEDATUM", "ACCOUNT",
     "ADRES", "PERSOON", "WOONPLAATS"])}


@dataclass(frozen=True, order=True)
class Entity:
    start: int
    end: int
    label: str
    source: str = "own"   # which recognizer found it: own | deduce | known (record-level value)

    def __post_init__(self):
        # offsets are plain ints whatever computed them (issue 15: numpy.int64 from deduce's overlap
        # resolver reached json.dumps); operator.index takes any integer type and refuses floats
        if type(self.start) is not int:
            object.__setattr__(self, "start", operator.index(self.start))
        if type(self.end) is not int:
            object.__setattr__(self, "end", operator.index(self.end))

    def datum(self) -> dict:
        return {"start": self.start, "end": self.end, "label": self.label}


def resolve(entities: list[Entity]) -> list[Entity]:
    """Non-overlapping spans, sorted. Overlaps merge into one span with the highest-priority label."""
    out: list[Entity] = []
    for e in sorted(entities, key=lambda e: (e.start, -(e.end - e.start))):
        if e.end <= e.start:
            continue
        if out and e.start < out[-1].end:
            prev = out[-1]
            label = prev.label if PRIORITY.get(prev.label, 99) <= PRIORITY.get(e.label, 99) else e.label
            source = prev.source if label == prev.label else e.source
            out[-1] = Entity(prev.start, max(prev.end, e.end), label, source)
        else:
            out.append(e)
    return out
