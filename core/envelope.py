"""What flows between pipeline stages.

Main collections carry *archive record datums*: plain dicts shaped like
schemas/archive_record.avsc (`{"event": ..., "source": ..., ...}`); each stage
adds its own fields. Anything that will not be archived leaves the main flow as
a `Disposition` on a side output, and all dispositions are flattened back into
the sink, which must see every Kafka offset once to commit safely: nothing is
dropped silently.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

# dead_letter: bad input (not JSON, not UTF-8, too big, not valid against the schema)
# dropped:     valid, but the archiving rules say it is not archived (reason says which rule)
# duplicate:   an event id that is already in the archive
# held:        waiting in state for a later decision (rule 5); archived or dropped later
# quarantine:  a stage failed on it (e.g. pseudonymisation): kept out of the archive, fail closed
# handover:    a confirmed burgerbrief leaves the social-media archive for the burgerbrief procedure
#              (burgerbrief.keep_in_social_archive: false); its new version goes to the handover topic
Kind = Literal["dead_letter", "dropped", "duplicate", "held", "quarantine", "handover"]


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


# -- the raw topic's message contract ------------------------------------------------

EVENT_TIME_HEADER = "event_time"


def thread_key(event: dict) -> str | None:
    """The one thread key: the thread's root, else the post replied to, else the object itself.
    It keys the raw topic (a thread stays in one partition, in order), the rules' per-thread
    state and the burgerbrief alerts (webcare reads a thread's alerts in order). None only for
    a document without ids (it will be dead-lettered)."""
    return event.get("thread_root") or event.get("in_reply_to") or event.get("object_id")


def raw_message(doc: dict) -> tuple[bytes | None, list[tuple[str, bytes]]]:
    """Kafka key and headers for a SocialEvent in wire form on the raw topic.

    Key: `thread_key`, so one thread stays in one partition, in order.
    Header `event_time`: created_at in epoch milliseconds. The source takes its event-time
    watermark from it (rule holds expire by event time). It is a header, not the record's
    timestamp: that stays the append time, so the broker's time-based retention never
    deletes a backfill of old events before it is archived."""
    key = str(thread_key(doc) or "").encode() or None
    ms = _epoch_ms(doc.get("created_at"))
    return key, ([(EVENT_TIME_HEADER, str(ms).encode())] if ms is not None else [])


def event_time_ms(headers, default: int | None) -> int | None:
    """The `event_time` header of a Kafka record, else `default` (its Kafka timestamp)."""
    for name, value in headers or ():
        if name == EVENT_TIME_HEADER:
            try:
                return int(value)
            except (TypeError, ValueError):
                break
    return default


def _epoch_ms(value) -> int | None:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return int(value.timestamp() * 1000)
