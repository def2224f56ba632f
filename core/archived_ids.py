"""The archived-ids index: which (event id, record version) pairs a partition has archived,
kept per creation day so that recognising a re-sent event never reads the whole archive.

Why per partition and per day: Kafka keys keep a thread, and so every event id, in one
partition; and a re-sent event carries the same `created_at`. A writer therefore only
needs the ids of the days its records were created on, and loads a day when the first
record of that day arrives: start-up reads nothing, and the work of a lookup grows with
that day's events, not with the archive.

  _ids/{topic}/{partition:05d}/{yyyy-mm-dd}/{start:020d}-{end:020d}.json        one per batch and day
  _ids/{topic}/{partition:05d}/{yyyy-mm-dd}/{start:020d}-{end:020d}.late-{tag}.json   a late write (released holds)
  _ids/{topic}/{partition:05d}/{yyyy-mm-dd}/snapshot-{through:020d}.json        every delta up to `through`

A delta counts once its batch is committed (its end offset lies below the partition's
committed offset): a crashed run's last batch is redone and must not find its own ids.
Late writes never commit (their offsets were committed before), so they always count.
A loader that finds many deltas after the newest snapshot writes a new snapshot.
"""
from __future__ import annotations

import datetime as dt
import re

from archiefstroom.core.layout import safe

PREFIX = "_ids"
COMPACT_AFTER = 64   # deltas after the newest snapshot before a loader writes a new one
_DELTA = re.compile(r"/(\d{20})-(\d{20})(\.late-[0-9a-f]+)?\.json$")
_SNAPSHOT = re.compile(r"/snapshot-(\d{20})\.json$")


def day_of(record: dict) -> dt.date:
    return record["event"]["created_at"].astimezone(dt.timezone.utc).date()


def day_prefix(topic: str, partition: int, day: dt.date) -> str:
    return f"{PREFIX}/{safe(topic)}/{partition:05d}/{day.isoformat()}/"


def delta_key(topic: str, partition: int, day: dt.date, start: int, end: int, *, late: str | None = None) -> str:
    """`late`: the late write's tag (core.layout.late_tag)."""
    return f"{day_prefix(topic, partition, day)}{start:020d}-{end:020d}{f'.late-{late}' if late else ''}.json"


def snapshot_key(topic: str, partition: int, day: dt.date, through: int) -> str:
    return f"{day_prefix(topic, partition, day)}snapshot-{through:020d}.json"


def newest_snapshot(keys: list[str]) -> str | None:
    found = [(int(m[1]), k) for k in keys if (m := _SNAPSHOT.search(k))]
    return max(found)[1] if found else None


def deltas_to_read(keys: list[str], committed: int | None, *, through: int = -1,
                   late_in_snapshot: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """The deltas of one day to read, given every key under its prefix, the partition's
    committed offset (None: nothing committed yet) and what the newest snapshot covers
    (normal batches up to `through`, and the late deltas it names)."""
    out = []
    for k in sorted(keys):
        m = _DELTA.search(k)
        if not m:
            continue
        end, late = int(m[2]), bool(m[3])
        if late:
            if k not in late_in_snapshot:
                out.append(k)
        elif committed is not None and through < end < committed:
            out.append(k)
    return out


def through_of(keys: list[str]) -> int:
    """The last offset of the normal batches among `keys` (deltas)."""
    ends = [int(m[2]) for k in keys if (m := _DELTA.search(k)) and not m[3]]
    return max(ends, default=-1)
