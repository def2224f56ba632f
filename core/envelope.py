"""What flows between pipeline stages.

Main collections carry *archive record datums*: plain dicts shaped like
schemas/archive_record.avsc (`{"event": ..., "source": ..., ...}`); each stage
adds its own fields. Anything that will not be archived leaves the main flow as
a `Disposition` on a side output, and all dispositions are flattened back into
the sink, which must see every Kafka offset once to commit safely: nothing is
dropped silently.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# dead_letter: bad input (not JSON, not UTF-8, too big, not valid against the schema)
# dropped:     valid, but the archiving rules say it is not archived (reason says which rule)
# duplicate:   an event id that is already in the archive
# held:        waiting in state for a later decision (rule 5); archived or dropped later
# quarantine:  a stage failed on it (e.g. pseudonymisation): kept out of the archive, fail closed
Kind = Literal["dead_letter", "dropped", "duplicate", "held", "quarantine"]


@dataclass(frozen=True)
class Position:
    topic: str
    partition: int
    offset: int

    def datum(self) -> dict:
        return {"topic": self.topic, "partition": self.partition, "offset": self.offset}

    @classmethod
    def of(cls, record: dict) -> "Position":
        s = record["source"]
        return cls(s["topic"], int(s["partition"]), int(s["offset"]))


@dataclass(frozen=True)
class Disposition:
    position: Position
    kind: Kind
    reason: str
    event_id: str | None = None
    payload: bytes | None = None   # original bytes, only for dead_letter / quarantine topics
    detail: dict = field(default_factory=dict)  # no personal data: rule names, counts, ids


def position_of(element) -> Position:
    return element.position if isinstance(element, Disposition) else Position.of(element)
