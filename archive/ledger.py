"""The ledger of a batch: its offset range, its objects and every offset's fate.

Written first (the intent), so a run that crashed mid-batch redoes the batch with the
same boundaries and object names. Event ids of items that are not archived may hold
personal data (a citizen's handle in a reaction id); they are keyed tokens here.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from archiefstroom.core import layout
from archiefstroom.core.envelope import Disposition, position_of


@dataclass
class BatchResult:
    """What one committed batch did (the sink's output and its counters)."""
    topic: str
    partition: int
    start: int
    end: int
    counts: Counter = field(default_factory=Counter)
    objects: list[str] = field(default_factory=list)
    bytes_written: int = 0   # of the objects' Avro bodies


def identity(record: dict) -> tuple[str, int]:
    """What makes an archive record unique: a webcare verdict adds a new version of an event."""
    return record["event"]["event_id"], int(record.get("record_version") or 1)


def key(topic: str, partition: int, start: int, end: int, late_tag: str | None) -> str:
    """Ledger object key; a late batch (released holds below the committed offset) gets its own."""
    base = layout.ledger_key(topic, partition, start)
    return base.replace(".json", f".late-{end}-{late_tag}.json") if late_tag else base


def disposition_entry(item: Disposition, token) -> dict:
    return {"offset": position_of(item).offset, "event_id": layout.ledger_event_id(item.event_id, token),
            "kind": item.kind, "reason": item.reason,
            "detail": {k: v for k, v in item.detail.items() if k != "hold_payload"}}


def archived_entry(record: dict, object_key: str) -> dict:
    fired = [t["rule"] for t in ((record.get("decision") or {}).get("rules") or []) if t.get("fired")]
    ev = record["event"]
    return {"offset": position_of(record).offset, "event_id": ev["event_id"], "kind": "archived",
            "object": object_key, "record_version": record.get("record_version") or 1,
            "rule": fired[-1] if fired else None,
            "platform": ev["platform"], "account": layout.safe(ev["account"]["handle"] or ev["account"]["id"])}


def document(topic: str, partition: int, start: int, end: int, late: bool, objects, entries: list[dict],
             counts: Counter) -> dict:
    return {"topic": topic, "partition": partition, "start": start, "end": end, "late": late,
            "objects": sorted(objects), "entries": entries, "counts": dict(counts)}
