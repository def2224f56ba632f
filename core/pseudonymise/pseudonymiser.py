"""Free text in, pseudonymised text out: detected spans become keyed tokens.

`pseudonymise_text` is the library function usable on its own (the CLI uses it);
record-level treatment (author fields, mentions, raw payload) is in record.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from archiefstroom.core.pseudonymise.detector import Detector
from archiefstroom.core.pseudonymise.entities import Entity, resolve
from archiefstroom.core.pseudonymise.keys import KeyRing


@dataclass
class TextResult:
    text: str
    entities: list[Entity]
    mappings: dict[str, tuple[str, str]] = field(default_factory=dict)   # token -> (label, original value)


def replace_spans(text: str, entities: list[Entity], ring: KeyRing) -> TextResult:
    """Replace resolved spans (offsets into `text`) with their tokens."""
    out, last, mappings = [], 0, {}
    for e in entities:
        original = text[e.start:e.end]
        token = ring.token(e.label, original)
        mappings[token] = (e.label, original)
        out.append(text[last:e.start])
        out.append(token)
        last = e.end
    out.append(text[last:])
    return TextResult("".join(out), entities, mappings)


def pseudonymise_text(text: str | None, detector: Detector, ring: KeyRing,
                      extra: list[Entity] | None = None) -> TextResult:
    """Detect and replace. `extra` adds spans found otherwise (e.g. the author's own name)."""
    if not text:
        return TextResult(text or "", [])
    entities = detector.detect(text)
    if extra:
        entities = resolve([*entities, *extra])
    return replace_spans(text, entities, ring)
